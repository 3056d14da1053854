"""Concurrent use: one writer at a time across processes, readers never held up by a writer, and
the API answering questions while an upload is being ingested. No timing assertions: each test
checks an order of events or a result, with generous bounds only against hanging forever."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.locks import WriteBusy, write_lock
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import SAMPLES

NOTICES = sorted((SAMPLES / "notices").iterdir())
TEXT_NOTICES = [p for p in NOTICES if p.suffix in (".txt", ".md")]
REPO = Path(__file__).resolve().parents[1]


def _env(index: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index),
            "PYTHONPATH": str(REPO)}


def _python(code: str, index: Path, **kwargs: object) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=_env(index), text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            **kwargs)  # type: ignore[call-overload]


def _copies(folder: Path, tag: str, count: int) -> None:
    folder.mkdir(parents=True)
    for n in range(count):
        for sample in TEXT_NOTICES:
            text = sample.read_text(encoding="utf-8").rstrip("\n")
            (folder / f"{tag}-{n}-{sample.name}").write_text(f"{text}\nBản {tag} số {n}.\n", encoding="utf-8")


# --- one writer at a time --------------------------------------------------------------------------


HOLDER = """
    import sys, time
    from pathlib import Path
    from assistant.locks import write_lock
    log = Path(sys.argv[1])
    with write_lock(Path(sys.argv[2]), timeout_s=None):
        with log.open("a") as f: f.write(f"start {sys.argv[3]}\\n")
        time.sleep(0.5)  # long enough for the other process to try, and wait
        with log.open("a") as f: f.write(f"end {sys.argv[3]}\\n")
"""


def test_two_processes_never_write_at_the_same_time(tmp_path: Path) -> None:
    log = tmp_path / "log"
    procs = [
        subprocess.Popen([sys.executable, "-c", textwrap.dedent(HOLDER), str(log), str(tmp_path), name],
                         env=_env(tmp_path))
        for name in ("a", "b", "c")
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    events = log.read_text().split("\n")[:-1]
    assert len(events) == 6
    # Each start is followed by its own end: no interval overlaps another.
    for start, end in zip(events[::2], events[1::2], strict=True):
        assert start.startswith("start ") and end == "end " + start.removeprefix("start ")


def test_a_writer_that_cannot_wait_gets_a_clear_busy_error(tmp_path: Path) -> None:
    holder = _python(
        """
        import sys
        from pathlib import Path
        from assistant.locks import write_lock
        with write_lock(Path(sys.argv[1])):
            print("held", flush=True)
            sys.stdin.readline()
        """.replace("sys.argv[1]", repr(str(tmp_path))),
        tmp_path,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(WriteBusy) as caught, write_lock(tmp_path, timeout_s=0.3):
            pass
        assert "thử lại" in caught.value.message and caught.value.exit_code == 6
    finally:
        assert holder.stdin is not None
        holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=30)
    with write_lock(tmp_path, timeout_s=5):  # free again once the holder is gone
        pass


def test_two_cli_ingests_at_once_both_land_and_the_index_is_healthy(tmp_path: Path) -> None:
    index = tmp_path / "index"
    _copies(tmp_path / "a", "a", 3)
    _copies(tmp_path / "b", "b", 3)
    procs = [
        subprocess.Popen([sys.executable, "-m", "assistant.cli", "ingest", str(tmp_path / tag)],
                         env=_env(index), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for tag in ("a", "b")
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    with Store(index / "notices.sqlite3") as store:
        assert store.count()["notices"] == 2 * 3 * len(TEXT_NOTICES)
    doctor = subprocess.run([sys.executable, "-m", "assistant.cli", "doctor"], env=_env(index),
                            capture_output=True, text=True, timeout=300)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr


# --- readers -----------------------------------------------------------------------------------------


def test_readers_are_not_held_up_by_an_open_write(tmp_path: Path) -> None:
    """Another process holds the write lock *and* an open write transaction that has already
    deleted a notice: a reader still reads at once, and sees the store as it was before."""
    db = tmp_path / "notices.sqlite3"
    folder = tmp_path / "files"
    _copies(folder, "r", 1)
    ingest = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(folder)],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr
    with Store(db) as store:
        before = [s.id for s in store.summaries()]
    writer = _python(
        f"""
        import sys
        from pathlib import Path
        from assistant.locks import write_lock
        from assistant.store import Store
        with write_lock(Path({str(tmp_path)!r})), Store(Path({str(db)!r})) as store:
            conn = store._conn
            conn.execute("BEGIN EXCLUSIVE")
            conn.execute("DELETE FROM notices WHERE id=?", ({before[0]!r},))
            print("writing", flush=True)
            sys.stdin.readline()
            conn.execute("COMMIT")
        """,
        tmp_path,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing", writer.stderr
        seen: list[list[str]] = []

        def read() -> None:
            with Store(db) as store:
                seen.append([s.id for s in store.summaries()])
                store.get(before[0])

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(timeout=20)  # a blocked reader would wait for the writer, which waits for us
        assert not reader.is_alive(), "the reader waited for the writer"
        assert seen == [before]
    finally:
        assert writer.stdin is not None
        writer.stdin.write("\n")
        writer.stdin.close()
        writer.wait(timeout=30)
    with Store(db) as store:
        assert len(store.ids()) == len(before) - 1


# --- the API while an upload is being ingested -------------------------------------------------------


QUESTIONS = [
    "Phòng Tài nguyên và Môi trường được giao nhiệm vụ gì?",
    "Hạn hoàn thành phương án bồi thường là khi nào?",
    "Những nhiệm vụ nào giao cho Phòng Tài chính - Kế hoạch?",
    "Cuộc họp do ai chủ trì?",
]


def test_questions_are_answered_while_an_upload_is_ingested(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload is held inside its write (lock taken, first file stored) until a round of
    questions has been answered: a question that waited for the writer would never return."""
    import assistant.api.routes.notices as notices_route
    from assistant.api.testing import running_server

    index = tmp_path / "index"
    seed = tmp_path / "seed"
    seed.mkdir()
    for sample in NOTICES:
        shutil.copy(sample, seed / sample.name)
    ingest = subprocess.run([sys.executable, "-m", "assistant.cli", "ingest", str(seed)],
                            env=_env(index), capture_output=True, text=True, timeout=300)
    assert ingest.returncode == 0, ingest.stderr

    inside_write = threading.Event()
    questions_done = threading.Event()
    real_ingest = notices_route.store_parsed
    stored = 0

    def slow_ingest(*args: object, **kwargs: object) -> object:
        nonlocal stored
        result = real_ingest(*args, **kwargs)  # type: ignore[arg-type]
        stored += 1
        if stored == 2:
            inside_write.set()
            questions_done.wait(120)
        return result

    monkeypatch.setattr(notices_route, "store_parsed", slow_ingest)
    uploads = tmp_path / "uploads"
    _copies(uploads, "u", 2)
    files = [("files", (p.name, p.read_bytes(), "text/plain")) for p in sorted(uploads.iterdir())]
    settings = Settings(index=index, embedding={"backend": "fake"})
    upload_status: list[int] = []
    with running_server(settings) as url, httpx.Client(base_url=url, timeout=60) as client:
        assert client.post("/api/ask", json={"question": QUESTIONS[0]}).status_code == 200

        def upload() -> None:
            with httpx.Client(base_url=url, timeout=300) as uploader:
                upload_status.append(uploader.post("/api/notices", files=files).status_code)

        thread = threading.Thread(target=upload)
        thread.start()
        try:
            assert inside_write.wait(120), "the upload never reached its write"
            statuses = []
            for question in QUESTIONS * 2:
                statuses.append(client.post("/api/ask", json={"question": question}).status_code)
                statuses.append(client.get("/api/notices").status_code)
                statuses.append(client.get("/api/assignments", params={"agency": "Phòng Y tế"}).status_code)
            assert not questions_done.is_set()
        finally:
            questions_done.set()
            thread.join(timeout=300)
        assert statuses == [200] * len(statuses)
        assert upload_status == [200]
        total = client.get("/api/notices").json()["count"]
    assert total == len(NOTICES) + len(files)


# --- one Chroma client per process (issue 18 §2) ------------------------------------------------


def _sample_chunks() -> list[Any]:
    from assistant.agencies import get_gazetteer
    from assistant.chunk import chunk_notice
    from assistant.load import load_path
    from assistant.parse import parse_document

    gazetteer = get_gazetteer(None)
    return [chunk for path in TEXT_NOTICES
            for chunk in chunk_notice(parse_document(load_path(path), gazetteer), 1200)]


def test_server_threads_opening_the_vector_store_at_once_never_race(tmp_path: Path) -> None:
    """What a fresh server's threads do when questions and an upload arrive together: each
    opens the data directory's vector store and reads or writes it. Chroma registers a new
    client's system before starting it, so a second thread could use one not yet started:
    'RustBindingsAPI' object has no attribute 'bindings', then KeyError …/chroma."""
    from assistant.embed.fake import FakeEmbedder
    from assistant.retrieve.vectors import VectorStore

    embedder = FakeEmbedder()
    chunks = _sample_chunks()
    vectors = embedder.embed_passages([c.index_text for c in chunks])
    failures: list[str] = []
    for round_ in range(4):
        path = tmp_path / f"chroma-{round_}"  # nothing in this process has opened it yet
        start = threading.Barrier(10)

        def work(n: int, path: Path = path, start: threading.Barrier = start) -> None:
            try:
                store = VectorStore(embedder, path=path)
                start.wait(timeout=60)
                if n % 3 == 0:
                    part = slice(n, None, 10)
                    store.add(chunks[part], vectors[part])
                else:
                    store.search(vectors[n], 3)
                    store.count()
            except Exception as exc:  # the failure under test: any exception from Chroma
                failures.append(f"{type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=work, args=(n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert failures == []


WRITE_ELSEWHERE = """
import sys
from pathlib import Path
from typing import Any
from assistant.embed.fake import FakeEmbedder
from assistant.retrieve.vectors import VectorStore
from tests.test_concurrency import _sample_chunks
chunks = _sample_chunks()[int(sys.argv[2])::3]
embedder = FakeEmbedder()
VectorStore(embedder, path=Path(sys.argv[1])).add(chunks, embedder.embed_passages([c.index_text for c in chunks]))
"""

COUNT_ELSEWHERE = """
import sys
import chromadb
from chromadb.config import Settings
client = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False))
collection = client.get_collection("chunks")
collection.query(query_embeddings=[[0.1] * int(sys.argv[2])], n_results=5)
print(collection.count())
"""


def test_a_long_running_process_writing_after_another_process_keeps_its_vectors(tmp_path: Path) -> None:
    """A server (this process) writes, a CLI ingest (another process) writes, the server writes
    again: every vector of all three writes is there, and a new process opens the store."""
    from assistant.embed.fake import FakeEmbedder
    from assistant.retrieve.vectors import VectorStore, vector_identity

    embedder = FakeEmbedder()
    chunks = _sample_chunks()
    path = tmp_path / "chroma"
    server = VectorStore(embedder, path=path)
    server.reset(vector_identity(embedder.identity, 1200))
    mine = chunks[0::3]
    server.add(mine, embedder.embed_passages([c.index_text for c in mine]))
    server.search(embedder.embed_queries(["nhiệm vụ"])[0], 3)
    for part in (1, 2):
        subprocess.run([sys.executable, "-c", WRITE_ELSEWHERE, str(path), str(part)], check=True,
                       env=_env(tmp_path), cwd=REPO, timeout=300)
        server.search(embedder.embed_queries(["nhiệm vụ"])[0], 3)
        again = chunks[0::3][part * 2 : part * 2 + 2]
        server.add(again, embedder.embed_passages([c.index_text for c in again]))
    counted = subprocess.run([sys.executable, "-c", COUNT_ELSEWHERE, str(path), str(embedder.dimension)],
                             capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert counted.returncode == 0, f"exit {counted.returncode}: {counted.stderr[-1500:]}"
    assert int(counted.stdout) == len({c.id for c in chunks})
    assert server.count() == len({c.id for c in chunks})


def test_mixed_write_load_with_a_cli_ingest_alongside_has_no_server_error(tmp_path: Path) -> None:
    """The issue's mix, kept short: clients asking and looking up, uploads and deletes through
    the API, and ``assistant ingest`` in another process writing to the same index meanwhile.
    No 5xx, no request left unanswered, and afterwards vectors == BM25 documents == chunks, id by id."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("load_test", REPO / "scripts" / "load_test.py")
    assert spec is not None and spec.loader is not None
    load_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(load_test)
    result = load_test.run(tmp_path / "index", "fake", clients=8, seconds=12, upload_every=1.0,
                           rate_limit=False, delete_every=1.5, cli_every=3.0)
    done = result["by_kind"]
    for kind in ("POST /api/ask", "POST /api/notices", "DELETE /api/notices", "assistant ingest (CLI)"):
        assert done.get(kind, {}).get("n", 0) >= 1, f"no {kind} during the run: {done}"
    assert result["server_errors"] == 0, result["error_kinds"]
    assert "no answer" not in result["statuses"], result["error_kinds"]
    # A plain question is never 'not found' because a notice was replaced meanwhile.
    assert not [k for k in result["error_kinds"] if k.startswith("POST /api/ask")], result["error_kinds"]
    # Not asserted: a question whose cited notice is deleted while it is answered can get a
    # 404 (seen once in five runs); the bar is no 5xx, and the 404 is reported.
    after = result["index_after"]
    assert after["healthy"], after["problems"]
    assert after["vectors"] == after["chunks"] == after["bm25_documents"] > 0


def test_a_write_survives_another_process_touching_chroma_in_the_middle_of_it(tmp_path: Path) -> None:
    """The fresh-clone CI failure: a CLI ingest beside the server ended 'Lỗi không mong đợi'
    ('RustBindingsAPI' object has no attribute 'bindings'). Between opening the collection
    and asking the client for its batch size, the server wrote to Chroma's database; asking
    for the client then closed the one the open collection belonged to. Here the database's
    witness changes at exactly that moment (its modification time moves, as any write does)."""
    from assistant.embed.fake import FakeEmbedder
    from assistant.retrieve.vectors import _SQLITE, VectorStore

    embedder = FakeEmbedder()
    chunks = _sample_chunks()
    vectors = embedder.embed_passages([c.index_text for c in chunks])
    path = tmp_path / "chroma"
    store = VectorStore(embedder, path=path)
    store.add(chunks[:2], vectors[:2])
    opened = store._ensure_open
    touched: list[int] = []

    def open_then_another_process_writes() -> Any:
        collection = opened()
        database = path / _SQLITE
        stamp = database.stat().st_mtime_ns + 1_000_000_000 * (len(touched) + 1)
        os.utime(database, ns=(stamp, stamp))
        touched.append(stamp)
        return collection

    store._ensure_open = open_then_another_process_writes  # type: ignore[method-assign]
    store.add(chunks[2:], vectors[2:])
    store.delete_ids([chunks[0].id])
    del store._ensure_open
    assert touched, "the write never opened the collection"
    assert store.count() == len({c.id for c in chunks[1:]})


def test_a_cli_ingest_reads_its_files_without_holding_the_write_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a scan by OCR or converting a .doc takes seconds to minutes a file: a server's
    uploads must not wait for a CLI ingest's reading, only for its storing."""
    from typer.testing import CliRunner

    from assistant import ingest
    from assistant.cli import app as cli_app
    from assistant.locks import WriteBusy, write_lock

    index = tmp_path / "index"
    folder = tmp_path / "in"
    _copies(folder, "doc", 1)
    read = ingest.parse_isolated
    lock_free_while_reading: list[bool] = []

    def read_and_check_the_lock(*args: Any, **kwargs: Any) -> Any:
        try:
            with write_lock(index, timeout_s=0):  # what an upload beside the ingest does
                lock_free_while_reading.append(True)
        except WriteBusy:
            lock_free_while_reading.append(False)
        return read(*args, **kwargs)

    monkeypatch.setattr(ingest, "parse_isolated", read_and_check_the_lock)
    done = CliRunner().invoke(cli_app, ["ingest", str(folder)],
                              env={"ASSISTANT_INDEX": str(index), "ASSISTANT_EMBEDDING_BACKEND": "fake"})
    assert done.exit_code == 0, done.output
    assert lock_free_while_reading == [True] * len(TEXT_NOTICES)
    with Store(index / "notices.sqlite3") as store:
        assert len(store.ids()) == len(TEXT_NOTICES)
