"""The passage tokenizer with its vocabulary cut to the pieces Vietnamese text can use.

``tokenizers`` builds its unigram model as a trie of all 250,002 pieces of the multilingual
vocabulary: ≈ 300 MiB resident in every ingesting process, close to a third of the 1 GiB a small
ingest may use. Most of those pieces are Chinese, Arabic, Cyrillic… and can never be chosen for
a Vietnamese passage.

Why cutting them changes nothing: the Viterbi search only considers pieces that occur in the
text. If every character of a (normalized) text belongs to ``CHARSET``, every piece that can
occur in it is made of ``CHARSET`` characters, so the search over just those pieces (≈ 93k)
finds the same path with the same scores, provided the score of an unknown character (10 below
the lowest score of the vocabulary) is unchanged: the lowest-scoring piece is kept. Token ids
are mapped back to the full vocabulary's ids. A text holding any other character is not
tokenized here (``outside`` tells the caller), and goes to the exact slower path.

The cut vocabulary is written once beside the converted folder (``passage_vocabulary.npz``, by
`assistant setup`, or by the first ingest that lacks it) and is tied to the folder's conversion
marker and to ``CHARSET``: a rebuilt folder or another character set makes it stale.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.embed.convert import conversion_hash, read_tied_npz, write_tied_npz

FILE_NAME = "passage_vocabulary.npz"
_FORMAT = 1


def _vietnamese_letters() -> str:
    """Every precomposed Vietnamese letter, both cases (vowels with each of the five tones)."""
    vowels = "aăâeêioôơuưy"
    tones = ("", "\u0300", "\u0301", "\u0303", "\u0309", "\u0323")
    letters = {
        unicodedata.normalize("NFC", v + tone) for v in vowels + vowels.upper() for tone in tones
    }
    return "".join(sorted(letters | set("đĐ")))


# Printable ASCII, the Vietnamese letters, the metaspace the normalizer writes for spaces, and
# the typographic marks of administrative documents. Characters are cheap to add, pieces are
# not: each one admits the vocabulary's pieces made of it and the characters already here.
CHARSET = "".join(
    sorted(
        {chr(c) for c in range(0x20, 0x7F)}
        | set(_vietnamese_letters())
        | set("\u2581–—“”‘’…•«»°§№")
    )
)

_OUTSIDE = re.compile("[^" + re.escape(CHARSET) + "]")

I64 = npt.NDArray[np.int64]


def cut_tokenizer_json(data: dict[str, Any], charset: str = CHARSET) -> tuple[str, I64]:
    """(the tokenizer's JSON with only the pieces made of ``charset``, their ids in the full
    vocabulary). ``data`` is the folder's ``tokenizer.json`` as read, normalizer included."""
    model = data["model"]
    if model.get("type") != "Unigram" or model.get("byte_fallback"):
        raise ValueError("only a unigram vocabulary without byte fallback can be cut")
    vocab: list[list[Any]] = model["vocab"]
    allowed = set(charset)
    special = {int(model["unk_id"])}
    for entry in (data.get("post_processor") or {}).get("special_tokens", {}).values():
        special.update(int(i) for i in entry["ids"])
    special.update(int(token["id"]) for token in data.get("added_tokens") or [])
    # The unknown character's score is derived from the lowest score: keep that piece.
    special.add(min(range(len(vocab)), key=lambda i: float(vocab[i][1])))
    keep = [i for i, (piece, _) in enumerate(vocab) if i in special or set(piece) <= allowed]
    new_id = {old: new for new, old in enumerate(keep)}
    cut = dict(data)
    cut["model"] = {**model, "vocab": [vocab[i] for i in keep], "unk_id": new_id[int(model["unk_id"])]}
    if data.get("post_processor"):
        post = json.loads(json.dumps(data["post_processor"]))
        for entry in post.get("special_tokens", {}).values():
            entry["ids"] = [new_id[int(i)] for i in entry["ids"]]
        cut["post_processor"] = post
    cut["added_tokens"] = [
        {**token, "id": new_id[int(token["id"])]} for token in data.get("added_tokens") or []
    ]
    return json.dumps(cut, ensure_ascii=False), np.asarray(keep, dtype=np.int64)


@dataclass
class PassageVocabulary:
    """The cut tokenizer (``tokenizers.Tokenizer``, whole pipeline) and the way back to the full
    vocabulary's ids."""

    tokenizer_json: str
    full_ids: I64

    @staticmethod
    def outside(text: str) -> bool:
        """Whether ``text`` (already through the character table) holds a character the cut
        vocabulary cannot answer for."""
        return _OUTSIDE.search(text) is not None


def write_passage_vocabulary(folder: Path) -> Path | None:
    """Write the cut vocabulary beside a converted folder (a no-op when current).

    Returns the file, or None when the folder has no conversion marker to tie it to."""
    if conversion_hash(folder) is None:
        return None
    if load_passage_vocabulary(folder) is not None:
        return folder / FILE_NAME
    data = json.loads((folder / "tokenizer.json").read_text("utf-8"))
    tokenizer_json, full_ids = cut_tokenizer_json(data)
    del data
    arrays: dict[str, np.ndarray] = {
        "tokenizer": np.frombuffer(tokenizer_json.encode("utf-8"), np.uint8),
        "full_ids": full_ids.astype(np.int32),
    }
    return write_tied_npz(folder, FILE_NAME, {"format": _FORMAT, "charset": CHARSET}, arrays)


def load_passage_vocabulary(folder: Path) -> PassageVocabulary | None:
    """The cut vocabulary written for this very conversion of ``folder`` and this ``CHARSET``,
    else None (missing, damaged, stale)."""
    found = read_tied_npz(
        folder, FILE_NAME, {"format": _FORMAT, "charset": CHARSET}, "tokenizer", "full_ids"
    )
    if found is None:
        return None
    try:
        tokenizer_json = found[1]["tokenizer"].tobytes().decode("utf-8")
    except UnicodeDecodeError:
        return None
    return PassageVocabulary(tokenizer_json, found[1]["full_ids"].astype(np.int64))
