"""Scans and images -> text, with Tesseract's Vietnamese model (OCR).

Pages of a PDF are rendered with pypdfium2 (PDFium, the engine of Chromium's PDF viewer);
images (.png, .jpg, .tif with any number of pages) are opened with Pillow. Each page is read by
Tesseract through tesserocr, in-process: one engine per worker thread, ``ocr_workers`` pages
at once (recognition releases the GIL), each engine on one core: Tesseract's own OpenMP
threads only slow things down when pages run in parallel on a small machine. The model is
Debian's ``tesseract-ocr-vie`` (``scripts/install_ocr.sh``).

Pages are rendered one at a time as workers free up, so memory holds a few page images, not the
whole file. Limits (settings): pages per file (checked before any work), seconds per page and
per file; past a limit the file fails with a message naming it, never a hung server.

The text of a document is its pages' texts in order, one line per line Tesseract found, a
blank line between its blocks; ``load.py`` reflows it like a PDF's text layer, and every span
downstream points into that text.
"""

from __future__ import annotations

import io
import logging
import queue
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import LoadError
from assistant.model import OcrInfo, OcrReason
from assistant.settings import LoadSettings
from assistant.text import is_caps, nfc

if TYPE_CHECKING:
    from PIL.Image import Image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff")
INSTALL_HINT = (
    "Cài Tesseract và mô hình tiếng Việt: sudo apt-get install tesseract-ocr tesseract-ocr-vie "
    "(hoặc chạy sh scripts/install_ocr.sh)"
)
# (done pages, total pages) after each page; the CLI draws its bar from it.
PageProgress = Callable[[int, int], None]

_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"II*\x00", "tiff"),
    (b"MM\x00*", "tiff"),
    (b"BM", "bmp"),
    (b"GIF8", "gif"),
)
_TESSDATA_GLOBS = ("/usr/share/tesseract-ocr/*/tessdata", "/usr/share/tessdata",
                   "/usr/local/share/tessdata")


def sniff_image(data: bytes) -> str | None:
    """The image format the bytes are in (``png``, ``jpeg``, ``tiff``…), whatever the name says."""
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


# --- the engine ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PageText:
    text: str
    confidence: float  # mean word confidence, 0-100; 0 when no word was found
    words: int


@dataclass(frozen=True)
class OcrStatus:
    """Whether OCR can run here, and if not, why (shown by ``assistant status``-like checks)."""

    tessdata: str | None
    problem: str | None

    @property
    def available(self) -> bool:
        return self.problem is None


def find_tessdata(settings: LoadSettings) -> str | None:
    """The folder that holds every model of ``ocr_language`` (``vie`` -> ``vie.traineddata``)."""
    languages = settings.ocr_language.split("+")
    if settings.ocr_tessdata is not None:
        candidates = [settings.ocr_tessdata]
    else:
        candidates = [p for pattern in _TESSDATA_GLOBS for p in sorted(Path("/").glob(pattern.lstrip("/")))]
    for folder in candidates:
        if all((folder / f"{language}.traineddata").is_file() for language in languages):
            return str(folder)
    return None


def ocr_status(settings: LoadSettings | None = None) -> OcrStatus:
    settings = settings or LoadSettings()
    try:
        import tesserocr  # noqa: F401
    except ImportError:
        return OcrStatus(None, "thiếu thư viện Python tesserocr (pip install tesserocr)")
    tessdata = find_tessdata(settings)
    if tessdata is None:
        return OcrStatus(None, f"không tìm thấy mô hình Tesseract '{settings.ocr_language}'. {INSTALL_HINT}")
    return OcrStatus(tessdata, None)


class _Engines:
    """Tesseract engines for the worker threads: each is used by one page at a time and kept
    for the next page (loading the model takes a few tenths of a second)."""

    def __init__(self, tessdata: str, settings: LoadSettings) -> None:
        self._tessdata = tessdata
        self._language = settings.ocr_language
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._all: list[Any] = []

    def recognize(self, image: Image, dpi: int | None, timeout_s: float) -> PageText:
        import tesserocr

        try:
            api = self._idle.get_nowait()
        except queue.Empty:
            api = tesserocr.PyTessBaseAPI(path=self._tessdata, lang=self._language,
                                          psm=tesserocr.PSM.AUTO)
            self._all.append(api)
        try:
            api.SetImage(image)
            if dpi:
                api.SetSourceResolution(dpi)
            if not api.Recognize(timeout=max(1, int(timeout_s * 1000))):
                raise TimeoutError
            text = api.GetUTF8Text() or ""
            confidences = [c for c in api.AllWordConfidences() if c >= 0]
        finally:
            self._idle.put(api)
        mean = sum(confidences) / len(confidences) if confidences else 0.0
        return PageText(restore_heading_periods(nfc(text)), mean, len(confidences))

    def close(self) -> None:
        for api in self._all:
            api.End()


# A part heading whose period Tesseract dropped: 'II NHIỆM VỤ …' for 'II. NHIỆM VỤ …' (a dot
# after a bold capital is the smallest mark on the page). Without it the heading is not a
# heading and the tasks under it go unread.
_BARE_ROMAN_HEADING = re.compile(r"^(?P<number>[IVX]{1,4})(?= [^\W\d_])", re.MULTILINE)


def restore_heading_periods(text: str) -> str:
    """Put back the period of a Roman-numbered heading line written in capitals."""

    def fix(match: re.Match[str]) -> str:
        line_end = text.find("\n", match.end())
        rest = text[match.end():line_end if line_end >= 0 else len(text)]
        return match.group("number") + "." if is_caps(rest, min_letters=4) else match.group(0)

    return _BARE_ROMAN_HEADING.sub(fix, text)


# --- pages ----------------------------------------------------------------------------------


@dataclass
class _Pages:
    count: int
    images: Iterator[Image]  # rendered lazily, in order
    dpi: int | None  # known resolution (rendered PDF pages); None: the image's own
    close: Callable[[], None]


# A page with fewer letters than this in its text layer, and an image on it, is a scanned page
# (a signature stamp or a page number may be all the text such a page carries).
SCANNED_PAGE_LETTERS = 150


@dataclass(frozen=True)
class PdfSurvey:
    pages: int
    scanned: int  # pages that are an image with (almost) no text layer


def survey_pdf(data: bytes, name: str) -> PdfSurvey:
    """Pages and scanned pages of a PDF; LoadError naming the file when it is encrypted or
    broken."""
    import pypdfium2.raw as pdfium_c

    document = _pdf_document(data, name)
    scanned = 0
    try:
        for index in range(len(document)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                letters = sum(ch.isalpha() for ch in textpage.get_text_range())
                textpage.close()
                if letters < SCANNED_PAGE_LETTERS and any(
                    True for _ in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=3)
                ):
                    scanned += 1
            finally:
                page.close()
        return PdfSurvey(len(document), scanned)
    finally:
        document.close()


def _pdf_document(data: bytes, name: str) -> Any:
    import pypdfium2 as pdfium

    base = Path(name).name
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise LoadError(
                f"Tệp PDF «{base}» được mã hóa bằng mật khẩu nên không đọc được. Hãy gỡ mật khẩu "
                "(mở bằng trình đọc PDF, in/lưu lại thành PDF không mật khẩu) rồi nạp lại.",
                source=name,
            ) from exc
        raise LoadError(f"Tệp PDF «{base}» bị hỏng, không đọc được.", source=name) from exc


def _pdf_pages(data: bytes, name: str, settings: LoadSettings) -> _Pages:
    document = _pdf_document(data, name)
    scale = settings.ocr_dpi / 72

    def render() -> Iterator[Image]:
        for index in range(len(document)):
            page = document[index]
            try:
                bitmap = page.render(scale=scale, grayscale=True)
                yield bitmap.to_pil()
            finally:
                page.close()

    return _Pages(len(document), render(), settings.ocr_dpi, document.close)


def _image_pages(data: bytes, name: str) -> _Pages:
    from PIL import Image as PILImage
    from PIL import ImageSequence, UnidentifiedImageError

    base = Path(name).name
    try:
        image = PILImage.open(io.BytesIO(data))
        count = getattr(image, "n_frames", 1)
    except (UnidentifiedImageError, PILImage.DecompressionBombError, OSError, ValueError) as exc:
        raise LoadError(
            f"Tệp «{base}» không phải ảnh đọc được (hỏng hoặc định dạng ảnh không hỗ trợ; nhận "
            ".png, .jpg, .tif).",
            source=name,
        ) from exc

    def frames() -> Iterator[Image]:
        try:
            for frame in ImageSequence.Iterator(image):
                yield frame.convert("L")
        except (OSError, ValueError, PILImage.DecompressionBombError) as exc:
            raise LoadError(f"Ảnh «{base}» bị hỏng, không đọc hết được các trang.", source=name) from exc

    return _Pages(count, frames(), None, image.close)


# --- documents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OcrResult:
    text: str
    info: OcrInfo


def ocr_file(
    data: bytes,
    name: str,
    settings: LoadSettings,
    reason: OcrReason,
    progress: PageProgress | None = None,
    layer_syllable_share: float | None = None,
) -> OcrResult:
    """OCR every page of a PDF (``reason`` scan or broken layer) or of an image file."""
    base = Path(name).name
    status = ocr_status(settings)
    if status.tessdata is None:
        what = "bản quét" if reason is not OcrReason.IMAGE else "ảnh"
        raise LoadError(
            f"Tệp «{base}» là {what}, cần nhận dạng ký tự (OCR) nhưng máy này chưa sẵn sàng: "
            f"{status.problem}.",
            source=name,
        )
    pages = _image_pages(data, name) if reason is OcrReason.IMAGE else _pdf_pages(data, name, settings)
    try:
        if pages.count > settings.ocr_max_pages:
            raise LoadError(
                f"Tệp «{base}» có {pages.count} trang cần nhận dạng ký tự (OCR), vượt giới hạn "
                f"{settings.ocr_max_pages} trang mỗi tệp. Hãy tách tệp thành nhiều phần, hoặc tăng "
                "ASSISTANT_LOAD_OCR_MAX_PAGES.",
                source=name,
            )
        texts = _recognize_all(pages, name, settings, status.tessdata, progress)
    finally:
        pages.close()
    words = sum(page.words for page in texts)
    if not any(page.text.strip() for page in texts) or words == 0:
        raise LoadError(
            f"Không tìm thấy chữ nào trong tệp «{base}» khi nhận dạng ký tự (OCR): trang trắng, "
            "ảnh quá mờ hoặc không phải văn bản. Hãy quét lại rõ hơn (200-300 dpi) rồi nạp lại.",
            source=name,
        )
    mean = sum(page.confidence * page.words for page in texts) / words
    low = [number for number, page in enumerate(texts, start=1)
           if page.words and page.confidence < settings.ocr_low_confidence]
    info = OcrInfo(
        reason=reason,
        confidence=round(mean, 1),
        pages=len(texts),
        page_confidences=[round(page.confidence, 1) for page in texts],
        low_confidence_pages=low,
        layer_syllable_share=None if layer_syllable_share is None else round(layer_syllable_share, 3),
    )
    return OcrResult("\n".join(page.text for page in texts), info)


def _recognize_all(
    pages: _Pages, name: str, settings: LoadSettings, tessdata: str, progress: PageProgress | None
) -> list[PageText]:
    base = Path(name).name
    deadline = time.monotonic() + settings.ocr_file_timeout_s
    engines = _Engines(tessdata, settings)
    results: dict[int, PageText] = {}
    pending: dict[Future[PageText], int] = {}
    workers = min(settings.ocr_workers, pages.count) or 1

    def collect(done: set[Future[PageText]]) -> None:
        for future in done:
            number = pending.pop(future)
            try:
                results[number] = future.result()
            except TimeoutError:
                raise LoadError(
                    f"Nhận dạng ký tự (OCR) trang {number + 1} của tệp «{base}» quá thời gian cho "
                    "phép nên đã dừng. Tệp có thể quá lớn hoặc ảnh bất thường; hãy tách tệp hoặc "
                    "tăng ASSISTANT_LOAD_OCR_PAGE_TIMEOUT_S / ASSISTANT_LOAD_OCR_FILE_TIMEOUT_S.",
                    source=name,
                ) from None
            except RuntimeError as exc:
                raise LoadError(
                    f"Tesseract không đọc được trang {number + 1} của tệp «{base}»: {exc}.",
                    source=name,
                ) from exc
            if progress:
                progress(len(results), pages.count)

    executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ocr")
    try:
        for number, image in enumerate(pages.images):
            while len(pending) >= workers:  # render ahead only as far as workers are free
                done, _ = wait(pending, timeout=_remaining(deadline), return_when=FIRST_COMPLETED)
                if not done:
                    raise _file_timeout(base, name, settings)
                collect(done)
            pending[executor.submit(engines.recognize, image, pages.dpi,
                                    min(settings.ocr_page_timeout_s, _remaining(deadline)))] = number
        while pending:
            done, _ = wait(pending, timeout=_remaining(deadline), return_when=FIRST_COMPLETED)
            if not done:
                raise _file_timeout(base, name, settings)
            collect(done)
    finally:
        # Pages already handed to Tesseract finish within their own time limit; the engines are
        # freed once they have.
        executor.shutdown(wait=True, cancel_futures=True)
        engines.close()
    return [results[number] for number in range(len(results))]


def _remaining(deadline: float) -> float:
    return max(0.001, deadline - time.monotonic())


def _file_timeout(base: str, name: str, settings: LoadSettings) -> LoadError:
    return LoadError(
        f"Nhận dạng ký tự (OCR) tệp «{base}» quá {settings.ocr_file_timeout_s:g} giây nên đã dừng. "
        "Hãy tách tệp thành nhiều phần, hoặc tăng ASSISTANT_LOAD_OCR_FILE_TIMEOUT_S.",
        source=name,
    )
