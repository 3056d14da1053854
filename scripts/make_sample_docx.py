"""Generate the two Word samples of the fictional xã Tân Lam (tỉnh Lam Giang).

- ``samples/notices/2025-09-05_xa-tan-lam_thang-08.docx``: a notice laid out like real Word
  notices (header and signature as borderless two-column tables, NĐ 30/2020 page set-up).
- ``samples/notes/2025-10-01_xa-tan-lam_giao-ban-thang-09_ghi-chep.docx``: meeting notes as a
  staff member types them in Word (plain paragraphs, dashes typed by hand).

The output is byte-for-byte reproducible (fixed zip timestamps and core properties), so
re-running the script leaves ``git status`` clean unless the content below changed.

Usage: ``.venv/bin/python scripts/make_sample_docx.py [--out-dir samples]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

REPO = Path(__file__).resolve().parents[1]
NOTICE_NAME = "notices/2025-09-05_xa-tan-lam_thang-08.docx"
NOTES_NAME = "notes/2025-10-01_xa-tan-lam_giao-ban-thang-09_ghi-chep.docx"
FONT = "Times New Roman"
# A fixed instant keeps the generated files identical across runs.
FIXED_TIME = dt.datetime(2025, 9, 5, 8, 0, 0)

# (marker-or-kind, text). Kinds: "h1" bold section heading, "h2" bold sub-heading,
# "h3" italic agency heading (a), b)), "p" body paragraph, "li" dash item.
NOTICE_BODY: list[tuple[str, str]] = [
    (
        "p",
        "Ngày 03 tháng 9 năm 2025, UBND xã Tân Lam tổ chức cuộc họp giao ban tháng 8 năm 2025 "
        "dưới sự chủ trì của đồng chí Phạm Thị Hồng Nhung - Chủ tịch UBND xã. Dự cuộc họp có "
        "các đồng chí Phó Chủ tịch UBND xã; Trưởng Công an xã; Chỉ huy trưởng Ban Chỉ huy quân "
        "sự xã; lãnh đạo Văn phòng HĐND và UBND, Phòng Kinh tế, Phòng Văn hóa - Xã hội, Trung "
        "tâm Phục vụ hành chính công xã. Sau khi nghe Văn phòng HĐND và UBND xã báo cáo kết quả "
        "thực hiện nhiệm vụ tháng 8, nhiệm vụ trọng tâm tháng 9 năm 2025 và ý kiến của các đại "
        "biểu, đồng chí Chủ tịch UBND xã kết luận như sau:",
    ),
    ("h1", "I. KẾT QUẢ THỰC HIỆN NHIỆM VỤ THÁNG 8 NĂM 2025"),
    ("h2", "1. Những kết quả đạt được"),
    (
        "p",
        "Sau hơn hai tháng vận hành chính quyền địa phương hai cấp, bộ máy của xã hoạt động "
        "ổn định, thông suốt. Trung tâm Phục vụ hành chính công xã tiếp nhận 1.264 hồ sơ, "
        "trong đó 98,6% được giải quyết đúng hạn. Thu ngân sách trên địa bàn tháng 8 đạt 4,2 "
        "tỷ đồng. Toàn xã gieo cấy 860 ha lúa Mùa, cây trồng sinh trưởng tốt.",
    ),
    ("h2", "2. Những tồn tại, hạn chế"),
    ("li", "Còn 37 hồ sơ thủ tục hành chính về đất đai giải quyết trễ hạn."),
    (
        "li",
        "Sâu cuốn lá nhỏ phát sinh trên diện rộng; tình trạng san lấp đất nông nghiệp trái "
        "phép tại thôn Đồng Lam chưa được ngăn chặn kịp thời.",
    ),
    ("h1", "II. NHIỆM VỤ TRỌNG TÂM THÁNG 9 NĂM 2025"),
    ("h2", "1. Lĩnh vực kinh tế"),
    ("h3", "a) Phòng Kinh tế"),
    (
        "li",
        "Hướng dẫn nông dân phòng trừ sâu cuốn lá nhỏ trên lúa Mùa; tổng hợp diện tích bị "
        "hại, báo cáo Sở Nông nghiệp và Môi trường trước ngày 15/9/2025.",
    ),
    (
        "li",
        "Chủ trì, phối hợp với Công an xã kiểm tra, xử lý các trường hợp san lấp đất nông "
        "nghiệp trái phép tại thôn Đồng Lam; hoàn thành trong tháng 9/2025.",
    ),
    (
        "li",
        "Tham mưu UBND xã kế hoạch thu ngân sách, phấn đấu đạt 100% dự toán năm trong Quý IV "
        "năm 2025.",
    ),
    ("h3", "b) Trung tâm Phục vụ hành chính công xã"),
    (
        "li",
        "Rà soát, giải quyết dứt điểm 37 hồ sơ trễ hạn, gửi thư xin lỗi người dân theo quy "
        "định, hoàn thành trước ngày 20/9/2025; báo cáo tiến độ hàng tuần.",
    ),
    ("h2", "2. Lĩnh vực văn hóa - xã hội"),
    ("h3", "a) Phòng Văn hóa - Xã hội"),
    (
        "li",
        "Chủ trì, phối hợp với Trạm Y tế xã tổ chức tiêm vắc xin sởi cho trẻ từ 1 đến 5 tuổi; "
        "hoàn thành trong tháng 9/2025.",
    ),
    (
        "li",
        "Rà soát, chi trả trợ cấp hằng tháng cho 126 đối tượng bảo trợ xã hội theo danh sách "
        "mới; tổ chức Tết Trung thu cho thiếu nhi các thôn trước ngày 06/10/2025.",
    ),
    ("h3", "b) Văn phòng HĐND và UBND xã"),
    (
        "li",
        "Theo dõi, đôn đốc các phòng, đơn vị thực hiện Thông báo này; tổng hợp kết quả báo "
        "cáo tại cuộc họp giao ban tháng 9 năm 2025.",
    ),
    ("h2", "3. Quốc phòng, an ninh"),
    (
        "li",
        "Công an xã tăng cường tuần tra, kiểm soát, bảo đảm trật tự an toàn giao thông trên "
        "tuyến đường tỉnh 512; báo cáo tình hình hàng tuần.",
    ),
    (
        "li",
        "Ban CHQS xã phối hợp với Phòng Văn hóa - Xã hội hoàn thành sơ tuyển công dân nhập ngũ "
        "năm 2026 trước ngày 31/10/2025.",
    ),
    (
        "p",
        "Trên đây là kết luận của đồng chí Chủ tịch UBND xã tại cuộc họp giao ban tháng 8 năm "
        "2025. UBND xã thông báo để các phòng, đơn vị và các thôn biết, thực hiện./.",
    ),
]

NOTICE_RECIPIENTS = [
    "- TT Đảng ủy, TT HĐND xã (b/c);",
    "- Chủ tịch, các PCT UBND xã;",
    "- Các phòng, đơn vị thuộc UBND xã;",
    "- Công an xã, Ban CHQS xã;",
    "- Các thôn;",
    "- Lưu: VT, VP.",
]

NOTES_LINES: list[str] = [
    "GHI CHÉP CUỘC HỌP GIAO BAN THÁNG 9/2025",
    "Thời gian: 8h00 ngày 01/10/2025. Địa điểm: hội trường UBND xã Tân Lam.",
    "Chủ trì: đ/c Phạm Thị Hồng Nhung - Chủ tịch UBND xã.",
    "Dự họp: đ/c Lò Văn Tuấn - PCT UBND xã; Trưởng Công an xã; Chỉ huy trưởng Ban CHQS xã; "
    "lãnh đạo Văn phòng HĐND và UBND, Phòng Kinh tế, Phòng Văn hóa - Xã hội, Trung tâm Phục vụ "
    "hành chính công.",
    "Nội dung: nghe Văn phòng báo cáo kết quả tháng 9, nhiệm vụ tháng 10/2025; Phòng Kinh tế báo "
    "cáo tình hình thiệt hại do bão số 10.",
    "Kết quả tháng 9:",
    "- Thu hoạch được 420/860 ha lúa Mùa, năng suất ước 55 tạ/ha.",
    "- TTPVHCC tiếp nhận 1.105 hồ sơ, 99,1% đúng hạn; đã xử lý xong 37 hồ sơ trễ hạn tháng trước.",
    "- Tiêm vắc xin sởi được 812/850 trẻ (95,5%).",
    "Tồn tại:",
    "- Bão số 10 làm sạt lở 350 m bờ kênh tiêu thôn Đồng Lam, 14 nhà bị tốc mái.",
    "- Thu ngân sách mới đạt 71% dự toán năm.",
    "Chủ tịch kết luận, giao nhiệm vụ tháng 10:",
    "- Phòng Kinh tế: tổng hợp thiệt hại do bão số 10, báo cáo Sở Nông nghiệp và Môi trường "
    "trước 05/10/2025.",
    "- Phòng Kinh tế chủ trì, phối hợp thôn Đồng Lam lập phương án khắc phục 350 m bờ kênh bị "
    "sạt lở, xong trong tháng 10/2025.",
    "- Phòng Văn hóa - Xã hội: hỗ trợ 14 hộ bị tốc mái, mức 3 triệu đồng/hộ, chi trả trước "
    "10/10/2025.",
    "- Phòng VH-XH + Trạm Y tế xã: tiêm bù cho 38 trẻ chưa tiêm sởi, xong trước 15/10/2025.",
    "- TTPVHCC: duy trì tỷ lệ hồ sơ đúng hạn trên 98%, báo cáo hàng tuần.",
    "- Công an xã: bảo đảm an ninh trật tự dịp 20/10, tuần tra ban đêm tại các thôn ven đê.",
    "- Ban CHQS xã: hoàn thành sơ tuyển nghĩa vụ quân sự 2026 trước 31/10/2025.",
    "- Văn phòng HĐND và UBND xã: đôn đốc thu ngân sách, phấn đấu đạt 85% dự toán trong tháng "
    "10/2025.",
]


def _set_font(paragraph: Paragraph, size: float, bold: bool = False, italic: bool = False) -> None:
    for run in paragraph.runs:
        run.font.name = FONT
        run.font.size = Pt(size)
        run.font.bold = bold
        run.font.italic = italic


def _add(
    container: DocxDocument | _Cell,
    text: str,
    size: float = 14,
    bold: bool = False,
    italic: bool = False,
    align: WD_ALIGN_PARAGRAPH | None = None,
    indent: bool = False,
) -> Paragraph:
    paragraph = container.add_paragraph(text)
    _set_font(paragraph, size, bold, italic)
    if align is not None:
        paragraph.alignment = align
    fmt = paragraph.paragraph_format
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(6) if isinstance(container, DocxDocument) else Pt(0)
    if indent:
        fmt.first_line_indent = Cm(1.27)
    return paragraph


def _borderless(table: Table) -> None:
    """Real notices use layout tables without visible borders."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)


def _fill(cell: _Cell, lines: Sequence[tuple[str, float, bool, bool]]) -> None:
    """Cells start with one empty paragraph; reuse it so no blank line leads the cell."""
    first = True
    for text, size, bold, italic in lines:
        if first:
            paragraph = cell.paragraphs[0]
            paragraph.add_run(text)
            _set_font(paragraph, size, bold, italic)
            first = False
        else:
            paragraph = _add(cell, text, size, bold, italic)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER


def _page_setup(document: DocxDocument) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)


def _fix_metadata(document: DocxDocument, title: str) -> None:
    props = document.core_properties
    props.author = "Văn phòng HĐND và UBND xã Tân Lam"
    props.last_modified_by = props.author
    props.title = title
    props.created = FIXED_TIME
    props.modified = FIXED_TIME
    props.revision = 1


def build_notice() -> DocxDocument:
    """The xã Tân Lam notice of the August 2025 meeting (post-1/7/2025 agency names)."""
    document = Document()
    _page_setup(document)
    _fix_metadata(document, "Thông báo kết luận giao ban tháng 8 năm 2025")

    header = document.add_table(rows=2, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    _borderless(header)
    for row in header.rows:
        row.cells[0].width, row.cells[1].width = Cm(6.0), Cm(10.0)
    _fill(header.cell(0, 0), [("ỦY BAN NHÂN DÂN", 13, False, False), ("XÃ TÂN LAM", 13, True, False)])
    _fill(
        header.cell(0, 1),
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13, True, False),
            ("Độc lập - Tự do - Hạnh phúc", 14, True, False),
        ],
    )
    _fill(header.cell(1, 0), [("Số:      /TB-UBND", 13, False, False)])
    _fill(header.cell(1, 1), [("Tân Lam, ngày 05 tháng 9 năm 2025", 14, False, True)])

    _add(document, "THÔNG BÁO", 14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    _add(
        document,
        "Kết luận của đồng chí Phạm Thị Hồng Nhung, Chủ tịch UBND xã\n"
        "tại cuộc họp giao ban tháng 8 năm 2025",
        14,
        bold=True,
        align=WD_ALIGN_PARAGRAPH.CENTER,
    )
    for kind, text in NOTICE_BODY:
        if kind == "li":
            _add(document, f"- {text}", align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)
        elif kind in ("h1", "h2"):
            _add(document, text, bold=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)
        elif kind == "h3":
            _add(document, text, italic=True, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)
        else:
            _add(document, text, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent=True)

    signature = document.add_table(rows=1, cols=2)
    _borderless(signature)
    signature.cell(0, 0).width, signature.cell(0, 1).width = Cm(8.0), Cm(8.0)
    left = signature.cell(0, 0)
    first = left.paragraphs[0]
    first.add_run("Nơi nhận:")
    _set_font(first, 12, bold=True, italic=True)
    for line in NOTICE_RECIPIENTS:
        _add(left, line, 11)
    _fill(
        signature.cell(0, 1),
        [
            ("TM. ỦY BAN NHÂN DÂN", 14, True, False),
            ("CHỦ TỊCH", 14, True, False),
            ("", 14, False, False),
            ("", 14, False, False),
            ("", 14, False, False),
            ("Phạm Thị Hồng Nhung", 14, True, False),
        ],
    )
    return document


def build_notes() -> DocxDocument:
    """Staff notes of the September 2025 meeting: no layout tables, no styles."""
    document = Document()
    _page_setup(document)
    _fix_metadata(document, "Ghi chép giao ban tháng 9/2025")
    for index, line in enumerate(NOTES_LINES):
        _add(document, line, 13, bold=index == 0)
    return document


def _save_reproducible(document: DocxDocument, path: Path) -> None:
    """python-docx stamps zip entries with the current time; rewrite them with a fixed one."""
    buffer = io.BytesIO()
    document.save(buffer)
    buffer.seek(0)
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = info.external_attr
            target.writestr(entry, source.read(info.filename))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out.getvalue())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Tạo các tệp Word mẫu (xã Tân Lam).")
    parser.add_argument("--out-dir", type=Path, default=REPO / "samples", help="Thư mục samples")
    args = parser.parse_args(argv)
    out_dir: Path = args.out_dir
    _save_reproducible(build_notice(), out_dir / NOTICE_NAME)
    _save_reproducible(build_notes(), out_dir / NOTES_NAME)
    print(f"Đã tạo {out_dir / NOTICE_NAME} và {out_dir / NOTES_NAME}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
