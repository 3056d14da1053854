"""Each file is read and parsed in a worker process with a time and a memory limit, without the
write lock (issue 18, part 3): a hostile file fails by name, the rest of its batch lands, the
server's memory does not keep what the file cost, and other writers are not kept waiting."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import docx
import httpx

from assistant.agencies import get_gazetteer
from assistant.ingest import FileResult, FileStatus, ingest_paths, parse_upload
from assistant.settings import Settings
from assistant.store import Store
from tests._docx_bytes import with_body_prefix
from tests.conftest import SAMPLES

GOOD = SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt"
REPO = Path(__file__).resolve().parent.parent


def _slow_text(lines: int) -> str:
    """Many numbered tasks: cheap to write, a few seconds to parse per hundred thousand chars."""
    return "THÔNG BÁO\n" + "".join(
        f"{i}. Sở Nội vụ chủ trì, phối hợp với Sở Tài chính báo cáo trước ngày 30/6/2025.\n"
        for i in range(1, lines + 1)
    )


def _heavy_docx(marks: int) -> bytes:
    """A real .docx with a short notice whose paragraphs carry ``marks`` proofing marks (empty
    elements Word writes around misspelt words): within the text, part and ratio limits, but
    python-docx builds every element in memory, ≈ 15 times the size of the XML."""
    document = docx.Document()
    for line in ("THÔNG BÁO", "Kết luận của Chủ tịch UBND xã tại cuộc họp giao ban",
                 "1. Văn phòng tổng hợp báo cáo tháng."):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    filler = "".join(f'<w:proofErr w:type="spell{"Start" if i % 2 else "End"}"/><w:bookmarkStart w:id="{i}" w:name="m{i}"/>'
                     for i in range(marks))
    return with_body_prefix(buffer.getvalue(), b"<w:p>" + filler.encode() + b"</w:p>")


def _settings(tmp_path: Path, **load: object) -> Settings:
    return Settings(index=tmp_path / "index", embedding={"backend": "fake"}, load=load)


def test_a_file_over_the_time_limit_fails_by_name_and_the_batch_goes_on(tmp_path: Path) -> None:
    slow = tmp_path / "cham.txt"
    slow.write_text(_slow_text(10_000), encoding="utf-8")  # ≈ 800 000 characters: ≈ 20 s here
    settings = _settings(tmp_path, worker_timeout_s=3)
    with Store(settings.db_path) as store:
        results = {Path(r.source).name: r for r in
                   ingest_paths([slow, GOOD], store, settings, get_gazetteer())}
        assert results["cham.txt"].status is FileStatus.FAILED
        assert "quá 3 giây" in (results["cham.txt"].message or "")
        assert results[GOOD.name].status is FileStatus.ADDED
        assert len(store.summaries()) == 1


def test_a_file_over_the_memory_limit_fails_by_name(tmp_path: Path) -> None:
    data = _heavy_docx(200_000)  # 16 MB of XML: ≈ 350 MB to open
    failed = parse_upload(data, "dinh-dang-day-dac.docx", _settings(tmp_path, worker_memory_mb=300),
                          get_gazetteer())
    assert isinstance(failed, FileResult) and failed.status is FileStatus.FAILED, failed
    assert "bộ nhớ" in (failed.message or ""), failed.message
    assert failed.source == "dinh-dang-day-dac.docx"


_SERVER_SCRIPT = """
import json, sys
from pathlib import Path
import httpx
from assistant.api.testing import running_server
from assistant.settings import Settings

def peak_kib():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1])

settings = Settings(index=Path(sys.argv[1]), embedding={"backend": "fake"})
data = Path(sys.argv[2]).read_bytes()
with running_server(settings) as url, httpx.Client(base_url=url, timeout=600) as client:
    assert client.get("/api/notices").status_code == 200
    before = peak_kib()
    response = client.post("/api/notices", files=[("files", ("day-dac.docx", data))])
    after = peak_kib()
print(json.dumps({"status": response.status_code, "body": response.json(),
                  "before_kib": before, "after_kib": after}))
"""


def test_the_server_never_holds_what_parsing_a_heavy_file_costs(tmp_path: Path) -> None:
    """A real server in its own process: its peak resident memory (VmHWM) barely moves while
    a .docx that takes hundreds of megabytes to open is uploaded, read and stored."""
    heavy = tmp_path / "day-dac.docx"
    heavy.write_bytes(_heavy_docx(200_000))  # 16 MB of XML in 1 MB: ≈ 350 MB to open
    run = subprocess.run(
        [sys.executable, "-c", _SERVER_SCRIPT, str(tmp_path / "index"), str(heavy)],
        capture_output=True, text=True, timeout=600, cwd=REPO,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(run.stdout.strip().splitlines()[-1])
    assert report["status"] == 200
    assert report["body"]["results"][0]["status"] == "added", report["body"]
    grown_mib = (report["after_kib"] - report["before_kib"]) / 1024
    # Opened in the server itself, this file raised its peak by ≈ 350 MiB.
    assert grown_mib < 100, f"server peak memory grew by {grown_mib:.0f} MiB"


def test_a_file_is_read_without_the_write_lock(tmp_path: Path) -> None:
    """While another process holds the write lock, an upload that cannot be read is answered
    at once (failed, by name): it never waited for the lock to be read."""
    from assistant.api.testing import running_server

    settings = _settings(tmp_path)
    settings.index.mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom assistant.locks import write_lock\n"
         "with write_lock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(600)\n",
         str(settings.index)],
        stdout=subprocess.PIPE, text=True, cwd=REPO,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        answers: list[httpx.Response] = []
        with running_server(settings) as url:
            def upload() -> None:
                with httpx.Client(base_url=url, timeout=300) as client:
                    answers.append(client.post(
                        "/api/notices", files=[("files", ("hong.docx", b"PK\x03\x04 not a zip"))]))
            thread = threading.Thread(target=upload)
            thread.start()
            thread.join(timeout=60)  # the lock wait would be 120 s
            assert not thread.is_alive(), "the upload waited for the write lock before reading"
        assert answers[0].status_code == 200
        result = answers[0].json()["results"][0]
        assert result["status"] == "failed" and "hong.docx" in result["source"]
    finally:
        holder.kill()
        holder.wait()
