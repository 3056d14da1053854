"""A BERT encoder in plain numpy, for embedding search queries without torch.

Importing torch and sentence-transformers takes 4-14 s on two busy cores, which dominated the
start-up of an open question in ``assistant ask``. A query is a few dozen tokens: the forward
pass is a handful of small matrix products that numpy does in milliseconds. The weights are
read from the converted sentence-transformers folder (``assistant.embed.convert``) through a
memory map, so only the encoder layers and the embedding rows of the query's tokens are ever
read, and nothing extra is written at setup: an older data directory works as it is.

The computation is the one ``SentenceTransformerEmbedder`` runs for that folder (BertModel,
mean pooling over every token, windows of ``max_seq_length`` averaged by content tokens, L2
normalization), in float32; tests check the vectors against it (cosine ≥ 0.999).
"""

from __future__ import annotations

import contextlib
import json
import math
import mmap
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from assistant.embed.base import Vectors, token_windows

F32 = npt.NDArray[np.float32]

_SAFETENSORS_DTYPES: dict[str, type[np.generic]] = {"F16": np.float16, "F32": np.float32}

# Abramowitz & Stegun 7.1.26: |error| ≤ 1.5e-7, below float32 rounding of the activations;
# numpy has no erf, and scipy.special costs more to import than this whole module saves.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: F32) -> F32:
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _ERF_P * a)
    a1, a2, a3, a4, a5 = _ERF_A
    poly = ((((a5 * t + a4) * t + a3) * t + a2) * t + a1) * t
    return np.asarray(sign * (1.0 - poly * np.exp(-a * a)), dtype=np.float32)


def _gelu(x: F32) -> F32:
    """The exact (erf) GELU that BERT's ``hidden_act: gelu`` means."""
    return np.asarray(0.5 * x * (1.0 + _erf(x * np.float32(1.0 / math.sqrt(2.0)))), np.float32)


def _layer_norm(x: F32, weight: F32, bias: F32, eps: float) -> F32:
    mean = x.mean(axis=-1, keepdims=True)
    centered = x - mean
    var = (centered * centered).mean(axis=-1, keepdims=True)
    return np.asarray(centered / np.sqrt(var + np.float32(eps)) * weight + bias, np.float32)


def _folder_tokenizer(folder: Path) -> Callable[[list[str]], list[list[int]]]:
    """The folder's own fast tokenizer (what sentence-transformers uses), without transformers."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    # sentence-transformers neither truncates (long texts become windows) nor pads here.
    tokenizer.no_truncation()
    tokenizer.no_padding()

    def tokenize(texts: list[str]) -> list[list[int]]:
        return [list(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=True)]

    return tokenize


def _blas_controller() -> Any:
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it numpy keeps its default thread count
        return None
    return ThreadpoolController()


class SafeTensors:
    """Read-only, memory-mapped view of a ``.safetensors`` file (header + raw tensors)."""

    def __init__(self, path: Path) -> None:
        with path.open("rb") as fh:
            self._map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        (header_len,) = struct.unpack_from("<Q", self._map, 0)
        header = json.loads(self._map[8 : 8 + header_len].decode("utf-8"))
        header.pop("__metadata__", None)
        self._header: dict[str, dict[str, Any]] = header
        self._base = 8 + header_len

    def names(self) -> list[str]:
        return list(self._header)

    def raw(self, name: str) -> npt.NDArray[Any]:
        """The tensor as stored (no copy: a view into the map)."""
        info = self._header[name]
        dtype = _SAFETENSORS_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"unsupported safetensors dtype {info['dtype']} for {name}")
        start, end = info["data_offsets"]
        count = (end - start) // np.dtype(dtype).itemsize
        array = np.frombuffer(self._map, dtype=dtype, count=count, offset=self._base + start)
        return array.reshape(info["shape"])

    def f32(self, name: str) -> F32:
        return np.ascontiguousarray(self.raw(name), dtype=np.float32)


@dataclass(frozen=True)
class _Layer:
    qkv_w: F32  # (3h, h): query, key and value stacked, one product instead of three
    qkv_b: F32
    out_w: F32
    out_b: F32
    ln1_w: F32
    ln1_b: F32
    inter_w: F32
    inter_b: F32
    ffn_out_w: F32
    ffn_out_b: F32
    ln2_w: F32
    ln2_b: F32


class NumpyBertEncoder:
    """Mean-pooled, L2-normalized BERT sentence vectors from a sentence-transformers folder.

    Supports what ``assistant.embed.convert`` writes (BertModel, absolute positions, one
    Transformer + mean Pooling + Normalize); ``supports`` says whether a folder is such a one.
    """

    def __init__(
        self,
        folder: Path,
        tokenize: Callable[[list[str]], list[list[int]]] | None = None,
    ) -> None:
        self.folder = folder
        config = json.loads((folder / "config.json").read_text("utf-8"))
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.layers_count = int(config["num_hidden_layers"])
        st_config = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        self.max_len = int(st_config.get("max_seq_length") or 512)
        self._tokenize = tokenize or _folder_tokenizer(folder)
        self._weights = SafeTensors(folder / "model.safetensors")
        w = self._weights
        self._word = w.raw("embeddings.word_embeddings.weight")  # stays mapped: rows on demand
        self._pos = w.f32("embeddings.position_embeddings.weight")
        self._type0 = w.f32("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (w.f32("embeddings.LayerNorm.weight"), w.f32("embeddings.LayerNorm.bias"))
        self._layers = [self._layer(i) for i in range(self.layers_count)]
        self._lock = threading.Lock()
        self._blas = _blas_controller()

    @staticmethod
    def supports(folder: Path) -> bool:
        """Whether ``folder`` is a BERT + mean pooling folder this encoder reproduces."""
        try:
            config = json.loads((folder / "config.json").read_text("utf-8"))
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text("utf-8"))
            modules = json.loads((folder / "modules.json").read_text("utf-8"))
        except (OSError, ValueError):
            return False
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
        return (
            config.get("model_type") == "bert"
            and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute"
            and kinds == ["Transformer", "Pooling", "Normalize"]
            and pooling.get("pooling_mode_mean_tokens") is True
            and not any(
                pooling.get(k)
                for k in (
                    "pooling_mode_cls_token",
                    "pooling_mode_max_tokens",
                    "pooling_mode_mean_sqrt_len_tokens",
                )
            )
            and (folder / "tokenizer.json").is_file()
            and (folder / "model.safetensors").is_file()
        )

    def _layer(self, i: int) -> _Layer:
        w = self._weights
        p = f"encoder.layer.{i}."

        def get(name: str) -> F32:
            return w.f32(p + name)

        att = "attention.self."
        return _Layer(
            qkv_w=np.concatenate([get(att + n + ".weight") for n in ("query", "key", "value")]),
            qkv_b=np.concatenate([get(att + n + ".bias") for n in ("query", "key", "value")]),
            out_w=get("attention.output.dense.weight"),
            out_b=get("attention.output.dense.bias"),
            ln1_w=get("attention.output.LayerNorm.weight"),
            ln1_b=get("attention.output.LayerNorm.bias"),
            inter_w=get("intermediate.dense.weight"),
            inter_b=get("intermediate.dense.bias"),
            ffn_out_w=get("output.dense.weight"),
            ffn_out_b=get("output.dense.bias"),
            ln2_w=get("output.LayerNorm.weight"),
            ln2_b=get("output.LayerNorm.bias"),
        )

    @property
    def dimension(self) -> int:
        return self.hidden

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Ids with ``<s>``/``</s>``, as the folder's fast tokenizer gives them."""
        return self._tokenize(texts)

    def _pooled(self, ids: list[int]) -> F32:
        """Mean of the last hidden states over every token of one window (no padding)."""
        n, h, heads = len(ids), self.hidden, self.heads
        head_dim = h // heads
        word = np.asarray(self._word[np.asarray(ids, dtype=np.int64)], dtype=np.float32)
        x = word + self._pos[:n] + self._type0
        x = _layer_norm(x, *self._emb_ln, self.eps)
        scale = np.float32(1.0 / math.sqrt(head_dim))
        for layer in self._layers:
            qkv = x @ layer.qkv_w.T + layer.qkv_b  # (n, 3h)
            q, k, v = (qkv[:, i * h : (i + 1) * h].reshape(n, heads, head_dim) for i in range(3))
            q, k, v = (t.transpose(1, 0, 2) for t in (q, k, v))  # (heads, n, head_dim)
            scores = (q @ k.transpose(0, 2, 1)) * scale
            scores -= scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            context = (probs @ v).transpose(1, 0, 2).reshape(n, h)
            attended = context @ layer.out_w.T + layer.out_b
            x = _layer_norm(attended + x, layer.ln1_w, layer.ln1_b, self.eps)
            inner = _gelu(np.asarray(x @ layer.inter_w.T + layer.inter_b, np.float32))
            out = inner @ layer.ffn_out_w.T + layer.ffn_out_b
            x = _layer_norm(out + x, layer.ln2_w, layer.ln2_b, self.eps)
        return np.asarray(x.mean(axis=0), dtype=np.float32)

    def _one_blas_thread(self) -> contextlib.AbstractContextManager[object]:
        # A query's products are tiny (tens of rows): waking BLAS threads costs more than it
        # saves, and on busy shared cores it made each query 4x slower (150 ms vs 40 ms).
        if self._blas is None:
            return contextlib.nullcontext()
        return self._blas.limit(limits=1, user_api="blas")

    def encode(self, texts: list[str]) -> Vectors:
        """Unit vectors, one row per text; prefixes are the caller's business."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        with self._lock, self._one_blas_thread():
            ids_list = self.token_ids(list(texts))
            result = np.zeros((len(texts), self.hidden), dtype=np.float64)
            for row, ids in enumerate(ids_list):
                for window in token_windows(ids, self.max_len):
                    # Content tokens weigh each window, as SentenceTransformerEmbedder does.
                    result[row] += max(len(window) - 2, 1) * self._pooled(window)
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return (result / np.maximum(norms, 1e-12)).astype(np.float32)
