"""Files -> LoadedDocument: decode, NFC, and reflow lines hard-wrapped by PDF extraction.

Formats: .txt, .md, .docx, .pdf (text layer); .doc, .rtf and .odt through LibreOffice; scans
(a PDF without a text layer or with a garbled one) and images (.png, .jpg, .tif) through OCR
(assistant/ocr.py; the text-layer measure is assistant/syllables.py).

The text produced here is the reference for every span downstream, so loading is the only
place where the text is allowed to change (newlines, spaces, reflow); later stages only read it.
"""

from __future__ import annotations

import io
import logging
import re
import statistics
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import LoadError, UnsupportedFileType
from assistant.model import LoadedDocument, OcrInfo, OcrReason
from assistant.ocr import IMAGE_SUFFIXES, PageProgress, is_pdf, ocr_file, sniff_image, survey_pdf
from assistant.office import CONVERTED_SUFFIXES, convert_to_docx, sniff
from assistant.settings import LoadSettings
from assistant.syllables import layer_quality
from assistant.text import is_caps, nfc, strip_controls

log = logging.getLogger(__name__)

# .doc, .rtf and .odt go through LibreOffice (assistant/office.py) and then the .docx path.
# Scans and images go through OCR (assistant/ocr.py).
SUPPORTED_SUFFIXES = (".txt", ".md", ".docx", ".pdf", *CONVERTED_SUFFIXES, *IMAGE_SUFFIXES)

# Characters that TCVN3 (ABC) text shows when read as Windows-1252/Latin-1: á=¸, à=µ, ả=¶,
# ã=·, ạ=¹, ô=«, đ=®, ư=­ … They almost never occur in real Vietnamese Unicode text.
_TCVN3_MARKS = set("¸µ¶·¹«®¬¦§¨©ª¾½¼»ºÌÎÏÑÒÓÔÕÖ×ØÙÚÛÜÝÞß")
# VNI text read as Windows-1252 puts tone/shape marks after the base letter: "Thoâng baùo".
_VNI_PAIR = re.compile(r"[aeiouyAEIOUY][øùûõïöôâêñ]|[aeiouyâêô][øùûõï]")
_VIETNAMESE_LETTERS = re.compile(
    r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.IGNORECASE
)


@dataclass
class WalkResult:
    files: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    # Folder entries not read, each with the reason (links out of the folder, FIFOs…).
    refused: list[tuple[Path, str]] = field(default_factory=list)


def walk_paths(paths: Iterable[Path]) -> WalkResult:
    """Expand folders recursively. Unsupported files inside folders are skipped, not failed;
    an unsupported file named explicitly stays in ``files`` so that loading reports it."""
    result = WalkResult()
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for child in sorted(path.rglob("*")):
                if child.name.startswith(".") or (child.is_dir() and not child.is_symlink()):
                    continue
                if (problem := _not_a_plain_file(child, root)) is not None:
                    result.refused.append((child, problem))
                elif child.is_dir():
                    continue  # a link to a folder inside this one: walked there
                elif child.suffix.lower() in SUPPORTED_SUFFIXES:
                    result.files.append(child)
                else:
                    result.skipped.append(child)
        else:
            result.files.append(path)
    return result


def _not_a_plain_file(child: Path, root: Path) -> str | None:
    """Why a folder entry is not read, said instead of dropping it silently: a link that
    leads nowhere or out of the folder being ingested (a link to /etc/passwd must not be
    stored), a FIFO (reading it would wait forever), a socket or a device."""
    if child.is_symlink():
        target = child.resolve()
        if not target.exists():
            return "liên kết tượng trưng hỏng (tệp đích không tồn tại); không nạp"
        if not target.is_relative_to(root):
            return "liên kết tượng trưng trỏ ra ngoài thư mục đang nạp; không nạp vì an toàn"
        return None
    if child.is_fifo():
        return "là một FIFO (ống dẫn), không phải tệp thông thường; không nạp"
    if not child.is_file():
        return "không phải tệp thông thường (socket hoặc thiết bị); không nạp"
    return None


def load_path(
    path: Path,
    settings: LoadSettings | None = None,
    source: str | None = None,
    progress: PageProgress | None = None,
) -> LoadedDocument:
    settings = settings or LoadSettings()
    name = source or str(path)
    suffix = path.suffix.lower()
    if not path.exists() and not path.is_symlink():
        raise LoadError("Không tìm thấy tệp hoặc thư mục này (đường dẫn không tồn tại).", source=name)
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileType(
            f"Định dạng '{suffix or '(không có phần mở rộng)'}' không được hỗ trợ "
            f"(chỉ nhận {', '.join(SUPPORTED_SUFFIXES)}).",
            source=name,
        )
    if not path.exists():
        raise LoadError("Không tìm thấy tệp.", source=name)
    if not path.is_file():
        raise LoadError("Không phải là tệp thông thường.", source=name)
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        raise LoadError(
            f"Tệp quá lớn ({size // 1_048_576} MB; giới hạn "
            f"{settings.max_file_bytes // 1_048_576} MB).",
            source=name,
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"Không đọc được tệp: {exc.strerror or exc}.", source=name) from exc
    return load_bytes(data, name, settings, progress)


def load_bytes(
    data: bytes, name: str, settings: LoadSettings | None = None, progress: PageProgress | None = None
) -> LoadedDocument:
    """Load an in-memory file (uploads); ``name`` decides the type and is used in messages.
    ``progress`` hears of each page read by OCR."""
    settings = settings or LoadSettings()
    suffix = Path(name).suffix.lower()
    ocr: OcrInfo | None = None
    if len(data) > settings.max_file_bytes:
        raise LoadError("Tệp quá lớn.", source=name)
    if not data.strip():
        raise LoadError("Tệp rỗng, không có nội dung.", source=name)
    if suffix in (".txt", ".md"):
        text = decode_text(data, name)
        # Before reflow: the limit is there to bound the time spent on the text.
        check_text_length(text, name, settings)
        if suffix == ".md":
            text = _strip_markdown(text)
        paragraphs = reflow(text.split("\n"), markdown=suffix == ".md")
    elif suffix == ".docx":
        paragraphs = _docx_paragraphs(data, name, settings)
    elif suffix == ".pdf" or suffix in IMAGE_SUFFIXES:
        text, ocr = _pdf_or_image_text(data, name, settings, progress)
        paragraphs = reflow(text.split("\n"))
    elif suffix in CONVERTED_SUFFIXES:
        paragraphs = _converted_paragraphs(data, name, settings)
    else:
        raise UnsupportedFileType(f"Định dạng '{suffix}' không được hỗ trợ.", source=name)
    # NUL and terminal escapes anywhere in the text (the binary check samples its start only)
    # are never stored: printed back, an escape sequence would rewrite the user's terminal.
    text = strip_controls("\n".join(paragraphs)).strip()
    if not text:
        raise LoadError("Tệp không có nội dung văn bản.", source=name)
    check_text_length(text, name, settings)
    return LoadedDocument(source=name, format=suffix.lstrip("."), text=text, ocr=ocr)


def check_text_length(text: str, name: str, settings: LoadSettings) -> None:
    """Refuse a text longer than ``settings.max_text_chars`` (named in the error)."""
    _check_char_count(len(text), name, settings)


def _check_char_count(count: int, name: str, settings: LoadSettings, *, at_least: bool = False) -> None:
    # Parsing is linear but slow per character (several seconds per million): a file of many
    # megabytes of text would keep a worker busy for minutes. Extraction checks the running
    # count (``at_least``: it stopped early), so a small file that expands is cut off at once.
    if count > settings.max_text_chars:
        size = f"hơn {settings.max_text_chars}" if at_least else str(count)
        raise LoadError(
            f"Văn bản quá dài ({size} ký tự; giới hạn {settings.max_text_chars}), không giống "
            "một thông báo. Hãy kiểm tra lại nội dung tệp hoặc tách thành nhiều tệp.",
            source=name,
        )


# --- decoding -----------------------------------------------------------------------------


def decode_text(data: bytes, name: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        raw = _decode(data[3:], "utf-8", name)
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raw = _decode(data, "utf-16", name)
    else:
        if b"\x00" in data[:4096]:
            raise LoadError(
                "Tệp chứa dữ liệu nhị phân, không phải văn bản (hoặc là UTF-16 không có BOM).",
                source=name,
            )
        try:
            raw = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            legacy = _guess_legacy_bytes(data)
            if legacy:
                raise LoadError(
                    f"Tệp dùng bảng mã tiếng Việt cũ ({legacy}), không phải Unicode. Hãy chuyển "
                    "sang Unicode UTF-8 (ví dụ bằng Unikey: Công cụ chuyển mã) rồi nạp lại.",
                    source=name,
                ) from exc
            raise LoadError(
                f"Không giải mã được tệp theo UTF-8 (byte lỗi ở vị trí {exc.start}); tệp không phải "
                "văn bản Unicode.",
                source=name,
            ) from exc
    text = nfc(raw.replace("\r\n", "\n").replace("\r", "\n"))
    _reject_binary(text, name)
    legacy = _guess_legacy_text(text)
    if legacy:
        raise LoadError(
            f"Văn bản có vẻ được gõ bằng bảng mã cũ ({legacy}) nên hiển thị sai dấu. Hãy chuyển sang "
            "Unicode (ví dụ bằng Unikey: Công cụ chuyển mã) rồi nạp lại.",
            source=name,
        )
    return text


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"Tệp khai báo {encoding.upper()} nhưng có byte không hợp lệ ở vị trí {exc.start}.",
            source=name,
        ) from exc


def _reject_binary(text: str, name: str) -> None:
    sample = text[:20000]
    if not sample:
        return
    controls = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\n\t\f")
    if controls / len(sample) > 0.01 or ("\ufffd" in sample[:2000] and sample.count("\ufffd") > 20):
        raise LoadError("Tệp chứa dữ liệu nhị phân, không phải văn bản.", source=name)


def _guess_legacy_text(text: str) -> str | None:
    letters = sum(1 for ch in text[:50000] if ch.isalpha())
    if letters < 20:
        return None
    sample = text[:50000]
    vietnamese = len(_VIETNAMESE_LETTERS.findall(sample))
    tcvn = sum(1 for ch in sample if ch in _TCVN3_MARKS)
    vni = len(_VNI_PAIR.findall(sample))
    if vni > max(10, letters * 0.02) and vni > vietnamese * 0.5 and vni >= tcvn:
        return "VNI"
    if tcvn > max(10, letters * 0.03) and tcvn > vietnamese:
        return "TCVN3/ABC"
    return None


def _guess_legacy_bytes(data: bytes) -> str | None:
    text = data.decode("cp1252", errors="replace")
    guess = _guess_legacy_text(text)
    if guess:
        return guess
    # Windows-1258 keeps tone marks as separate combining bytes (0xCC, 0xEC, 0xD2, 0xDE, 0xF2).
    try:
        as_1258 = data.decode("cp1258")
    except UnicodeDecodeError:
        return None
    if len(_VIETNAMESE_LETTERS.findall(nfc(as_1258))) > 10:
        return "Windows-1258"
    return None


# --- reflow -------------------------------------------------------------------------------

_MARKER = re.compile(
    r"^(?:[-+*•–—]\s|[a-zđ]\)\s?|\d+(?:\.\d+)*[.)]\s?(?=\D)|[IVXLC]+\.\s?)", re.UNICODE
)
_NUMBERED_HEADING = re.compile(r"^(?:\d{1,2}(?:\.\d{1,2})*\.|[IVX]{1,4}\.)\s*(?=[^\W\d_])")
_OPENING_DATE = re.compile(
    r"^(?:(?:(?:Sáng|Chiều|Tối|Trưa|Từ|Vào)\s+ngày|Ngày)\s+\d|Vào\s+(?:hồi|lúc)\s+\d)"
)
_NUMBERED = re.compile(r"^(?:\d+(?:\.\d+)*[.)]|[IVXLC]+\.|[a-zđ]\)|\*)")
_TERMINAL = (".", ":", "!", "?", "…", "./.", '"', "”", ")")
_SPACES = re.compile(r"[ \t\u00a0]+")


@dataclass
class _Paragraph:
    text: str
    last_line: int  # length of its last physical line: was that line filled to the wrap?
    lines: int
    marked: bool  # starts with a numbered heading marker (1., 1.2., II., a), *)


def reflow(lines: list[str], markdown: bool = False) -> list[str]:
    """Join lines hard-wrapped by PDF extraction into paragraphs; list items stay separate.

    A line continues the previous one when it starts in lowercase, or when the previous
    physical line fills the wrap width without ending a sentence. Files written one paragraph
    per line (no wrap width) are left as they are.
    """
    cleaned = [_SPACES.sub(" ", line).strip() for line in lines]
    nonblank = [line for line in cleaned if line]
    if not nonblank:
        return []
    lengths = sorted(len(line) for line in nonblank)
    wrap = lengths[int(0.9 * (len(lengths) - 1))]
    hard_wrapped = len(nonblank) >= 8 and wrap <= 160 and statistics.median(lengths) >= 25
    paragraphs: list[_Paragraph] = []
    for line in nonblank:
        if hard_wrapped and paragraphs and _continues(paragraphs[-1], line, wrap, markdown):
            last = paragraphs[-1]
            last.text = last.text + " " + line
            last.last_line = len(line)
            last.lines += 1
        else:
            paragraphs.append(_Paragraph(line, len(line), 1, bool(_NUMBERED.match(line))))
    return [p.text for p in paragraphs]


def _continues(previous: _Paragraph, line: str, wrap: int, markdown: bool = False) -> bool:
    ends_sentence = previous.text.endswith(_TERMINAL)
    filled = previous.last_line >= 0.7 * wrap
    heading = _NUMBERED_HEADING.match(line)
    if (heading and line[heading.end()].isupper()) or _OPENING_DATE.match(line):
        # "2. Lĩnh vực …" or "Chiều ngày 10 …" after an unterminated line (a heading or a
        # title has no final period) starts a new part; "2026. Đồng chí" (a wrapped year) does not.
        return False
    if _MARKER.match(line):
        # "- Thông tin và Thể thao" after a line filled to the wrap is the rest of a name, not a
        # bullet; after a one-line numbered heading, or a line short of the wrap, it is a bullet.
        if previous.marked and previous.lines == 1:
            return False
        nearly_full = previous.last_line >= 0.85 * wrap
        return not ends_sentence and not previous.text.endswith(";") and nearly_full
    if line[0].islower():
        return True
    if (
        markdown
        and not previous.text.endswith((*_TERMINAL, ";", ":"))
        and len(previous.text.split()) >= 5
        and not is_caps(previous.text)
        and line[0].isalpha()
        and not is_caps(" ".join(line.split()[:2]))  # 'KT. BỘ TRƯỞNG', a signature block
        and not _NEW_PART.match(line)
        and not _NEW_PART.match(previous.text)
        # a short numbered heading ('3.1. Phòng Giáo dục và Đào tạo') is a line of its own
        and not (previous.marked and previous.lines == 1 and len(previous.text.split()) <= 8)
    ):
        # markdown saved from a web page wraps lines anywhere, at varying widths: a line that
        # ends without punctuation goes on ('(3) Bộ Công an … phối hợp, hướng dẫn' + 'Bộ Y tế, …')
        return True
    if not ends_sentence and not is_caps(previous.text) and (
        # a comma never ends a paragraph; 'Thủ tướng Chính phủ Phạm' + 'Minh Chính - …': a
        # name split by the wrap
        previous.text.endswith(",")
        or (_ENDS_WITH_NAME_WORD.search(previous.text) and len(previous.text) > 30 and line[0].isupper())
    ):
        return True
    return not ends_sentence and filled


# Lines of a notice's frame that never continue the line before them (nor take the next one).
_NEW_PART = re.compile(
    r"^(?:Số\s*:|Nơi\s+nhận|Kính\s+gửi|V/v\b|Độc\s+lập\b|[^,\n]{2,40},\s+ngày\b)", re.IGNORECASE
)
_ENDS_WITH_NAME_WORD = re.compile(r"\s[A-ZÀ-Ỹ][a-zà-ỹ]+$")



_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")
# A whole line in italics ("*Lam Giang, ngày …*"); "* Đối với …" (a bullet) has a space.
_MD_ITALIC_LINE = re.compile(r"^(\s*)[*_](?=\S)(.+?)(?<=\S)[*_]\s*$")


# Emphasis that a hard wrap split over two lines ('**VĂN PHÒNG CHÍNH\nPHỦ**', '*Hà Nội, ngày
# 18\ntháng 11 năm 2025*'): no blank line inside, no list marker at the start.
_MD_WRAPPED_BOLD = re.compile(r"(\*\*|__)(?=\S)((?:(?!\1)[^\n]|\n(?!\s*\n))+?)(?<=\S)\1")
_MD_WRAPPED_ITALIC = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+\n[^*\n]+?)(?<=\S)\*(?![*\w])")
# '*Thứ tư,* các địa phương …': italics inside a line ('* Đối với …', a bullet, has a space)
_MD_ITALIC_INLINE = re.compile(r"(?<![*\w])\*(?=[^\s*])([^*\n]+?)(?<=\S)\*(?![*\w])")
# A table cell border alone on its line (HTML tables turned into markdown by a portal).
_MD_PIPE_LINE = re.compile(r"^\s*\|\s*$")


def _strip_markdown(text: str) -> str:
    text = _MD_WRAPPED_BOLD.sub(r"\2", text)
    text = _MD_WRAPPED_ITALIC.sub(r"\1", text)
    out = []
    for line in text.split("\n"):
        if _MD_PIPE_LINE.match(line):
            line = ""
        line = _MD_HEADING.sub("", line)
        line = _MD_EMPHASIS.sub(r"\2", line)
        line = _MD_ITALIC_INLINE.sub(r"\1", line)
        line = _MD_ITALIC_LINE.sub(r"\1\2", line)
        if line.strip() in ("---", "***", "___"):
            line = ""
        out.append(line)
    return "\n".join(out)


# --- docx ---------------------------------------------------------------------------------


def _docx_paragraphs(data: bytes, name: str, settings: LoadSettings) -> list[str]:
    _check_zip(data, name, settings)
    _check_docx_text_length(data, name, settings)
    try:
        import docx
        from docx.document import Document as DocxDocument
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        document: DocxDocument = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise  # not a corrupt file: the worker's memory limit (assistant/isolation.py) says so
    except Exception as exc:  # python-docx raises many kinds for corrupt packages
        raise LoadError(
            "Tệp Word (.docx) bị hỏng hoặc không đúng định dạng, không mở được.", source=name
        ) from exc

    def cell_lines(table: Table) -> Iterator[str]:
        for row in table.rows:
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat the same element
                    continue
                seen.add(id(cell._tc))
                for block in cell.iter_inner_content():
                    if isinstance(block, Paragraph):
                        yield block.text
                    else:
                        yield from cell_lines(block)

    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines.extend(cell_lines(block))
    paragraphs = []
    for line in lines:
        line = _SPACES.sub(" ", nfc(line).replace("\n", " ").replace("\v", " ")).strip()
        if line:
            paragraphs.append(line)
    return paragraphs


def _converted_paragraphs(data: bytes, name: str, settings: LoadSettings) -> list[str]:
    """.doc / .rtf / .odt: LibreOffice makes a .docx, read like any other."""
    if sniff(data) in ("odt", "docx"):  # a zip (.odt, or a .docx under an old name): bombs first
        _check_zip(data, name, settings)
    paragraphs = _docx_paragraphs(convert_to_docx(data, name, settings), name, settings)
    # Old Word files were often typed in TCVN3 (.VnTime) or VNI fonts: the characters are then
    # Latin-1 look-alikes, not Vietnamese, and every later stage would see nonsense.
    legacy = _guess_legacy_text("\n".join(paragraphs))
    if legacy:
        raise LoadError(
            f"Văn bản trong tệp được gõ bằng phông chữ/bảng mã cũ ({legacy}) nên hiển thị sai dấu. "
            "Hãy chuyển sang Unicode (ví dụ bằng Unikey: Công cụ chuyển mã) rồi nạp lại.",
            source=name,
        )
    return paragraphs


def _check_zip(data: bytes, name: str, settings: LoadSettings) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise LoadError(
            "Tệp Word (.docx) bị hỏng hoặc không phải tệp .docx thật (không mở được gói ZIP).",
            source=name,
        ) from exc
    total = sum(info.file_size for info in infos)
    if total > settings.max_docx_uncompressed_bytes:
        raise LoadError(
            f"Tệp Word giải nén ra quá lớn ({total // 1_048_576} MB) — nghi là tệp độc hại (zip bomb).",
            source=name,
        )
    for info in infos:
        if info.filename.endswith((".xml", ".rels")) and info.file_size > settings.max_docx_part_bytes:
            # Every XML part is parsed whole by python-docx (≈ 10× its size in memory).
            raise LoadError(
                f"Tệp Word có phần nội dung quá lớn ({info.filename}: "
                f"{info.file_size // 1_048_576} MB; giới hạn "
                f"{settings.max_docx_part_bytes // 1_048_576} MB mỗi phần), không giống một thông báo.",
                source=name,
            )
        ratio = info.file_size / info.compress_size if info.compress_size else 0.0
        # Small parts (styles, settings) compress extremely well and are harmless.
        if ratio > settings.max_docx_ratio and info.file_size > 1_048_576:
            raise LoadError(
                "Tệp Word có tỉ lệ nén bất thường — nghi là tệp độc hại (zip bomb).",
                source=name,
            )


_WORD_TEXT = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}t"


def _check_docx_text_length(data: bytes, name: str, settings: LoadSettings) -> None:
    """Count the text of ``word/document.xml`` as its XML streams out of the zip, and stop as
    soon as it passes ``max_text_chars``: a part within the size limit can still hold far
    more text than a notice, and python-docx would build all of it in memory first."""
    from lxml import etree

    count = 0
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("word/document.xml") as xml:
            for _, element in etree.iterparse(xml, events=("end",), tag=_WORD_TEXT, huge_tree=False):
                count += len(element.text or "")
                _check_char_count(count, name, settings, at_least=True)
                # Drop what was read: memory stays at one element, not the whole tree.
                element.clear(keep_tail=False)
                while element.getprevious() is not None:
                    del element.getparent()[0]
    except LoadError:
        raise
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, OSError, EOFError):
        return  # a missing or broken part is python-docx's to report, with its own message


# --- pdf ----------------------------------------------------------------------------------


def _pdf_or_image_text(
    data: bytes, name: str, settings: LoadSettings, progress: PageProgress | None
) -> tuple[str, OcrInfo | None]:
    """A PDF's own text layer when it is Vietnamese text; the OCR text of its pages when it has
    none (a scan) or a garbled one; the OCR text of an image, whatever its name says."""
    if sniff_image(data) or Path(name).suffix.lower() != ".pdf":
        result = ocr_file(data, name, settings, OcrReason.IMAGE, progress)
        return result.text, result.info
    if not is_pdf(data):
        raise LoadError(f"Tệp «{Path(name).name}» không phải tệp PDF thật hoặc đã bị hỏng.", source=name)
    survey = survey_pdf(data, name)  # encrypted or broken: a message naming the file
    layer = _pdf_text(data, name, settings)
    quality = layer_quality(layer)
    if sum(ch.isalpha() for ch in layer) < 20 or survey.scanned * 2 > survey.pages:
        result = ocr_file(data, name, settings, OcrReason.SCAN, progress)
    elif not quality.is_vietnamese(settings.text_layer_min_syllables, settings.text_layer_min_marked):
        log.info("text layer of %s is not Vietnamese (syllables %.2f, marked %.2f): OCR",
                 name, quality.syllable_share, quality.marked_share)
        result = ocr_file(data, name, settings, OcrReason.BROKEN_LAYER, progress,
                          layer_syllable_share=quality.syllable_share)
    else:
        return layer, None
    return result.text, result.info



class _PageTooLong(Exception):
    """Raised from inside pypdf's extraction to stop it as soon as a limit is passed."""


class _PageCounter:
    """pypdf calls it for every run of text as it extracts a page: a page whose stream is huge
    (or shared by every page) is stopped here, not after minutes of work."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0

    def __call__(self, text: str, *_: object) -> None:
        self.count += len(text)
        if self.count > self.limit:
            raise _PageTooLong


def _pdf_text(data: bytes, name: str, settings: LoadSettings) -> str:
    try:
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as exc:
                raise LoadError("Tệp PDF được mã hóa bằng mật khẩu, không đọc được.", source=name) from exc
            if not ok:
                raise LoadError("Tệp PDF được mã hóa bằng mật khẩu, không đọc được.", source=name)
        pages: list[str] = []
        total = 0
        for number, page in enumerate(reader.pages, start=1):
            counter = _PageCounter(min(settings.max_page_chars, settings.max_text_chars - total))
            try:
                page_text = page.extract_text(visitor_text=counter) or ""
            except _PageTooLong:
                _check_char_count(total + counter.count, name, settings, at_least=True)
                raise LoadError(
                    f"Tệp PDF có quá nhiều chữ ở trang {number} (hơn {settings.max_page_chars} ký "
                    "tự một trang), không giống một trang văn bản thật: tệp có thể bị lỗi hoặc "
                    "được tạo để gây quá tải.",
                    source=name,
                ) from None
            total += len(page_text)
            _check_char_count(total, name, settings)
            pages.append(page_text)
    except (LoadError, MemoryError):
        raise
    except (PdfReadError, Exception) as exc:
        raise LoadError("Tệp PDF bị hỏng, không đọc được.", source=name) from exc
    return nfc("\n".join(pages))
