"""A battery of bad files, made here (nothing downloaded): each one is refused with a clear error
that names it, or is handled; the rest of its batch lands; a failure leaves the store as it was.
"""

from __future__ import annotations

import functools
import io
import json
import os
import random
import shutil
import socket
import sqlite3
import struct
import subprocess
import sys
import tracemalloc
import unicodedata
import zipfile
from collections.abc import Iterator
from pathlib import Path

import docx
import pytest
from pypdf import PdfWriter

from assistant.agencies import get_gazetteer
from assistant.errors import AssistantError, LoadError
from assistant.load import load_bytes, load_path
from assistant.parse import parse_document
from assistant.settings import LoadSettings, Settings
from tests.conftest import SAMPLES, encode_windows_1258

GOOD = [SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt",
        SAMPLES / "notices" / "2024-10-08_tinh-lam-giang_quy-III.md"]
HUGE_BYTES = 100 * 1024 * 1024

HEAD = (
    "ỦY BAN NHÂN DÂN\nTHỊ XÃ HÀ LÂM\nSố: 7/TB-UBND\n"
    "Hà Lâm, ngày 2 tháng 4 năm 2025\nTHÔNG BÁO\n"
    "Kết luận của Chủ tịch UBND thị xã tại cuộc họp giao ban tuần\n"
)
TASK = "Phòng Tài chính - Kế hoạch chủ trì, phối hợp với các đơn vị hoàn thành trước ngày 30/6/2025."
LEGACY = "Thông báo kết luận của Chủ tịch Ủy ban nhân dân thị xã về công tác đất đai và môi trường"
# TCVN3 and VNI bytes of Vietnamese as they appear when read as Windows-1252 (see test_load.py).
TCVN3 = ("Th«ng b¸o kÕt luËn cña Chñ tÞch UBND thÞ x· vÒ c«ng t¸c qu¶n lý ®Êt ®ai "
         "vµ gi¶i phãng mÆt b»ng trªn ®Þa bµn, giao phßng Tµi nguyªn vµ M«i tr­êng.")
VNI = ("Thoâng baùo keát luaän cuûa Chuû tòch UBND thò xaõ veà coâng taùc quaûn lyù ñaát ñai "
       "vaø giaûi phoùng maët baèng treân ñòa baøn, giao phoøng Taøi nguyeân vaø Moâi tröôøng.")


def _docx(text: str = TASK) -> bytes:
    document = docx.Document()
    for line in (HEAD + text).split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _pdf(encrypt: bool) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if encrypt:
        writer.encrypt("mat-khau")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _ratio_bomb() -> bytes:
    """A real .docx with one extra part of 40 MB of zeros that compresses about 1000 to 1."""
    buffer = io.BytesIO(_docx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/media/pad.bin", bytes(40 * 1024 * 1024))
    return buffer.getvalue()


def _declared_bomb() -> bytes:
    """A real .docx whose central directory claims an extra part of 300 MB, with a plausible
    compression ratio (150): only the total of the declared sizes gives it away."""
    buffer = io.BytesIO(_docx())
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/pad.bin", b"x" * 1024)
    data = bytearray(buffer.getvalue())
    entry = data.rfind(b"PK\x01\x02")
    assert data[entry + 46:entry + 46 + 18] == b"word/media/pad.bin"
    # Central directory header: compressed size at offset 20, uncompressed size at offset 24.
    data[entry + 20:entry + 28] = struct.pack("<II", 2 * 1024 * 1024, 300 * 1024 * 1024)
    return bytes(data)


def _nested(levels: int) -> str:
    """``1.``, ``1.1.``, ``1.1.1.`` … one level deeper per line."""
    return HEAD + "".join(
        ".".join(["1"] * (n + 1)) + f". Phòng Y tế thực hiện nội dung cấp {n + 1}.\n" for n in range(levels)
    )


# name -> (content, a fragment of its error message)
@functools.cache
def _refused() -> dict[str, tuple[bytes, str]]:
    rng = random.Random(7)
    return {
        "rong.txt": (b"", "rỗng"),
        "rac.txt": (bytes(rng.randrange(256) for _ in range(4096)), "nhị phân"),
        "anh-quet.pdf": (_pdf(encrypt=False), "OCR"),
        "mat-khau.pdf": (_pdf(encrypt=True), "mã hóa"),
        "cat-cut.docx": (_docx()[:700], "hỏng"),
        "xml-hong.docx": (_broken_xml_docx(), "hỏng"),
        "bom-ti-le.docx": (_ratio_bomb(), "zip bomb"),
        "bom-khai-bao.docx": (_declared_bomb(), "zip bomb"),
        "w1258.txt": (encode_windows_1258(LEGACY), "Windows-1258"),
        "tcvn3.txt": (TCVN3.encode("cp1252"), "TCVN3"),
        "vni.txt": (VNI.encode("cp1252"), "VNI"),
        "mot-dong-dai.txt": (("THÔNG BÁO " + (TASK + " ") * 12_000).encode(), "quá dài"),
    }


def _broken_xml_docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_docx())) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "word/document.xml":
                body = body[: len(body) // 2]
            target.writestr(info, body)
    return buffer.getvalue()


@functools.cache
def _handled() -> dict[str, bytes]:
    return {
        "nfd.txt": unicodedata.normalize("NFD", HEAD + "Giao Phòng Y tế kiểm tra an toàn thực phẩm.").encode(),
        "khong-xuong-dong.txt": (HEAD.replace("\n", " ") + (TASK + " ") * 200).encode(),
        "long-200-cap.txt": _nested(200).encode(),
        "khong-muc.txt": (HEAD + TASK + "\n").encode(),
        "english.txt": (b"NOTICE\nConclusions of the Chairman at the weekly meeting.\n"
                        b"1. The Finance Office shall report to the Chairman by 30 June 2025.\n"),
    }


@pytest.fixture(scope="module")
def huge_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """100 MB of ordinary text, written in 1 MB blocks (never held whole in memory here)."""
    path = tmp_path_factory.mktemp("huge") / "qua-lon.txt"
    block = ((TASK + "\n") * (1024 * 1024 // (len(TASK.encode()) + 1) + 1)).encode()[: 1024 * 1024]
    with path.open("wb") as handle:
        for _ in range(HUGE_BYTES // len(block)):
            handle.write(block)
    assert path.stat().st_size == HUGE_BYTES
    return path


# --- one file at a time ------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(_refused()))
def test_each_bad_file_is_refused_with_a_clear_error_naming_it(tmp_path: Path, name: str) -> None:
    data, fragment = _refused()[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError) as caught:
        load_path(path)
    assert fragment in caught.value.message
    assert caught.value.source == str(path) and str(path) in str(caught.value)


@pytest.mark.parametrize("name", sorted(_handled()))
def test_odd_but_readable_files_are_handled(name: str) -> None:
    notice = parse_document(load_bytes(_handled()[name], name), get_gazetteer(None))
    assert notice.text == unicodedata.normalize("NFC", notice.text)
    assert notice.source == name


def test_two_hundred_levels_of_nesting_keep_their_depth() -> None:
    notice = parse_document(load_bytes(_nested(200).encode(), "long.txt"), get_gazetteer(None))
    depth, level = 0, notice.sections
    while level:
        depth, level = depth + 1, level[-1].children
    assert depth == 200
    assert len(notice.assignments) == 200


def test_the_text_limit_is_a_setting() -> None:
    text = (HEAD + TASK).encode()
    with pytest.raises(LoadError, match="quá dài"):
        load_bytes(text, "a.txt", LoadSettings(max_text_chars=100))
    assert load_bytes(text, "a.txt", LoadSettings(max_text_chars=len(text))).text


def test_a_100_mb_file_is_refused_before_it_is_read(huge_file: Path) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(LoadError, match="quá lớn") as caught:
            load_path(huge_file)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.source == str(huge_file)
    # Reading it would take 100 MB; refusing from its size takes next to nothing.
    assert peak < 1024 * 1024, peak


def test_the_api_refuses_a_huge_body_before_receiving_it(tmp_path: Path) -> None:
    """Only the headers are sent: the 413 must come back without the 100 MB ever arriving."""
    from assistant.api.testing import running_server

    settings = Settings(index=tmp_path, embedding={"backend": "fake"})
    with running_server(settings) as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=20) as sock:
            sock.sendall(
                b"POST /api/notices HTTP/1.1\r\n"
                + f"Host: {host}:{port}\r\n".encode()
                + b"Content-Type: multipart/form-data; boundary=b\r\n"
                + f"Content-Length: {HUGE_BYTES}\r\n\r\n".encode()
                + b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\n"
            )
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
                head, _, body = reply.partition(b"\r\n\r\n")
                lengths = [int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")]
                if lengths and len(body) >= lengths[0]:
                    break
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large" and "quá lớn" in error["message"]


# --- a whole batch through the CLI ---------------------------------------------------------------


def _cli(index: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args],
                          capture_output=True, text=True, env=env, timeout=600)


def _dump(index: Path) -> list[str]:
    """Every row of the store except the ingestion time stamps, in a stable order."""
    with sqlite3.connect(index / "notices.sqlite3") as conn:
        return [line for line in conn.iterdump() if "ingested_at" not in line]


def _results(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, str]]:
    return {Path(r["source"]).name: r for r in json.loads(proc.stdout)}


def test_a_batch_of_bad_files_fails_them_by_name_and_stores_the_rest(tmp_path: Path, huge_file: Path) -> None:
    good, bad, odd = tmp_path / "good", tmp_path / "bad", tmp_path / "odd"
    for folder in (good, bad, odd):
        folder.mkdir()
    for sample in GOOD:
        shutil.copy(sample, good / sample.name)
    for name, (data, _) in _refused().items():
        (bad / name).write_bytes(data)
    (bad / huge_file.name).symlink_to(huge_file)
    (bad / "long-1000-cap.txt").write_text(_nested(1000), encoding="utf-8")
    for name, data in _handled().items():
        (odd / name).write_bytes(data)
    index = tmp_path / "index"

    first = _cli(index, "ingest", "--json", str(good))
    assert first.returncode == 0, first.stderr
    before = _dump(index)

    # Only bad files: each fails by name, exit 1, and the store is exactly as it was.
    refused = _cli(index, "ingest", "--json", str(bad))
    assert refused.returncode == 1, refused.stderr
    results = _results(refused)
    assert set(results) == {*_refused(), huge_file.name, "long-1000-cap.txt"}
    for name, (_, fragment) in _refused().items():
        assert results[name]["status"] == "failed" and fragment in results[name]["error"], results[name]
    # A link to a file outside the folder is refused as such before its size is looked at
    # (issue 18: a link to /etc/passwd was stored); the size limit: the 100 MB test above.
    assert "ra ngoài" in results[huge_file.name]["error"]
    assert results["long-1000-cap.txt"]["status"] == "failed"
    assert "Traceback" not in refused.stdout + refused.stderr
    assert _dump(index) == before

    # A good file replaced by a version that cannot be stored keeps its old version.
    replaced = good / GOOD[0].name
    replaced.write_text(_nested(300), encoding="utf-8")
    kept = _cli(index, "ingest", "--json", str(replaced))
    assert kept.returncode == 1 and _results(kept)[replaced.name]["status"] == "failed"
    assert "lồng nhau quá sâu" in _results(kept)[replaced.name]["error"]
    assert _dump(index) == before
    shutil.copy(GOOD[0], replaced)

    # Everything together: exit 1, the good ones are there, the odd ones are stored too.
    together = tmp_path / "together"
    for folder in (good, bad, odd):
        shutil.copytree(folder, together, dirs_exist_ok=True, symlinks=True)
    mixed = _cli(index, "ingest", "--json", str(together))
    assert mixed.returncode == 1
    statuses = {name: r["status"] for name, r in _results(mixed).items()}
    assert all(statuses[name] == "failed" for name in _refused())
    assert {name: statuses[name] for name in _handled()} == dict.fromkeys(_handled(), "added")
    listed = _cli(index, "notices", "--json")
    assert listed.returncode == 0, listed.stderr
    sources = {Path(n["source"]).name for n in json.loads(listed.stdout)}
    assert {p.name for p in GOOD} <= sources and set(_handled()) <= sources


def test_a_store_error_mid_batch_rolls_that_file_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure inside the store transaction (here: the insert of the second file) leaves no
    part of that file behind, and the first file stays stored."""
    from assistant.ingest import FileStatus, ingest_paths
    from assistant.store import Store

    for sample in GOOD:
        shutil.copy(sample, tmp_path / sample.name)
    store = Store(tmp_path / "db.sqlite3")
    real = Store._insert
    calls = {"n": 0}

    def failing_second(self: Store, conn: sqlite3.Connection, notice: object) -> None:
        calls["n"] += 1
        real(self, conn, notice)  # type: ignore[arg-type]
        if calls["n"] == 2:
            raise AssistantError("lỗi giả lập khi ghi")

    monkeypatch.setattr(Store, "_insert", failing_second)
    settings = Settings(index=tmp_path, embedding={"backend": "fake"})
    results = ingest_paths([tmp_path / p.name for p in GOOD], store, settings, get_gazetteer(None))
    assert [r.status for r in results] == [FileStatus.ADDED, FileStatus.FAILED]
    assert store.count()["notices"] == 1
    with sqlite3.connect(tmp_path / "db.sqlite3") as conn:
        sources = {row[0] for row in conn.execute("SELECT DISTINCT source FROM notices")}
        orphans = conn.execute(
            "SELECT count(*) FROM sections WHERE notice_id NOT IN (SELECT id FROM notices)"
        ).fetchone()[0]
    assert sources == {str(tmp_path / GOOD[0].name)} and orphans == 0
    store.close()


def test_a_chunked_body_over_the_limit_is_cut_off_with_json(tmp_path: Path) -> None:
    """No Content-Length to go by: the bytes are counted as they arrive."""
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    settings = Settings(index=tmp_path, embedding={"backend": "fake"}, server={"max_upload_bytes": 1000})

    def body() -> Iterator[bytes]:
        yield b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n\r\n"
        for _ in range(40):
            yield b"a" * 65536

    with TestClient(create_app(settings)) as client:
        response = client.post("/api/notices", content=body(),
                               headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert response.status_code == 413
        assert response.json()["error"]["message"].startswith("Dữ liệu gửi lên quá lớn")
        assert client.get("/api/notices").json()["count"] == 0


# --- hostile upload names ------------------------------------------------------------------------

def _hostile_names(root: Path) -> list[str]:
    """Every escape, if it worked, would land inside ``root`` (never in /etc of the machine
    running the tests): the upload folder is ``root/a/b/index/uploads``, four levels down."""
    return [
        "../../etc/passwd.txt", "..\\x.txt", "..\\..\\..\\x.txt", "../../../../x.txt",
        f"{root}/etc/passwd.txt", f"{root}\\x.txt", "C:\\Windows\\x.txt", "\\\\server\\share\\x.txt",
        "a\x00b.txt", "x.txt\x00.exe", "y" * 300 + ".txt", "y" * 5000 + ".txt",
        "%2e%2e%2fx.txt", "..／x.txt", ".hidden.txt", "..", "./", "\u202etxt.exe",
    ]


def test_hostile_upload_names_never_leave_the_upload_folder(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from assistant.api import create_app

    # Deep enough that "../../" from the upload folder still lands inside tmp_path, where it is seen.
    index = tmp_path / "a" / "b" / "index"
    index.mkdir(parents=True)

    def outside() -> set[Path]:
        return {p for p in tmp_path.rglob("*") if p != index and index not in p.parents}

    before = outside()
    data = GOOD[0].read_bytes()
    with TestClient(create_app(Settings(index=index, embedding={"backend": "fake"}))) as client:
        for name in _hostile_names(tmp_path):
            response = client.post("/api/notices", files=[("files", (name, data, "text/plain"))])
            assert response.status_code in (200, 400, 415), (name, response.text)
            if response.status_code == 200:
                source = response.json()["results"][0]["source"]
                assert source.startswith("uploads/") and "/" not in source.removeprefix("uploads/")
        # httpx percent-encodes a NUL in a file name; a hand-made body carries it raw.
        for raw in (b"..\x00/../../x.txt", b"../\x00\x00.txt", b"a\x00\x01\x7f.txt",
                    str(tmp_path).encode() + b"/\x00x.txt"):
            body = (b"--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"" + raw
                    + b"\"\r\nContent-Type: text/plain\r\n\r\n" + data + b"\r\n--b--\r\n")
            response = client.post("/api/notices", content=body,
                                   headers={"Content-Type": "multipart/form-data; boundary=b"})
            assert response.status_code in (200, 400, 415), (raw, response.text)
    assert outside() == before
    uploads = index / "uploads"
    for path in index.rglob("*"):
        if path.is_file() and path.suffix in (".txt", ".exe"):
            assert path.parent == uploads, path
            assert len(path.name) <= 120 and "\x00" not in path.name
