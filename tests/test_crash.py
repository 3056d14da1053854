"""SIGKILL an ingest at random points: each file is stored in its old or its new version, never a
mix, the store opens at once, and stale search indexes are detected and repaired."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.load import load_path
from assistant.model import content_id
from assistant.store import Store
from tests.conftest import SAMPLES

TEXT_SAMPLES = sorted((SAMPLES / "notices").glob("*.txt")) + sorted((SAMPLES / "notices").glob("*.md"))


def _env(index: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}


def _cli(index: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True, text=True, env=_env(index), timeout=300,
    )


def _write_versions(folder: Path, copies: int, version: str) -> None:
    for n in range(copies):
        for sample in TEXT_SAMPLES:
            text = sample.read_text(encoding="utf-8")
            # A new closing sentence changes the content (and so the id) of every file.
            text = text.rstrip("\n") + f"\nGhi chú phiên bản {version}, bản sao số {n}.\n"
            (folder / f"{n:02d}-{sample.name}").write_text(text, encoding="utf-8")


def test_sigkill_mid_ingest_leaves_old_or_new_version(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    index = tmp_path / "index"
    copies = 4
    _write_versions(folder, copies, "A")
    assert _cli(index, "ingest", str(folder)).returncode == 0
    expected: dict[str, set[str]] = {
        str(p): {content_id(load_path(p).text)} for p in sorted(folder.iterdir())
    }

    rng = random.Random(20261122)
    for round_ in range(3):
        version = "BCD"[round_]
        _write_versions(folder, copies, version)
        for p in sorted(folder.iterdir()):
            expected[str(p)].add(content_id(load_path(p).text))
        proc = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ingest", str(folder)],
            env=_env(index), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        time.sleep(rng.uniform(2.0, 5.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

        with Store(index / "notices.sqlite3") as store:  # readable at once, no repair step
            summaries = store.summaries()
            by_source: dict[str, list[str]] = {}
            for summary in summaries:
                by_source.setdefault(summary.source, []).append(summary.id)
            assert set(by_source) == set(expected), "every file is still stored"
            for source, ids in by_source.items():
                assert len(ids) == 1, f"{source}: two versions at once"
                assert ids[0] in expected[source], f"{source}: a version that was never written"
                notice = store.get(ids[0])
                assert content_id(notice.text) == ids[0], "text and id belong together"
                assert all(notice.text[a.start : a.end] for a in notice.assignments)

    doctor = _cli(index, "doctor", "--json")
    assert doctor.returncode in (0, 4)
    repaired = _cli(index, "reindex")
    assert repaired.returncode == 0, repaired.stderr
    after = _cli(index, "doctor", "--json")
    assert after.returncode == 0, after.stdout
    assert json.loads(after.stdout)["healthy"] is True


def test_doctor_detects_a_store_changed_behind_the_indexes(tmp_path: Path) -> None:
    index = tmp_path / "index"
    assert _cli(index, "ingest", str(TEXT_SAMPLES[0])).returncode == 0
    assert _cli(index, "doctor").returncode == 0
    # Simulate a crash between the canonical write and the index update.
    with Store(index / "notices.sqlite3") as store:
        store.delete(store.ids()[0])
    stale = _cli(index, "doctor", "--json")
    assert stale.returncode == 4
    assert json.loads(stale.stdout)["problems"]
    assert _cli(index, "reindex").returncode == 0
    assert _cli(index, "doctor").returncode == 0


@pytest.mark.parametrize("junk", [b"", b"\x00\x01\x02" * 100])
def test_bad_state_file_is_treated_as_stale(tmp_path: Path, junk: bytes) -> None:
    index = tmp_path / "index"
    assert _cli(index, "ingest", str(TEXT_SAMPLES[0])).returncode == 0
    (index / "search_state.json").write_bytes(junk)
    assert _cli(index, "doctor").returncode == 4
    assert _cli(index, "reindex").returncode == 0
    assert _cli(index, "doctor").returncode == 0
