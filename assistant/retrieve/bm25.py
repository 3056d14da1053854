"""Lexical retrieval over chunks with bm25s and the Vietnamese tokenizer.

bm25s cannot add or remove documents, so the index is rebuilt from all chunks. The build
streams: each chunk is tokenized once, its distinct tokens and counts go to small spill files,
and the score matrix (bm25s's compressed sparse column layout and file format, bm25s's own
term-frequency and idf formulas) is assembled from them at the end. Memory therefore grows
with the number of scored (chunk, token) pairs — 8 bytes each — never with Python lists of
token strings, which is what made a 10k-notice archive (≈340k chunks) need more than 8 GiB.

Filter metadata is kept per notice, not per chunk (the filters are notice facts: issuer,
level, dates, notice id), with one notice number per chunk, so a filter becomes a boolean
mask over chunks in one NumPy step. A saved index is opened memory-mapped: start-up reads
the vocabulary and the notice table, not the score matrix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import uuid
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

import bm25s
import numpy as np
from bm25s.scoring import _build_idf_array, _select_idf_scorer, _select_tfc_scorer

from assistant.chunk import CHUNKER_VERSION, Chunk, MetadataValue
from assistant.errors import IndexStateError
from assistant.retrieve.tokenize import TOKENIZER_VERSION, tokenize

# bm25s sets its own logger to DEBUG when imported; its progress chatter is not for users.
logging.getLogger("bm25s").setLevel(logging.WARNING)

_META_FILE = "notices.json"
_IDS_FILE = "chunk_ids.npy"
_NOTICE_OF_CHUNK_FILE = "chunk_notice.npy"
_FORMAT = 2
# Chunk-level keys; everything else in a chunk's metadata describes its notice.
_CHUNK_KEYS = frozenset({"part", "start", "end", "heading"})
# Raw (chunk, token) occurrences buffered before they are reduced to distinct pairs and
# spilled to disk: bounds the build's memory independently of the archive's size.
_SPILL_TOKENS = 4_000_000
# Score-matrix entries built in memory at once (8 bytes each) before they are written out.
_BLOCK_PAIRS = 8_000_000
# bm25s's file names for the two long arrays of the score matrix.
_DATA_FILE = "data.csc.index.npy"
_INDICES_FILE = "indices.csc.index.npy"

# Below this idf (a token in more than ≈97% of chunks) a column adds at most ≈0.08 to a
# score, noise next to the 2–10 of a real match.
_NEGLIGIBLE_IDF = 0.03

NoticePredicate = Callable[[Mapping[str, MetadataValue]], bool]


def bm25_identity(max_chars: int) -> str:
    """Identity of a BM25 index: tokenizer + chunker version + chunk parameters."""
    key = f"tokenizer={TOKENIZER_VERSION}|chunker={CHUNKER_VERSION}|max_chars={max_chars}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class BM25Index:
    """BM25 over ``Chunk.index_text``; ``search`` returns ``(chunk_id, score)`` best first."""

    def __init__(self, identity: str = "") -> None:
        self.identity = identity
        self._ids: np.ndarray = np.array([], dtype="S1")
        self._notice_of_chunk: np.ndarray = np.array([], dtype=np.int32)
        self._notices: list[dict[str, MetadataValue]] = []
        self._retriever: bm25s.BM25 | None = None

    def __len__(self) -> int:
        return len(self._ids)

    @property
    def ids(self) -> list[str]:
        return [raw.decode("ascii") for raw in self._ids.tolist()]

    def is_current(self, identity: str) -> bool:
        return self.identity == identity

    # --- building -----------------------------------------------------------------------

    def build(self, chunks: Iterable[Chunk], identity: str | None = None) -> None:
        """Replace the whole index with ``chunks`` (duplicate ids keep the first), in memory."""
        if identity is not None:
            self.identity = identity
        with tempfile.TemporaryDirectory(prefix="bm25-build-") as work:
            _write_files(Path(work), chunks, self.identity)
            built = BM25Index.load(Path(work), mmap=False)
        self._take(built)

    @classmethod
    def write(cls, directory: Path, chunks: Iterable[Chunk], identity: str) -> BM25Index:
        """Build from ``chunks`` straight into ``directory`` (atomically replaced) and return
        the index opened from it. This is the path for large archives: the chunks are read
        once, as a stream, and nothing proportional to their text stays in memory."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            _write_files(tmp, chunks, identity)
            _replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return cls.load(directory)

    def _take(self, other: BM25Index) -> None:
        self.identity = other.identity
        self._ids = other._ids
        self._notice_of_chunk = other._notice_of_chunk
        self._notices = other._notices
        self._retriever = other._retriever

    # --- searching ----------------------------------------------------------------------

    def mask_where(self, predicate: NoticePredicate) -> np.ndarray:
        """Boolean mask over chunks whose notice's metadata satisfies ``predicate``."""
        keep = np.fromiter((predicate(meta) for meta in self._notices), dtype=bool, count=len(self._notices))
        if not len(self._ids):
            return np.zeros(0, dtype=bool)
        return keep[self._notice_of_chunk]

    def ids_where(self, predicate: NoticePredicate) -> set[str]:
        """Chunk ids whose notice's metadata satisfies ``predicate`` (e.g. ``Filters.matches``)."""
        return {raw.decode("ascii") for raw in self._ids[self.mask_where(predicate)].tolist()}

    def search(
        self, query: str, k: int, where: NoticePredicate | None = None
    ) -> list[tuple[str, float]]:
        """Top ``k`` chunks sharing at least one token with ``query``, best first; ``where``
        (a predicate on the notice's metadata) restricts the candidates."""
        if self._retriever is None or k <= 0:
            return []
        token_ids = self._retriever.get_tokens_ids(tokenize(query))
        if not token_ids:
            return []
        scores = self._scores(token_ids)
        if where is not None:
            scores[~self.mask_where(where)] = 0.0
        candidates = np.flatnonzero(scores > 0)
        if len(candidates) > k:
            # Keep everything tied with the k-th best, so the stable sort below decides ties
            # by index order exactly as a full sort would.
            kth = np.partition(scores[candidates], len(candidates) - k)[len(candidates) - k]
            candidates = candidates[scores[candidates] >= kth]
        order = candidates[np.argsort(-scores[candidates], kind="stable")][:k]
        return [(self._ids[i].decode("ascii"), float(scores[i])) for i in order]

    def _scores(self, token_ids: list[int], skip_common: bool = True) -> np.ndarray:
        """BM25 score of every chunk: the sum of the query tokens' precomputed columns.
        One ``bincount`` over the concatenated posting lists instead of bm25s's per-token
        ``np.add.at``, which is several times slower on the long lists of a large archive."""
        assert self._retriever is not None
        matrix = self._retriever.scores
        indptr, indices, data = matrix["indptr"], matrix["indices"], matrix["data"]
        tokens, repeats = np.unique(np.asarray(token_ids, dtype=np.int64), return_counts=True)
        starts, ends = indptr[tokens], indptr[tokens + 1]
        # A token found in (nearly) every chunk — the notice line's "tại", a province name
        # in a one-province archive — has an idf near zero: its column adds at most
        # idf * (k1 + 1) to any score yet is the longest column to read. Skip such columns
        # while the query has others.
        informative = _idf(ends - starts, len(self._ids)) >= _NEGLIGIBLE_IDF
        if skip_common and informative.any():
            tokens, repeats, starts, ends = (a[informative] for a in (tokens, repeats, starts, ends))
        rows = np.concatenate([indices[start:end] for start, end in zip(starts, ends, strict=True)])
        weights = np.concatenate(
            [data[start:end] * repeat for start, end, repeat in zip(starts, ends, repeats, strict=True)]
        )
        return np.bincount(rows, weights=weights, minlength=len(self._ids))

    # --- persistence --------------------------------------------------------------------

    def save(self, directory: Path) -> None:
        """Write the index to ``directory`` atomically: readers see the old or the new one."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = directory.parent / f".{directory.name}.tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        try:
            if self._retriever is not None:
                self._retriever.save(str(tmp), show_progress=False)
            np.save(tmp / _IDS_FILE, self._ids)
            np.save(tmp / _NOTICE_OF_CHUNK_FILE, self._notice_of_chunk)
            _write_meta(tmp, self.identity, self._notices)
            _replace_dir(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    @classmethod
    def load(cls, directory: Path, mmap: bool = True) -> BM25Index:
        directory = Path(directory)
        try:
            meta = json.loads((directory / _META_FILE).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise IndexStateError(
                f"Chưa có chỉ mục BM25 tại {directory} (hoặc chỉ mục thuộc phiên bản cũ); "
                "hãy chạy 'assistant reindex'."
            ) from exc
        except (OSError, ValueError) as exc:
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} bị hỏng; hãy chạy 'assistant reindex'."
            ) from exc
        if meta.get("format") != _FORMAT or meta.get("tokenizer") != TOKENIZER_VERSION:
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} thuộc phiên bản cũ; hãy chạy 'assistant reindex'."
            )
        index = cls(identity=str(meta.get("identity", "")))
        try:
            index._notices = list(meta["notices"])
            index._ids = np.load(directory / _IDS_FILE, mmap_mode="r" if mmap else None)
            index._notice_of_chunk = np.load(
                directory / _NOTICE_OF_CHUNK_FILE, mmap_mode="r" if mmap else None
            )
            if len(index._ids):
                index._retriever = bm25s.BM25.load(str(directory), mmap=mmap, show_progress=False)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} bị hỏng; hãy chạy 'assistant reindex'."
            ) from exc
        if len(index._notice_of_chunk) != len(index._ids):
            raise IndexStateError(
                f"Chỉ mục BM25 tại {directory} bị hỏng; hãy chạy 'assistant reindex'."
            )
        return index


# --- the streaming build ------------------------------------------------------------------


class _Spill:
    """Distinct (chunk, token, count) triples of the chunks seen so far, in files."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.parts: list[Path] = []
        self.pairs = 0
        self._chunk = array("i")
        self._token = array("i")

    def add(self, chunk_number: int, token_ids: list[int]) -> None:
        self._token.extend(token_ids)
        self._chunk.extend([chunk_number] * len(token_ids))
        if len(self._token) >= _SPILL_TOKENS:
            self.flush()

    def flush(self) -> None:
        if not self._token:
            return
        chunk = np.frombuffer(self._chunk, dtype=np.int32).astype(np.int64)
        token = np.frombuffer(self._token, dtype=np.int32).astype(np.int64)
        pairs, counts = np.unique((chunk << 32) | token, return_counts=True)
        path = self.work / f"part-{len(self.parts):05d}.npz"
        np.savez(
            path,
            chunk=(pairs >> 32).astype(np.int32),
            token=(pairs & 0xFFFFFFFF).astype(np.int32),
            count=np.minimum(counts, np.iinfo(np.uint16).max).astype(np.uint16),
        )
        self.parts.append(path)
        self.pairs += len(pairs)
        self._chunk = array("i")
        self._token = array("i")

    def read(self) -> Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for path in self.parts:
            with np.load(path) as part:
                yield part["chunk"], part["token"], part["count"]


def _write_files(directory: Path, chunks: Iterable[Chunk], identity: str) -> None:
    """Tokenize ``chunks`` once and write a complete index (bm25s files + ours) into
    ``directory``, which must exist and be empty."""
    vocab: dict[str, int] = {}
    ids: list[bytes] = []
    seen: set[str] = set()
    notice_number: dict[str, int] = {}
    notices: list[dict[str, MetadataValue]] = []
    notice_of_chunk = array("i")
    lengths = array("i")
    work = directory / ".spill"
    work.mkdir()
    spill = _Spill(work)
    for chunk in chunks:
        if chunk.id in seen:
            continue
        seen.add(chunk.id)
        number = notice_number.get(chunk.notice_id)
        if number is None:
            number = notice_number[chunk.notice_id] = len(notices)
            notices.append({k: v for k, v in chunk.metadata.items() if k not in _CHUNK_KEYS})
        token_ids = [vocab.setdefault(token, len(vocab)) for token in tokenize(chunk.index_text)]
        spill.add(len(ids), token_ids)
        ids.append(chunk.id.encode("ascii"))
        notice_of_chunk.append(number)
        lengths.append(len(token_ids))
    spill.flush()

    np.save(directory / _IDS_FILE, np.array(ids, dtype=f"S{max((len(i) for i in ids), default=1)}"))
    np.save(directory / _NOTICE_OF_CHUNK_FILE, np.frombuffer(notice_of_chunk, dtype=np.int32))
    if ids:
        _write_score_matrix(directory, spill, np.frombuffer(lengths, dtype=np.int32), vocab)
    shutil.rmtree(work)
    _write_meta(directory, identity, notices)


def _write_score_matrix(
    directory: Path, spill: _Spill, lengths: np.ndarray, vocab: dict[str, int]
) -> None:
    """bm25s's score matrix (CSC: one column of chunk scores per token) and its files, from
    the spilled triples, with bm25s's formulas for its default method, k1 and b.

    The columns are produced in blocks of about ``_BLOCK_PAIRS`` entries, each written to
    the end of the data and indices files before the next is built, so the build never holds
    the whole matrix (470 MB at 10k notices) next to an embedding model. Within a block, a
    counting sort keeps every column in chunk order (the triples arrive in chunk order)."""
    retriever = bm25s.BM25()
    n_docs, n_vocab = len(lengths), len(vocab)
    doc_freq = np.zeros(n_vocab, dtype=np.int64)
    for _, token, _ in spill.read():
        doc_freq += np.bincount(token, minlength=n_vocab)
    idf = _build_idf_array(
        doc_frequencies=dict(enumerate(doc_freq.tolist())),
        n_docs=n_docs,
        compute_idf_fn=_select_idf_scorer(retriever.idf_method),
        dtype=retriever.dtype,
    )
    tfc_of = _select_tfc_scorer(retriever.method)
    avg_len = float(lengths.mean())
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(doc_freq, out=indptr[1:])

    # bm25s writes its parameters, vocabulary and column pointers; the two long arrays are
    # then written here, block by block, under the names bm25s loads them from.
    retriever.scores = {
        "data": np.empty(0, dtype=retriever.dtype),
        "indices": np.empty(0, dtype=retriever.int_dtype),
        "indptr": indptr,
        "num_docs": n_docs,
    }
    retriever.vocab_dict = vocab
    retriever.nonoccurrence_array = None
    retriever.save(str(directory), show_progress=False)

    nnz = int(indptr[-1])
    with (
        _NpyWriter(directory / _DATA_FILE, retriever.dtype, nnz) as data_out,
        _NpyWriter(directory / _INDICES_FILE, retriever.int_dtype, nnz) as indices_out,
    ):
        for low, high in _column_blocks(indptr, _BLOCK_PAIRS):
            base = int(indptr[low])
            size = int(indptr[high]) - base
            indices = np.empty(size, dtype=retriever.int_dtype)
            data = np.empty(size, dtype=retriever.dtype)
            next_free = indptr[low:high] - base
            for chunk, token, count in spill.read():
                keep = (token >= low) & (token < high)
                chunk, token, count = chunk[keep], token[keep] - low, count[keep]
                tfc = tfc_of(
                    tf_array=count.astype(retriever.dtype),
                    l_d=lengths[chunk].astype(retriever.dtype),
                    l_avg=avg_len,
                    k1=retriever.k1,
                    b=retriever.b,
                    delta=retriever.delta,
                )
                scores = (idf[token + low] * tfc).astype(retriever.dtype)
                order = np.argsort(token, kind="stable")
                sorted_tokens = token[order]
                per_token = np.bincount(token, minlength=high - low)
                first_of_token = np.cumsum(per_token) - per_token
                slots = next_free[sorted_tokens] + np.arange(len(order)) - first_of_token[sorted_tokens]
                indices[slots] = chunk[order]
                data[slots] = scores[order]
                next_free += per_token
            indices_out.write(indices)
            data_out.write(data)


def _column_blocks(indptr: np.ndarray, max_pairs: int) -> Iterator[tuple[int, int]]:
    """Consecutive column ranges of at most ``max_pairs`` entries (or one longer column)."""
    low, n_columns = 0, len(indptr) - 1
    while low < n_columns:
        high = int(np.searchsorted(indptr, indptr[low] + max_pairs, side="right")) - 1
        high = min(max(high, low + 1), n_columns)
        yield low, high
        low = high


class _NpyWriter:
    """A 1-D ``.npy`` file of known length written in consecutive pieces."""

    def __init__(self, path: Path, dtype: str, length: int) -> None:
        self._file = path.open("wb")
        self._dtype = np.dtype(dtype)
        self._left = length
        header = {"descr": np.lib.format.dtype_to_descr(self._dtype), "fortran_order": False, "shape": (length,)}
        np.lib.format.write_array_header_1_0(self._file, header)

    def write(self, piece: np.ndarray) -> None:
        self._left -= len(piece)
        self._file.write(np.ascontiguousarray(piece, dtype=self._dtype).tobytes())

    def __enter__(self) -> _NpyWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()
        if self._left != 0 and exc[0] is None:
            raise AssertionError(f"{self._left} entries missing in {self._file.name}")


def _idf(doc_freq: np.ndarray, n_docs: int) -> np.ndarray:
    """Lucene's idf (bm25s's default method), vectorized."""
    return np.log1p((n_docs - doc_freq + 0.5) / (doc_freq + 0.5))


def _write_meta(directory: Path, identity: str, notices: list[dict[str, MetadataValue]]) -> None:
    meta = {"format": _FORMAT, "identity": identity, "tokenizer": TOKENIZER_VERSION, "notices": notices}
    (directory / _META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")


def _replace_dir(new: Path, directory: Path) -> None:
    """Swap ``new`` into place of ``directory``: readers see the old or the new one."""
    old = directory.parent / f".{directory.name}.old-{uuid.uuid4().hex}"
    if directory.exists():
        directory.rename(old)
    new.rename(directory)
    shutil.rmtree(old, ignore_errors=True)
