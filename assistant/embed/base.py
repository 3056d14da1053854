"""The embedding seam: every backend turns a batch of texts into unit vectors."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    @property
    def identity(self) -> str:
        """Stable name of model + weights + prefixes; stamps the vector collection."""
        ...

    @property
    def dimension(self) -> int: ...

    def embed_passages(self, texts: list[str]) -> Vectors:
        """L2-normalized float32 matrix, one row per text, in order."""
        ...

    def embed_queries(self, texts: list[str]) -> Vectors:
        """Like ``embed_passages`` but for search queries (e5 uses another prefix)."""
        ...
