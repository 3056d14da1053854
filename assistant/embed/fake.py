"""A deterministic embedder for tests: hashed accent-folded word unigrams and bigrams."""

from __future__ import annotations

import hashlib
import itertools
import re

import numpy as np

from assistant.embed.base import Vectors
from assistant.text import fold, nfc, unaccent

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Bag of hashed unigrams/bigrams, L2-normalized: texts sharing words are closer.

    Deterministic across processes (no Python ``hash``), needs no model; queries and passages
    share one space, so a query's words pull it towards passages containing them.
    """

    def __init__(self, dimension: int = 64) -> None:
        if dimension < 2:
            raise ValueError("dimension must be at least 2")
        self._dimension = dimension

    @property
    def identity(self) -> str:
        return f"fake-hash-v1:{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        # A sign bit keeps unrelated features from all adding up in the same direction.
        return value % self._dimension, 1.0 if (value >> 63) & 1 else -1.0

    def _one(self, text: str) -> np.ndarray:
        vector = np.zeros(self._dimension, dtype=np.float32)
        words = _WORD.findall(unaccent(fold(nfc(text))))
        features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
        for feature in features:
            index, sign = self._bucket(feature)
            vector[index] += sign
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            # Empty or punctuation-only text: a fixed unit vector keeps the contract.
            vector[0] = 1.0
            return vector
        return vector / norm

    def embed_passages(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        return np.stack([self._one(t) for t in texts]).astype(np.float32)

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self.embed_passages(texts)
