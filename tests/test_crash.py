"""SIGKILL an ingest at random points: each file is stored in its old or its new version, never a
mix, the store opens at once, and stale search indexes are detected and repaired."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
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


# --- the search index is complete whenever it is marked current (issue 18 §1) -----------------

# Run in a child process so that the test never keeps a Chroma client of its own open across
# the CLI's writes: every id each part of the index holds, straight from the files.
INSPECT = """
import json, sqlite3, sys
from pathlib import Path
import chromadb
from chromadb.config import Settings
from assistant.retrieve.bm25 import BM25Index
index = Path(sys.argv[1])
store = {r[0] for r in sqlite3.connect(index / "notices.sqlite3").execute("SELECT id FROM notices")}
conn = sqlite3.connect(index / "chunks.sqlite3")
chunks = {r[0] for r in conn.execute("SELECT id FROM chunks")}
chunk_notices = {r[0] for r in conn.execute("SELECT DISTINCT notice_id FROM chunks")}
client = chromadb.PersistentClient(path=str(index / "chroma"), settings=Settings(anonymized_telemetry=False))
vectors = set(client.get_collection("chunks").get(include=[])["ids"])
bm25 = set(BM25Index.load(index / "bm25").ids)
print(json.dumps({"store": sorted(store), "chunk_notices": sorted(chunk_notices),
                  "chunks": sorted(chunks), "vectors": sorted(vectors), "bm25": sorted(bm25)}))
"""


def _index_contents(index: Path) -> dict[str, set[str]]:
    done = subprocess.run([sys.executable, "-c", INSPECT, str(index)], capture_output=True,
                          text=True, env=_env(index), timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {key: set(values) for key, values in json.loads(done.stdout).items()}


def _assert_complete(index: Path, when: str) -> None:
    found = _index_contents(index)
    assert found["chunk_notices"] == found["store"], f"{when}: chunk table misses notices"
    assert len(found["vectors"]) == len(found["chunks"]), (
        f"{when}: {len(found['vectors'])} vectors for {len(found['chunks'])} chunks")
    assert found["vectors"] == found["chunks"], f"{when}: vector ids differ from chunk ids"
    assert found["bm25"] == found["chunks"], f"{when}: BM25 ids differ from chunk ids"


def _kill_when(proc: subprocess.Popen[bytes], ready: Callable[[], bool]) -> bool:
    """SIGKILL ``proc`` as soon as ``ready()`` holds; False when it finished first."""
    while proc.poll() is None:
        if ready():
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
            return True
        time.sleep(0.002)
    return False


def _chunk_rows(index: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{index / 'chunks.sqlite3'}?mode=ro", uri=True, timeout=0.05)
        try:
            return int(conn.execute("SELECT COUNT(*) FROM chunks").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return -1


def _spilling(index: Path) -> bool:
    """Every chunk of the batch is in the chunk table; its vectors are on their way to Chroma."""
    return any(part.is_dir() and any(part.iterdir()) for part in index.glob(".vectors-*"))


def _building_bm25(index: Path) -> bool:
    """The vectors are in Chroma; BM25 is being rebuilt."""
    return any(index.glob(".bm25.tmp-*"))


def test_an_index_killed_at_any_point_is_complete_after_the_same_ingest_again(tmp_path: Path) -> None:
    """The issue's reproduction: kill an ingest (or a reindex) mid-way or late, run the same
    ingest again as the docs say, and the index marked current must hold a vector and a BM25
    entry for every chunk of every stored notice."""
    folder = tmp_path / "files"
    folder.mkdir()
    index = tmp_path / "index"
    _write_versions(folder, 2, "A")
    assert _cli(index, "ingest", str(folder)).returncode == 0
    half = _chunk_rows(index) // 2
    kill_points: list[tuple[str, list[str], Callable[[], bool]]] = [
        ("ingest, half the chunks stored", ["ingest", str(folder)], lambda: _chunk_rows(index) >= half),
        ("ingest, vectors on their way to Chroma", ["ingest", str(folder)], lambda: _spilling(index)),
        ("ingest, BM25 being rebuilt", ["ingest", str(folder)], lambda: _building_bm25(index)),
        ("reindex, vectors on their way to Chroma", ["reindex"], lambda: _spilling(index)),
        ("reindex, BM25 being rebuilt", ["reindex"], lambda: _building_bm25(index)),
    ]
    killed = 0
    for round_, (when, args, ready) in enumerate(kill_points):
        if args[0] == "ingest":  # every file changes: the ingest has work to do
            _write_versions(folder, 2, f"V{round_}")
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", *args], env=_env(index),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        killed += _kill_when(proc, ready)
        print(when, "killed" if proc.returncode == -signal.SIGKILL else "finished first")
        again = _cli(index, "ingest", str(folder))  # what the docs tell a user to do
        assert again.returncode == 0, again.stdout + again.stderr
        _assert_complete(index, when)
    doctor = _cli(index, "doctor", "--json")
    assert doctor.returncode == 0 and json.loads(doctor.stdout)["healthy"], doctor.stdout
    # A kill that came too late for its moment proves nothing; most must land.
    assert killed >= 3, f"only {killed} of {len(kill_points)} kills landed"


DROP_VECTORS = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
collection = client.get_collection("chunks")
ids = collection.get(include=[])["ids"]
collection.delete(ids=ids[: len(ids) * 4 // 5])
"""


def test_doctor_compares_vectors_with_the_chunk_table_and_reindex_repairs(tmp_path: Path) -> None:
    """Vectors lost behind the index's back (what a killed write leaves): doctor names the
    counts and fails; reindex repairs; the same ingest again repairs too."""
    index = tmp_path / "index"
    assert _cli(index, "ingest", *map(str, TEXT_SAMPLES)).returncode == 0
    for repair in (("reindex",), ("ingest", *map(str, TEXT_SAMPLES))):
        subprocess.run([sys.executable, "-c", DROP_VECTORS, str(index / "chroma")], check=True,
                       env=_env(index), timeout=120)
        doctor = _cli(index, "doctor", "--json")
        assert doctor.returncode == 4, doctor.stdout
        report = json.loads(doctor.stdout)
        assert report["vectors"] < report["chunks"]
        assert any("vector" in problem and str(report["chunks"]) in problem
                   for problem in report["problems"]), report["problems"]
        assert _cli(index, *repair).returncode == 0
        _assert_complete(index, " ".join(repair[:1]))
        assert _cli(index, "doctor").returncode == 0


# A data directory on a 24 MB tmpfs of its own (a user + mount namespace: no root needed, and
# nothing outside the test sees it): seeded, filled to the last ``FREE_KB``, a batch ingested
# into the full disk, then the space given back and the same batch ingested again.
DISK_FULL = """
set -u
mount -t tmpfs -o size=24m none "$MNT" || exit 90
export ASSISTANT_INDEX="$MNT/index"
"$PY" -m assistant.cli ingest "$SEED" > "$OUT/seed.out" 2>&1; echo $? > "$OUT/seed.rc"
"$PY" -c '
import os, sys
path = sys.argv[1]
with open(path, "wb") as fh:
    try:
        while True:
            fh.write(bytes(65536)); fh.flush()
    except OSError:
        pass
os.truncate(path, max(0, os.path.getsize(path) - int(sys.argv[2]) * 1024))
' "$MNT/ballast" "$FREE_KB"
"$PY" -m assistant.cli ingest "$BATCH" > "$OUT/full.out" 2>&1; echo $? > "$OUT/full.rc"
"$PY" -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' \
    "$MNT/index/notices.sqlite3" > "$OUT/integrity.out" 2>&1
"$PY" -m assistant.cli doctor --json > "$OUT/full-doctor.out" 2>&1; echo $? > "$OUT/full-doctor.rc"
rm -f "$MNT/ballast"
"$PY" -m assistant.cli ingest "$BATCH" > "$OUT/again.out" 2>&1; echo $? > "$OUT/again.rc"
"$PY" -m assistant.cli doctor --json > "$OUT/again-doctor.out" 2>&1; echo $? > "$OUT/again-doctor.rc"
"""


def test_a_full_disk_is_named_and_leaves_a_consistent_store_and_index(tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("needs unshare (util-linux) to mount a small tmpfs in a namespace of its own")
    seed, batch, out, mnt = (tmp_path / name for name in ("seed", "batch", "out", "mnt"))
    for folder in (seed, batch, out, mnt):
        folder.mkdir()
    for sample in TEXT_SAMPLES[:2]:
        shutil.copy(sample, seed / sample.name)
    _write_versions(batch, 3, "đầy đĩa")
    env = {**_env(tmp_path), "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "PY": sys.executable,
           "MNT": str(mnt), "OUT": str(out), "SEED": str(seed), "BATCH": str(batch), "FREE_KB": "400"}
    done = subprocess.run(["unshare", "-rm", "bash", "-c", DISK_FULL], env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode == 90 or not (out / "seed.rc").exists():
        pytest.skip(f"cannot mount a tmpfs in a user namespace here: {done.stderr[-300:]}")

    def read(name: str) -> str:
        return (out / name).read_text(encoding="utf-8")

    assert read("seed.rc").strip() == "0", read("seed.out")
    full = read("full.out")
    assert read("full.rc").strip() != "0"
    assert "hết dung lượng đĩa" in full.lower(), full
    assert "không mong đợi" not in full and "Traceback" not in full, full
    assert read("integrity.out").strip() == "ok"
    # Consistent: either complete, or doctor says what lags behind (never "healthy" with less).
    report = json.loads(read("full-doctor.out"))
    if report["healthy"]:
        assert report["vectors"] == report["chunks"] == report["bm25_documents"]
    else:
        assert read("full-doctor.rc").strip() == "4" and report["problems"]

    assert read("again.rc").strip() == "0", read("again.out")
    again = json.loads(read("again-doctor.out"))
    assert again["healthy"], again["problems"]
    assert again["notices"] == 2 + 3 * len(TEXT_SAMPLES)
    assert again["vectors"] == again["chunks"] == again["bm25_documents"]


def test_a_vector_store_that_cannot_be_opened_is_probed_in_a_child_and_rebuilt(tmp_path: Path) -> None:
    """A store whose database is garbage stands here for the one left by racing writers that
    made every new process segfault: doctor opens it in a child process (never in its own),
    reports it, and reindex removes and rebuilds it."""
    index = tmp_path / "index"
    assert _cli(index, "ingest", *map(str, TEXT_SAMPLES)).returncode == 0
    database = index / "chroma" / "chroma.sqlite3"
    database.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 64)
    doctor = _cli(index, "doctor", "--json")
    assert doctor.returncode == 4, doctor.stdout + doctor.stderr
    assert any("kho vector bị hỏng" in p for p in json.loads(doctor.stdout)["problems"])
    repaired = _cli(index, "reindex")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert "Kho vector bị hỏng" in repaired.stdout
    _assert_complete(index, "reindex after a broken store")
    assert _cli(index, "doctor").returncode == 0
