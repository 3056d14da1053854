"""Scans, images and broken text layers read by OCR (assistant/ocr.py, assistant/syllables.py).

The scans are made here from the team's own sample notices (tests/scans.py: LibreOffice prints
them to PDF, pypdfium2 renders the pages, the images become image-only PDFs, PNGs and TIFFs);
no corpus text is copied. The OCR tests need Tesseract's Vietnamese model and LibreOffice
(``make test`` installs both) and skip with a message without them; in CI they fail instead.
OCR costs seconds a page, so the whole module reads about ten pages.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from pypdf import PdfWriter
from rapidfuzz import fuzz

from assistant.agencies import get_gazetteer
from assistant.api import create_app
from assistant.errors import LoadError
from assistant.ingest import ingest_paths
from assistant.load import load_bytes, load_path
from assistant.model import Assignment, Notice, OcrReason, ocr_label
from assistant.ocr import ocr_status
from assistant.parse import parse_document
from assistant.settings import LoadSettings, Settings
from assistant.store import Store
from assistant.syllables import MIN_WORDS, is_syllable, layer_quality
from assistant.text import fold, unaccent
from tests.conftest import SAMPLES
from tests.scans import (
    image_only_pdf,
    multipage_tiff,
    ocr_missing,
    page_images,
    print_to_pdf,
    tall_png,
    with_text_layer,
)

DOCX_SAMPLE = SAMPLES / "notices" / "2025-09-05_xa-tan-lam_thang-08.docx"  # 3 pages printed
TXT_SAMPLE = SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt"  # 3 pages printed
# The dev corpus's two garbled text layers (09, 11: a scanner's OCR without a Vietnamese model).
BROKEN_LAYERS = (
    "09_tinh_lam-dong_2025_tb493-chi-so-cchc-ocr.txt",
    "11_tinh_lam-dong_2025_bien-ban-hop-hoi-ai-huu-ocr.txt",
)


@pytest.fixture(scope="module")
def ocr_ready() -> None:
    missing = ocr_missing()
    if missing:
        if os.environ.get("CI"):
            # make test installs Tesseract and LibreOffice first: in CI missing is a failure.
            raise RuntimeError(f"CI: {missing}, although make test installs it")
        pytest.skip(missing)


@pytest.fixture(scope="module")
def docx_pages(ocr_ready: None) -> list[Image.Image]:
    return page_images(print_to_pdf(DOCX_SAMPLE))


@pytest.fixture(scope="module")
def txt_pages(ocr_ready: None) -> list[Image.Image]:
    return page_images(print_to_pdf(TXT_SAMPLE))


def _key(item: Assignment) -> tuple[str, str]:
    return item.agency.canonical or fold(item.agency.text), item.role.value


def _found_share(text_version: Notice, ocr_version: Notice) -> float:
    """Share of the text version's assignments that the OCR version has too: same agency, same
    role, and a task that reads the same but for a few characters (ratio >= 85)."""
    left = list(ocr_version.assignments)
    found = 0
    for item in text_version.assignments:
        match = next((other for other in left if _key(other) == _key(item)
                      and fuzz.ratio(fold(item.task), fold(other.task)) >= 85), None)
        if match is not None:
            left.remove(match)
            found += 1
    return found / len(text_version.assignments)


def _spans_point_into(notice: Notice) -> None:
    for item in notice.assignments:
        assert 0 <= item.start < item.end <= len(notice.text)
        assert item.task in notice.text[item.start:item.end] or fold(item.task)[:20] in fold(notice.text)


# --- the measure of a text layer (no OCR) -----------------------------------------------------


def test_syllable_list_is_built_from_spelling_rules() -> None:
    for word in ("Nguyễn", "nghiêng", "quyết", "giêng", "gìn", "khuya", "thuở", "được", "ĐỒNG",
                 "hoà", "hòa", "Tuyên", "xoong"):
        assert is_syllable(word), word
    # garbled OCR, a stop-final rhyme without its sắc/nặng tone, two tones, English
    for word in ("Ldm", "D6ng", "ngdy", "Ngoc", "Phuc", "tiết̀", "the" + "ory", "strong"):
        assert not is_syllable(word), word


def test_sample_notices_pass_and_stripped_or_garbled_layers_do_not() -> None:
    settings = LoadSettings()
    thresholds = (settings.text_layer_min_syllables, settings.text_layer_min_marked)
    for path in sorted((SAMPLES / "notices").iterdir()):
        text = load_path(path).text
        assert layer_quality(text).is_vietnamese(*thresholds), path.name
        # the same text without its diacritics is not usable either (no agency would match)
        assert not layer_quality(unaccent(text)).is_vietnamese(*thresholds), path.name
    assert layer_quality("THONG BAO ket luan").is_vietnamese(*thresholds)  # too short to judge
    assert layer_quality("Ldm D6ng ngdy " * MIN_WORDS).syllable_share < 0.1


@pytest.mark.corpus
@pytest.mark.parametrize("name", BROKEN_LAYERS)
def test_corpus_garbled_layers_are_measured_as_broken(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / "dev" / name
    if not path.is_file():
        pytest.skip(f"{name} not in the corpus at {corpus_dir / 'dev'}")
    quality = layer_quality(path.read_text(encoding="utf-8"))
    assert quality.words > 500
    assert quality.syllable_share < 0.5 and quality.marked_share < 0.1, quality
    settings = LoadSettings()
    assert not quality.is_vietnamese(settings.text_layer_min_syllables, settings.text_layer_min_marked)


# --- scans and images of the samples ----------------------------------------------------------


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(index=tmp_path / "idx", embedding={"backend": "fake"},
                        load={"ocr_low_confidence": 99.5})
    with TestClient(create_app(settings)) as client:
        yield client


def test_image_only_pdf_of_a_sample_is_read_like_its_text(api: TestClient, docx_pages: list[Image.Image]) -> None:
    gazetteer = get_gazetteer(None)
    text_version = parse_document(load_path(DOCX_SAMPLE), gazetteer)
    assert len(text_version.assignments) >= 10
    files = [("files", ("ban-quet.pdf", image_only_pdf(docx_pages), "application/pdf"))]
    result = api.post("/api/notices", files=files).json()["results"][0]
    assert result["status"] == "added", result
    assert result["ocr"]["reason"] == "scan" and result["ocr"]["pages"] == 3
    assert 80 <= result["ocr"]["confidence"] <= 100
    # every page is under the (test's) 99.5 bar, so every page is named
    assert result["ocr"]["low_confidence_pages"] == [1, 2, 3]

    notice = api.get(f"/api/notices/{result['notice_id']}").json()
    assert notice["ocr"] == result["ocr"]
    listed = {item["id"]: item for item in api.get("/api/notices").json()["items"]}
    assert listed[result["notice_id"]]["ocr"]["confidence"] == result["ocr"]["confidence"]
    # pages in order: the heading of page 1 before the recipients of page 3
    assert 0 <= notice["text"].index("THÔNG BÁO") < notice["text"].index("Nơi nhận")
    for fact in ("Phạm Thị Hồng Nhung", "Ngày 03 tháng 9 năm 2025", "15/9/2025"):
        assert fact in notice["text"], fact

    # the stored notice, records and all, against the text version
    with Store(Path(api.app.state.context.settings.db_path)) as store:
        ocr_version = store.get(result["notice_id"])
    assert ocr_version.ocr is not None and ocr_version.ocr.model_dump(mode="json") == result["ocr"]
    assert len(ocr_version.assignments) == result["assignments"]
    assert _found_share(text_version, ocr_version) >= 0.9
    _spans_point_into(ocr_version)
    for item in notice["assignments"]:  # citations quote the OCR text itself
        assert notice["text"][item["start"]:item["end"]] == item["quote"]


def test_png_and_multipage_tiff_of_a_sample(txt_pages: list[Image.Image]) -> None:
    gazetteer = get_gazetteer(None)
    text_version = parse_document(load_path(TXT_SAMPLE), gazetteer)
    assert len(text_version.assignments) >= 10
    pages: list[tuple[int, int]] = []
    tiff = load_bytes(multipage_tiff(txt_pages), "uploads/ban-chup.tif",
                      progress=lambda done, total: pages.append((done, total)))
    count = len(txt_pages)
    assert pages == [(done, count) for done in range(1, count + 1)]
    assert tiff.format == "tif" and tiff.ocr is not None and tiff.ocr.pages == count
    assert tiff.ocr.reason is OcrReason.IMAGE
    png = load_bytes(tall_png(txt_pages), "uploads/anh.png")
    assert png.ocr is not None and png.ocr.pages == 1
    for document in (tiff, png):
        notice = parse_document(document, gazetteer)
        assert _found_share(text_version, notice) >= 0.9, document.source
        _spans_point_into(notice)
        for fact in ("Trần Quốc Khải", "13/3/2024", "45/TB-UBND"):  # a name, a date, a number
            assert fact in document.text, (document.source, fact)


def test_cli_ingest_shows_ocr_and_the_list_marks_it(tmp_path: Path, docx_pages: list[Image.Image]) -> None:
    # The top of page 1 only (the header and the title): a quick page.
    top = docx_pages[0].crop((0, 0, docx_pages[0].width, docx_pages[0].height // 3))
    folder = tmp_path / "in"
    folder.mkdir()
    buffer = io.BytesIO()
    top.save(buffer, format="PNG")
    (folder / "dau-trang.png").write_bytes(buffer.getvalue())
    index = tmp_path / "idx"
    result = _cli(index, "ingest", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OCR (tệp ảnh), độ tin cậy" in result.stdout
    listed = _cli(index, "notices")
    assert "(OCR " in listed.stdout, listed.stdout
    with Store(Settings(index=index).db_path) as store:
        (notice,) = store.notices()
    assert notice.ocr is not None and notice.ocr.reason is OcrReason.IMAGE
    shown = _cli(index, "show", notice.id)
    assert "Đọc bằng: OCR (tệp ảnh)" in shown.stdout, shown.stdout
    doctor = _cli(index, "doctor")
    assert "Nhận dạng chữ (OCR) bản quét và ảnh: Tesseract 'vie' có sẵn" in doctor.stdout, doctor.stdout


def test_ingest_reports_ocr_pages_as_they_are_read(tmp_path: Path, docx_pages: list[Image.Image]) -> None:
    scan = tmp_path / "hai-trang.pdf"
    small = [page.crop((0, 0, page.width, page.height // 4)) for page in docx_pages[:2]]
    scan.write_bytes(image_only_pdf(small))
    settings = Settings(index=tmp_path / "idx", embedding={"backend": "fake"}, load={"ocr_workers": 2})
    heard: list[tuple[str, int, int]] = []
    with Store(settings.db_path) as store:
        results = ingest_paths([scan], store, settings, get_gazetteer(None),
                               on_pages=lambda source, done, total: heard.append((source, done, total)))
        assert results[0].status.value == "added", results[0]
        assert results[0].ocr is not None and "OCR (bản quét không có lớp chữ)" in ocr_label(results[0].ocr)
        assert store.get(results[0].notice_id or "").ocr == results[0].ocr
    assert heard == [(str(scan), 1, 2), (str(scan), 2, 2)]


def test_upload_progress_counts_files_and_ocr_pages(tmp_path: Path, docx_pages: list[Image.Image]) -> None:
    small = [page.crop((0, 0, page.width, page.height // 4)) for page in docx_pages[:2]]
    settings = Settings(index=tmp_path / "idx", embedding={"backend": "fake"})
    seen: list[dict[str, object]] = []
    with TestClient(create_app(settings)) as client:
        files = [("files", ("hai-trang.pdf", image_only_pdf(small), "application/pdf")),
                 ("files", ("sai.exe", b"MZ", "application/octet-stream"))]
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                response = client.get("/api/uploads/tien-do-0001")
                if response.status_code == 200:
                    seen.append(response.json())
                done.wait(0.2)

        watcher = threading.Thread(target=poll)
        watcher.start()
        try:
            result = client.post("/api/notices", files=files, data={"progress_id": "tien-do-0001"})
        finally:
            done.set()
            watcher.join()
        assert [r["status"] for r in result.json()["results"]] == ["added", "failed"]
        final = client.get("/api/uploads/tien-do-0001").json()
        assert final == {"files": 2, "done_files": 2, "current": "hai-trang.pdf",
                         "pages_done": 2, "pages_total": 2}
        # what the page polled only ever went forward
        pages = [entry["pages_done"] for entry in seen if entry["current"] == "hai-trang.pdf"]
        assert pages == sorted(pages)
        # an id that is not a plausible one is not tracked; an unknown one is a clear 404
        client.post("/api/notices", files=files[1:], data={"progress_id": "../x"})
        missing = client.get("/api/uploads/khong-co-ma-nay")
        assert missing.status_code == 404 and "Không có lần tải lên" in missing.json()["error"]["message"]


# --- broken text layers -------------------------------------------------------------------------


@pytest.mark.corpus
@pytest.mark.parametrize("name", BROKEN_LAYERS)
def test_pdf_with_a_garbled_layer_is_read_by_ocr_instead(
    corpus_dir: Path, docx_pages: list[Image.Image], name: str
) -> None:
    """The corpus keeps only the garbled layers of its two signed scans, not the scans: each
    layer is laid over the first page of our own sample, as a scanner's OCR lays its reading
    over the image. The loader must see that the layer is not Vietnamese and read the image."""
    path = corpus_dir / "dev" / name
    if not path.is_file():
        pytest.skip(f"{name} not in the corpus at {corpus_dir / 'dev'}")
    layer = path.read_text(encoding="utf-8")
    pdf = with_text_layer(image_only_pdf(docx_pages[:1]), layer)
    document = load_bytes(pdf, "uploads/da-ky-so.pdf")
    assert document.ocr is not None and document.ocr.reason is OcrReason.BROKEN_LAYER
    assert document.ocr.layer_syllable_share is not None and document.ocr.layer_syllable_share < 0.5
    assert "lớp chữ sẵn có bị lỗi" in ocr_label(document.ocr)
    # facts of the page (a name, a date, a number), none of the layer's garbled words
    for fact in ("Phạm Thị Hồng Nhung", "Ngày 03 tháng 9 năm 2025", "TB-UBND"):
        assert fact in document.text, fact
    for garbled in ("Ldm D6ng", "ngdy", "D6ng"):
        assert garbled not in document.text


# --- clear errors, nothing half-stored ----------------------------------------------------------


def _blank_pages(count: int) -> list[Image.Image]:
    return [Image.new("L", (1654, 2339), 255) for _ in range(count)]


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt("mat-khau")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_each_bad_scan_has_its_own_message_naming_the_file(ocr_ready: None) -> None:
    cases = {
        "mat-khau.pdf": (_encrypted_pdf(), LoadSettings(), "mã hóa bằng mật khẩu"),
        "qua-dai.pdf": (image_only_pdf(_blank_pages(3)), LoadSettings(ocr_max_pages=2),
                        "có 3 trang cần nhận dạng ký tự (OCR), vượt giới hạn 2 trang"),
        "trang-trang.pdf": (image_only_pdf(_blank_pages(1)), LoadSettings(), "Không tìm thấy chữ nào"),
        "anh-hong.png": (b"\x89PNG\r\n\x1a\n" + b"\0" * 200, LoadSettings(), "không phải ảnh đọc được"),
        "anh-hong.tif": (b"II*\x00" + b"\x01" * 100, LoadSettings(), "không phải ảnh đọc được"),
    }
    messages = {}
    for name, (data, settings, fragment) in cases.items():
        with pytest.raises(LoadError) as info:
            load_bytes(data, f"uploads/{name}", settings)
        assert fragment in info.value.message, (name, info.value.message)
        assert f"«{name}»" in info.value.message
        messages[name] = info.value.message.replace(name, "")
    # encrypted, over the page limit, empty: three messages, none the corrupt image's
    assert len({messages[name] for name in ("mat-khau.pdf", "qua-dai.pdf", "trang-trang.pdf",
                                            "anh-hong.png")}) == 4


def test_without_the_model_a_scan_fails_with_what_to_install(tmp_path: Path) -> None:
    settings = LoadSettings(ocr_tessdata=tmp_path)  # a folder without vie.traineddata
    status = ocr_status(settings)
    assert not status.available and status.problem and "install_ocr.sh" in status.problem
    with pytest.raises(LoadError) as info:
        load_bytes(_png(_blank_pages(1)[0]), "uploads/anh.png", settings)
    assert "«anh.png»" in info.value.message and "tesseract-ocr-vie" in info.value.message


def test_time_limits_stop_a_page_and_a_file_with_a_message(docx_pages: list[Image.Image]) -> None:
    page = _png(docx_pages[0])
    with pytest.raises(LoadError) as info:
        load_bytes(page, "uploads/cham.png", LoadSettings(ocr_page_timeout_s=0.01))
    assert "trang 1 của tệp «cham.png» quá thời gian" in info.value.message
    with pytest.raises(LoadError) as info:
        load_bytes(image_only_pdf(docx_pages), "uploads/dai.pdf", LoadSettings(ocr_file_timeout_s=0.3))
    assert "tệp «dai.pdf» quá 0.3 giây" in info.value.message or "quá thời gian" in info.value.message


def test_an_image_named_pdf_is_read_as_the_image_it_is(docx_pages: list[Image.Image]) -> None:
    top = docx_pages[0].crop((0, 0, docx_pages[0].width, docx_pages[0].height // 3))
    buffer = io.BytesIO()
    top.save(buffer, format="PNG")
    document = load_bytes(buffer.getvalue(), "uploads/that-ra-la-anh.pdf")
    assert document.ocr is not None and document.ocr.reason is OcrReason.IMAGE
    assert "THÔNG BÁO" in document.text and "Phạm Thị Hồng Nhung" in document.text


def test_upload_batch_with_bad_scans_stores_only_the_good_file(tmp_path: Path, ocr_ready: None) -> None:
    settings = Settings(index=tmp_path / "idx", embedding={"backend": "fake"}, load={"ocr_max_pages": 2})
    good = TXT_SAMPLE.read_bytes()
    files = [
        ("files", ("mat-khau.pdf", _encrypted_pdf(), "application/pdf")),
        ("files", ("tot.txt", good, "text/plain")),
        ("files", ("trang-trang.png", _png(_blank_pages(1)[0]), "image/png")),
        ("files", ("qua-dai.tif", multipage_tiff(_blank_pages(3)), "image/tiff")),
    ]
    with TestClient(create_app(settings)) as client:
        data = client.post("/api/notices", files=files).json()
        assert [(r["source"], r["status"]) for r in data["results"]] == [
            ("uploads/mat-khau.pdf", "failed"), ("uploads/tot.txt", "added"),
            ("uploads/trang-trang.png", "failed"), ("uploads/qua-dai.tif", "failed")]
        assert data["stored"] == 1 and data["failed"] == 3
        assert client.get("/api/notices").json()["count"] == 1
    # nothing of a failed file is kept, not even its original
    assert sorted(p.name for p in (settings.index / "uploads").iterdir()) == ["tot.txt"]


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _cli(index: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, timeout=300,
        env={**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)},
    )
