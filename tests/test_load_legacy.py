""".doc, .rtf and .odt through LibreOffice headless (assistant/office.py), then the .docx path.

The fixtures are made here: the team's own Word sample notice is saved as .doc/.rtf/.odt by
LibreOffice inside the test. Tests that need LibreOffice skip with a message when it is missing
(``scripts/install_converter.sh`` installs it; ``make test`` runs that script first).
"""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.agencies import get_gazetteer
from assistant.api import create_app
from assistant.errors import LoadError
from assistant.load import SUPPORTED_SUFFIXES, load_bytes, load_path, walk_paths
from assistant.model import Notice
from assistant.office import find_converter, sniff
from assistant.parse import parse_document
from assistant.settings import LoadSettings, Settings
from tests.conftest import SAMPLES

SAMPLE_DOCX = SAMPLES / "notices" / "2025-09-05_xa-tan-lam_thang-08.docx"
SOFFICE = find_converter("soffice")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# LibreOffice's export filters for the fixtures.
EXPORT = {".doc": "doc:MS Word 97", ".rtf": "rtf:Rich Text Format", ".odt": "odt:writer8"}


@pytest.fixture(scope="module")
def soffice() -> str:
    if SOFFICE is None:
        if os.environ.get("CI"):
            # make test installs LibreOffice first, so in CI missing is a failure, not a skip.
            raise RuntimeError("CI: LibreOffice (soffice) missing although make test installs it")
        pytest.skip("LibreOffice (soffice) not found: run scripts/install_converter.sh to run the "
                    ".doc/.rtf/.odt tests")
    return SOFFICE


def _save_as(soffice: str, source: Path, suffix: str, out_dir: Path) -> Path:
    """Our own sample saved by LibreOffice in another format (a profile of its own in out_dir)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [soffice, f"-env:UserInstallation={(out_dir / 'profile').as_uri()}", "--headless",
         "--norestore", "--convert-to", EXPORT[suffix], "--outdir", str(out_dir), str(source)],
        check=True, capture_output=True, timeout=120,
    )
    target = out_dir / (source.stem + suffix)
    assert target.is_file(), f"LibreOffice did not write {target.name}"
    return target


@pytest.fixture(scope="module")
def saved_as(soffice: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("legacy")
    return {suffix: _save_as(soffice, SAMPLE_DOCX, suffix, out / suffix.lstrip("."))
            for suffix in EXPORT}


@pytest.fixture
def own_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The temporary root conversions use, so that a test can see what they leave behind."""
    root = tmp_path / "tmp-root"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    return root


def _assignments(notice: Notice) -> list[tuple[object, ...]]:
    """Each assignment as read (offsets left out: the texts may differ in line breaks)."""
    return [(a.agency.text, a.agency.canonical, a.role, a.task,
             a.deadline.text if a.deadline else None, notice.text[a.start:a.end])
            for a in notice.assignments]


def _squeezed(text: str) -> str:
    return "".join(text.split())


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent to reap it is not running)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if text in cmdline and _alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def _fake_converter(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-soffice"
    script.write_text("#!/bin/sh\n" + body + "\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def _fake_doc() -> bytes:
    """Starts like a Word 97-2003 file (so it is handed to the converter); the rest is noise."""
    return OLE_MAGIC + random.Random(7).randbytes(4096)


# --- the sample notice in three old formats ----------------------------------------------------


@pytest.mark.parametrize("suffix", [".doc", ".rtf", ".odt"])
def test_saved_sample_loads_and_parses_like_the_docx(saved_as: dict[str, Path], suffix: str) -> None:
    gazetteer = get_gazetteer(None)
    original = load_path(SAMPLE_DOCX)
    converted = load_path(saved_as[suffix])
    assert converted.format == suffix.lstrip(".")
    assert converted.source == str(saved_as[suffix])
    # LibreOffice's .doc export joins the two cells of the sample's last table (the signature
    # block) into one paragraph; every character is still there, in the same order.
    assert _squeezed(converted.text) == _squeezed(original.text)
    if suffix != ".doc":
        assert converted.text == original.text
    for fact in ("XÃ TÂN LAM", "Ngày 03 tháng 9 năm 2025", "Phạm Thị Hồng Nhung", "Nơi nhận:"):
        assert fact in converted.text
    ours = parse_document(converted, gazetteer)
    theirs = parse_document(original, gazetteer)
    assert len(theirs.assignments) >= 5
    assert _assignments(ours) == _assignments(theirs)
    assert ours.meeting_date == theirs.meeting_date
    assert ours.issuer_name == theirs.issuer_name and ours.kind == theirs.kind


def test_upload_bytes_convert_too(saved_as: dict[str, Path]) -> None:
    document = load_bytes(saved_as[".doc"].read_bytes(), "uploads/thong-bao-cu.doc")
    assert document.format == "doc" and "Phạm Thị Hồng Nhung" in document.text


def test_parallel_conversions_do_not_collide(saved_as: dict[str, Path], own_tmp: Path) -> None:
    """Each conversion has its own LibreOffice profile: four at once all succeed."""
    texts: dict[int, str] = {}
    errors: list[BaseException] = []

    def convert(i: int) -> None:
        try:
            texts[i] = load_path(saved_as[(".doc", ".rtf", ".odt", ".doc")[i]]).text
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=convert, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not errors, errors
    assert len({_squeezed(t) for t in texts.values()}) == 1 and len(texts) == 4
    assert list(own_tmp.iterdir()) == []  # every temporary folder was removed


def test_folder_walk_takes_the_old_formats(tmp_path: Path) -> None:
    for name in ("a.doc", "b.RTF", "c.odt", "d.xls"):
        (tmp_path / name).write_bytes(b"x")
    walked = walk_paths([tmp_path])
    assert sorted(p.name for p in walked.files) == ["a.doc", "b.RTF", "c.odt"]
    assert [p.name for p in walked.skipped] == ["d.xls"]
    assert {".doc", ".rtf", ".odt"} <= set(SUPPORTED_SUFFIXES)


def test_docx_under_an_old_name_needs_no_converter(tmp_path: Path) -> None:
    """Word opens a .docx renamed .doc; so do we, without LibreOffice."""
    path = tmp_path / "luu-nham-ten.doc"
    path.write_bytes(SAMPLE_DOCX.read_bytes())
    document = load_path(path, LoadSettings(converter=str(tmp_path / "khong-co")))
    assert document.format == "doc"
    assert document.text == load_path(SAMPLE_DOCX).text


def test_sniff_reads_content_not_names(saved_as: dict[str, Path]) -> None:
    assert sniff(saved_as[".doc"].read_bytes()) == "word"
    assert sniff(saved_as[".rtf"].read_bytes()) == "rtf"
    assert sniff(saved_as[".odt"].read_bytes()) == "odt"
    assert sniff(SAMPLE_DOCX.read_bytes()) == "docx"
    assert sniff(b"PK\x03\x04 broken zip") is None
    assert sniff(b"hello") is None


# --- errors ------------------------------------------------------------------------------------


def test_missing_converter_names_the_file_and_what_to_install(tmp_path: Path) -> None:
    path = tmp_path / "bien-ban-cu.doc"
    path.write_bytes(_fake_doc())
    with pytest.raises(LoadError) as info:
        load_path(path, LoadSettings(converter=str(tmp_path / "no-such-soffice")))
    message = str(info.value)
    assert "bien-ban-cu.doc" in message and "LibreOffice" in message
    assert "libreoffice-writer-nogui" in message and "scripts/install_converter.sh" in message


def test_missing_converter_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither soffice nor libreoffice is found
    with pytest.raises(LoadError) as info:
        load_bytes(_fake_doc(), "uploads/cu.doc")
    assert "cu.doc" in str(info.value) and "apt-get install" in info.value.message


def test_not_a_word_file_is_refused_before_converting(tmp_path: Path) -> None:
    """Random bytes named .doc: LibreOffice would import them as plain text, so the content is
    checked first (and the converter is never needed to say so)."""
    settings = LoadSettings(converter=str(tmp_path / "no-such-soffice"))
    for name, data in (("rac.doc", random.Random(3).randbytes(3000)),
                       ("rac.rtf", b"just text, not rtf"),
                       ("rac.odt", b"PK\x03\x04 not a zip")):
        with pytest.raises(LoadError) as info:
            load_bytes(data, name, settings)
        assert name in info.value.message and "không phải" in info.value.message


def test_odt_zip_bomb_is_refused_before_converting(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.text")
        archive.writestr("content.xml", b"\0" * (4 * 1024 * 1024))
    settings = LoadSettings(converter=str(tmp_path / "no-such-soffice"))
    with pytest.raises(LoadError) as info:
        load_bytes(buffer.getvalue(), "bom.odt", settings)
    assert "zip bomb" in info.value.message and info.value.source == "bom.odt"


def test_converter_timeout_kills_it_and_leaves_nothing(tmp_path: Path, own_tmp: Path) -> None:
    pid_file = tmp_path / "child.pid"
    converter = _fake_converter(tmp_path, f"sleep 60 &\necho $! > '{pid_file}'\nwait")
    settings = LoadSettings(converter=converter, converter_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(LoadError) as info:
        load_bytes(_fake_doc(), "cham.doc", settings)
    assert time.monotonic() - started < 10
    assert "cham.doc" in info.value.message and "quá thời gian" in info.value.message
    assert "1 giây" in info.value.message
    assert not _alive(int(pid_file.read_text())), "the converter's child outlived the time-out"
    assert list(own_tmp.iterdir()) == []


def test_real_converter_timeout_leaves_no_process(soffice: str, saved_as: dict[str, Path],
                                                  own_tmp: Path) -> None:
    settings = LoadSettings(converter=soffice, converter_timeout_s=0.2)
    with pytest.raises(LoadError) as info:
        load_path(saved_as[".doc"], settings)
    assert "quá thời gian" in info.value.message
    assert list(own_tmp.iterdir()) == []
    assert _processes_mentioning(str(own_tmp)) == []


@pytest.mark.parametrize("body", [
    "echo 'Error: source file could not be loaded'; exit 0",  # what LibreOffice does
    "echo 'crashed' >&2; exit 81",
])
def test_converter_failure_is_a_clear_error(tmp_path: Path, own_tmp: Path, body: str) -> None:
    settings = LoadSettings(converter=_fake_converter(tmp_path, body))
    with pytest.raises(LoadError) as info:
        load_bytes(_fake_doc(), "hong.doc", settings)
    assert "hong.doc" in info.value.message and "không chuyển được" in info.value.message
    assert list(own_tmp.iterdir()) == []


def test_corrupt_doc_is_named_in_the_error(soffice: str, saved_as: dict[str, Path], tmp_path: Path,
                                           own_tmp: Path) -> None:
    truncated = tmp_path / "thong-bao-hong.doc"
    truncated.write_bytes(saved_as[".doc"].read_bytes()[:6000])
    noise = tmp_path / "tap-nhieu.doc"
    noise.write_bytes(_fake_doc())
    for path in (truncated, noise):
        with pytest.raises(LoadError) as info:
            load_path(path, LoadSettings(converter=soffice))
        assert path.name in str(info.value) and "không chuyển được" in info.value.message
    assert list(own_tmp.iterdir()) == []


def test_tcvn3_typed_rtf_is_reported(soffice: str, tmp_path: Path) -> None:
    """Text typed in a .VnTime font: Latin-1 look-alike characters, refused with the fix."""
    tcvn3 = "Th«ng b¸o kÕt luËn cña Chñ tÞch UBND x· vÒ c«ng t¸c qu¶n lý ®Êt ®ai vµ x©y dùng. " * 4
    escaped = "".join(f"\\'{ord(ch):02x}" if ord(ch) > 127 else ch for ch in tcvn3)
    path = tmp_path / "vntime.rtf"
    path.write_text("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0 .VnTime;}}\\f0 "
                    + escaped + "\\par}", encoding="ascii")
    with pytest.raises(LoadError) as info:
        load_path(path, LoadSettings(converter=soffice))
    assert "TCVN3" in info.value.message and "Unikey" in info.value.message


def test_timeout_setting_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASSISTANT_LOAD_CONVERTER_TIMEOUT_S", "7.5")
    monkeypatch.setenv("ASSISTANT_LOAD_CONVERTER", "/opt/lo/program/soffice")
    settings = Settings()
    assert settings.load.converter_timeout_s == 7.5
    assert settings.load.converter == "/opt/lo/program/soffice"


# --- CLI and API -------------------------------------------------------------------------------


def _cli(index: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index),
             **env},
    )


def test_cli_reports_a_missing_converter_per_file(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes((SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt").read_bytes())
    (folder / "cu.doc").write_bytes(_fake_doc())
    missing = {"ASSISTANT_LOAD_CONVERTER": str(tmp_path / "no-such-soffice")}
    result = _cli(tmp_path / "idx", "ingest", str(folder), "--json", **missing)
    assert result.returncode == 1
    rows = {Path(r["source"]).name: r for r in json.loads(result.stdout)}
    assert rows["good.txt"]["status"] == "added"
    assert rows["cu.doc"]["status"] == "failed" and "libreoffice-writer-nogui" in rows["cu.doc"]["error"]
    doctor = _cli(tmp_path / "idx", "doctor", **missing)
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "Thiếu LibreOffice" in doctor.stdout and "install_converter.sh" in doctor.stdout
    as_json = json.loads(_cli(tmp_path / "idx", "doctor", "--json", **missing).stdout)
    assert as_json["converter"]["available"] is False
    present = json.loads(_cli(tmp_path / "idx", "doctor", "--json").stdout)
    assert present["converter"]["available"] is (SOFFICE is not None)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(index=tmp_path, embedding={"backend": "fake"},
                        server={"max_upload_bytes": 200_000})
    with TestClient(create_app(settings)) as client:
        yield client


def test_upload_reports_each_file_and_bad_ones_never_reject_the_batch(api: TestClient) -> None:
    good = (SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt").read_bytes()
    files = [
        ("files", ("good.txt", good, "text/plain")),
        ("files", ("rac.doc", random.Random(1).randbytes(2000), "application/msword")),
        ("files", ("virus.exe", b"MZ", "application/octet-stream")),
        ("files", ("lon.txt", b"a" * 200_001, "text/plain")),
        ("files", ("...", good, "text/plain")),
    ]
    response = api.post("/api/notices", files=files)
    assert response.status_code == 200, response.text
    data = response.json()
    rows = [(r["source"], r["status"]) for r in data["results"]]
    assert rows == [("uploads/good.txt", "added"), ("uploads/rac.doc", "failed"),
                    ("uploads/virus.exe", "failed"), ("uploads/lon.txt", "failed"),
                    ("uploads/...", "failed")]
    messages = [r["error"] for r in data["results"][1:]]
    assert "rac.doc" in messages[0] and "không phải" in messages[0]
    assert "'.exe'" in messages[1] and ".doc" in messages[1]
    assert "giới hạn" in messages[2]
    assert "Tên tệp không hợp lệ" in messages[3]
    assert data["stored"] == 1 and data["failed"] == 4
    assert api.get("/api/notices").json()["count"] == 1


def test_upload_of_a_doc_is_stored_with_its_assignments(api: TestClient, saved_as: dict[str, Path]) -> None:
    files = [("files", ("thong-bao.doc", saved_as[".doc"].read_bytes(), "application/msword"))]
    result = api.post("/api/notices", files=files).json()["results"][0]
    assert result["status"] == "added", result
    expected = parse_document(load_path(SAMPLE_DOCX), get_gazetteer(None))
    assert result["assignments"] == len(expected.assignments)
    notice = api.get(f"/api/notices/{result['notice_id']}").json()
    assert notice["source"] == "uploads/thong-bao.doc" and "Phạm Thị Hồng Nhung" in notice["text"]


# --- the real corpus's .doc files ---------------------------------------------------------------

# Short anchors read by hand from each file: a name, a date, a number.
CORPUS_DOC_FACTS = {
    "03_tinh_lam-dong_2026_cchc-phieu-trinh.doc": (
        "PHIẾU TRÌNH", "Nguyễn Ngọc Phúc", "Ngày 26 tháng 01 năm 2026", "Số: /PT-NC"),
    "07_tinh_lam-dong_2026_son-hai-cao-toc.doc": (
        "Nguyễn Hồng Hải", "Ngày 21/4/2026", "Km78+00 - Km81+00", "trước ngày 05/5/2026",
        "Nguyễn Ngọc Nam"),
    "10_tinh_lam-dong_2025_tb493-du-thao-khung.doc": (
        "Lê Trọng Yên", "Ngày 18/7/2025", "PAR INDEX", "Thạch Cảnh Minh Vũ"),
}


@pytest.mark.corpus
@pytest.mark.parametrize("name", sorted(CORPUS_DOC_FACTS))
def test_real_doc_files_load(corpus_dir: Path, soffice: str, name: str) -> None:
    path = corpus_dir / "dev" / name
    if not path.is_file():
        pytest.skip(f"{name} not in the corpus at {corpus_dir / 'dev'}")
    document = load_path(path)
    assert document.format == "doc"
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in document.text
    for fact in CORPUS_DOC_FACTS[name]:
        assert fact in document.text, (name, fact)
    assert "\n\n" not in document.text and "\ufffd" not in document.text
