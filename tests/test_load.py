from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pypdf import PdfWriter

from assistant.errors import LoadError, UnsupportedFileType
from assistant.load import load_bytes, load_path, reflow, walk_paths
from assistant.office import CONVERTED_SUFFIXES, find_converter
from assistant.settings import LoadSettings
from assistant.text import fold, match_key, search_view, unaccent
from tests.conftest import encode_windows_1258

NOTICE = (
    "THÔNG BÁO\n"
    "Kết luận của Chủ tịch UBND thị xã Lam Giang tại phiên họp thường kỳ tháng 3\n"
    "I. KẾT QUẢ\n"
    "- Phòng Tài nguyên và Môi trường hoàn thành kế hoạch sử dụng đất.\n"
    "Nơi nhận:\n- Lưu: VT.\n"
)


def test_utf8_with_and_without_bom_and_utf16() -> None:
    plain = load_bytes(NOTICE.encode("utf-8"), "a.txt")
    bom = load_bytes(b"\xef\xbb\xbf" + NOTICE.encode("utf-8"), "b.txt")
    utf16 = load_bytes(NOTICE.encode("utf-16"), "c.txt")
    assert plain.text == bom.text == utf16.text
    assert plain.text.startswith("THÔNG BÁO")
    assert "\ufeff" not in bom.text


def test_nfd_input_is_stored_as_nfc() -> None:
    import unicodedata

    doc = load_bytes(unicodedata.normalize("NFD", NOTICE).encode(), "nfd.txt")
    assert doc.text == unicodedata.normalize("NFC", doc.text)
    assert "Phòng Tài nguyên" in doc.text


@pytest.mark.parametrize(
    ("encoded", "label"),
    [
        # TCVN3 (ABC) bytes as they appear when the file is read as Windows-1252.
        ("Th«ng b¸o kÕt luËn cña Chñ tÞch UBND thÞ x· vÒ c«ng t¸c qu¶n lý ®Êt ®ai "
         "vµ gi¶i phãng mÆt b»ng trªn ®Þa bµn, giao phßng Tµi nguyªn vµ M«i tr­êng.", "TCVN3"),
        # VNI: marks typed after the base letter.
        ("Thoâng baùo keát luaän cuûa Chuû tòch UBND thò xaõ veà coâng taùc quaûn lyù ñaát ñai "
         "vaø giaûi phoùng maët baèng treân ñòa baøn, giao phoøng Taøi nguyeân vaø Moâi tröôøng.", "VNI"),
    ],
)
def test_legacy_vietnamese_encodings_are_reported_not_stored(encoded: str, label: str) -> None:
    data = encoded.encode("cp1252")
    with pytest.raises(LoadError) as info:
        load_bytes(data, "cu.txt")
    assert label in info.value.message
    assert info.value.source == "cu.txt"
    # The same mojibake saved as UTF-8 is recognized too.
    with pytest.raises(LoadError, match=label):
        load_bytes(encoded.encode("utf-8"), "cu-utf8.txt")


def test_windows_1258_is_recognized() -> None:
    text = "Thông báo kết luận của Chủ tịch Ủy ban nhân dân thị xã về công tác đất đai và môi trường"
    data = encode_windows_1258(text)
    with pytest.raises(LoadError, match="Windows-1258"):
        load_bytes(data, "w1258.txt")


def test_binary_and_empty_files_are_clear_errors() -> None:
    with pytest.raises(LoadError, match="rỗng"):
        load_bytes(b"   \n", "rong.txt")
    with pytest.raises(LoadError, match="nhị phân"):
        load_bytes(bytes(range(256)) * 20, "rac.txt")


def test_unsupported_type_named_explicitly_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "bang.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(UnsupportedFileType) as info:
        load_path(path)
    assert "bang.xlsx" in str(info.value)


def test_folder_walk_skips_unsupported(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "b.md").write_text(NOTICE, encoding="utf-8")
    (tmp_path / "bang.xlsx").write_bytes(b"PK\x03\x04")  # images are read by OCR; a sheet is not
    walked = walk_paths([tmp_path])
    assert sorted(p.name for p in walked.files) == ["a.txt", "b.md"]
    assert [p.name for p in walked.skipped] == ["bang.xlsx"]


def test_reflow_joins_wrapped_lines_and_keeps_items() -> None:
    width_line = "Phòng Tài chính - Kế hoạch chủ trì, phối hợp với các đơn vị liên quan rà"
    lines = [
        "THÔNG BÁO",
        "",
        "Kết luận của Chủ tịch UBND thị xã tại phiên họp thường kỳ tháng 3 năm 2024 về",
        "",
        "tình hình kinh tế - xã hội",
        "",
        "I. ĐÁNH GIÁ TÌNH HÌNH THỰC HIỆN NHIỆM VỤ PHÁT TRIỂN KINH TẾ XÃ HỘI",
        "",
        "QUÝ I NĂM 2024",
        "1. Những kết quả đạt được",
        "Các ngành đã hoàn thành phần lớn chỉ tiêu của quý, một số chỉ tiêu vượt kế",
        "hoạch đề ra.",
        "- " + width_line,
        "soát nợ đọng xây dựng cơ bản, báo cáo trước ngày 20/4/2024.",
        "- Phòng Văn hóa và Thông tin tuyên truyền các ngày lễ lớn, hoàn thành tốt",
        "- Thông tin và Thể thao của thị xã phối hợp.",
        "+ Rà soát hồ sơ.",
        "Nơi nhận:",
        "- Lưu: VT.",
    ]
    paragraphs = reflow(lines)
    assert paragraphs[0] == "THÔNG BÁO"
    assert paragraphs[1].endswith("về tình hình kinh tế - xã hội")
    assert paragraphs[2].endswith("PHÁT TRIỂN KINH TẾ XÃ HỘI QUÝ I NĂM 2024")
    assert paragraphs[3] == "1. Những kết quả đạt được"
    assert paragraphs[4].endswith("vượt kế hoạch đề ra.")
    assert paragraphs[5] == "- " + width_line + " soát nợ đọng xây dựng cơ bản, báo cáo trước ngày 20/4/2024."
    # A dash after a filled line without a sentence end is the rest of a name, not a bullet.
    assert paragraphs[6].endswith("hoàn thành tốt - Thông tin và Thể thao của thị xã phối hợp.")
    assert paragraphs[7:] == ["+ Rà soát hồ sơ.", "Nơi nhận:", "- Lưu: VT."]


def test_one_paragraph_per_line_files_are_not_joined() -> None:
    lines = ["THÔNG BÁO", "Kết luận ngắn", "Đoạn một rất dài " * 20, "Đoạn hai rất dài " * 20]
    assert len(reflow(lines)) == 4


def test_markdown_emphasis_and_headings_are_stripped() -> None:
    doc = load_bytes("# THÔNG BÁO\n\n**I. KẾT QUẢ**\n\n- Việc một.\n".encode(), "a.md")
    assert doc.text.split("\n") == ["THÔNG BÁO", "I. KẾT QUẢ", "- Việc một."]


def _docx_bytes() -> bytes:
    document = docx.Document()
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "UBND TỈNH LAM GIANG"
    table.cell(0, 1).text = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    table.cell(1, 0).text = "Số: 12/TB-UBND"
    table.cell(1, 1).text = "Lam Giang, ngày 05 tháng 3 năm 2024"
    document.add_paragraph("THÔNG BÁO")
    document.add_paragraph("- Sở Y tế kiểm tra an toàn thực phẩm.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_paragraphs_and_tables_in_document_order() -> None:
    doc = load_bytes(_docx_bytes(), "tb.docx")
    assert doc.text.split("\n") == [
        "UBND TỈNH LAM GIANG",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Số: 12/TB-UBND",
        "Lam Giang, ngày 05 tháng 3 năm 2024",
        "THÔNG BÁO",
        "- Sở Y tế kiểm tra an toàn thực phẩm.",
    ]
    assert doc.format == "docx"


def test_corrupt_docx_and_zip_bomb_are_refused() -> None:
    with pytest.raises(LoadError, match="hỏng"):
        load_bytes(_docx_bytes()[:500], "cut.docx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (3 * 1024 * 1024))
    with pytest.raises(LoadError, match="zip bomb"):
        load_bytes(buffer.getvalue(), "bomb.docx", LoadSettings(max_docx_ratio=100))
    with pytest.raises(LoadError, match="zip bomb"):
        load_bytes(buffer.getvalue(), "big.docx", LoadSettings(max_docx_uncompressed_bytes=1024))


def _text_pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_pdf_text_layer_image_only_and_encrypted() -> None:
    doc = load_bytes(_text_pdf("THONG BAO ket luan cua Chu tich UBND"), "tb.pdf")
    assert "THONG BAO ket luan" in doc.text

    blank = PdfWriter()
    blank.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    blank.write(buffer)
    with pytest.raises(LoadError, match="OCR"):
        load_bytes(buffer.getvalue(), "scan.pdf")

    locked = PdfWriter()
    locked.add_blank_page(width=595, height=842)
    locked.encrypt("mat-khau")
    buffer = io.BytesIO()
    locked.write(buffer)
    with pytest.raises(LoadError, match="mã hóa"):
        load_bytes(buffer.getvalue(), "locked.pdf")


def test_fold_unifies_tone_placement_dashes_and_case() -> None:
    assert fold("Uỷ ban HOÁ chất – Thuỷ lợi") == fold("Ủy ban hóa chất - thủy lợi")
    assert search_view("Phòng Tài chính") == "phong tai chinh"
    assert match_key("Phòng TN&MT") == match_key("phong tn va mt")
    assert match_key("Tài chính – Kế hoạch") == match_key("tai chinh - ke hoach")


@given(st.text(alphabet=st.sampled_from(list("aăâeêioôơuưyđAĂÂĐáàảãạấầẩẫậúùủũụýỳỷỹỵóòỏõọ -–&,.:\n")), max_size=200))
def test_views_are_length_preserving(text: str) -> None:
    from assistant.text import nfc

    text = nfc(text)
    assert len(fold(text)) == len(text)
    assert len(unaccent(text)) == len(text)
    assert len(search_view(text)) == len(text)


@pytest.mark.corpus
def test_every_corpus_file_loads(corpus_dir: Path) -> None:
    walked = walk_paths([corpus_dir])
    # 11 seed and extra notices; dev/ holds 17 more documents (3 of them legacy .doc) and a TSV.
    assert len(walked.files) == 11 + 17
    assert [p.name for p in walked.skipped] == ["SOURCES.tsv"]
    if find_converter(LoadSettings().converter) is None:  # test_load_legacy says so, by name
        walked.files = [p for p in walked.files if p.suffix not in CONVERTED_SUFFIXES]
    for path in walked.files:
        doc = load_path(path)
        assert len(doc.text) > 1000, path
        assert "\n\n" not in doc.text


def test_markdown_saved_from_a_web_page_reads_as_paragraphs() -> None:
    """Hard wraps at varying widths, emphasis split over two lines, table pipes: the team's own
    text laid out the way portals save notices."""
    lines = [
        "|", "**VĂN PHÒNG", "UBND TỈNH**", "|", "Số: 15/TB-VP", "*Lam Giang, ngày 04",
        "tháng 3 năm 2026*", "", "**THÔNG BÁO**", "",
        "Ngày 02 tháng 3 năm 2026, Phó Chủ tịch UBND tỉnh Trần",
        "Văn Bình chủ trì cuộc họp về tiến độ giải phóng mặt bằng các dự án trọng điểm của tỉnh,",
        "với sự tham dự của đại diện các sở, ngành và các xã có dự án đi qua địa bàn.",
        "(1) Sở Xây dựng tiếp tục chủ động phối hợp, hướng dẫn",
        "UBND các xã hoàn thành hồ sơ bồi thường trong tháng 3/2026.",
        "*Thứ hai,* các xã khẩn trương bàn giao mặt bằng cho nhà đầu tư.",
        "3.1. Phòng Kinh tế",
        "Rà soát quỹ đất tái định cư của xã trước ngày 20/3/2026 và báo cáo kết quả.",
    ]
    text = load_bytes("\n".join(lines).encode("utf-8"), "portal.md").text
    paragraphs = text.split("\n")
    assert paragraphs[:3] == ["VĂN PHÒNG", "UBND TỈNH", "Số: 15/TB-VP"]
    assert "Lam Giang, ngày 04 tháng 3 năm 2026" in paragraphs
    assert any(p.startswith("Ngày 02 tháng 3 năm 2026, Phó Chủ tịch UBND tỉnh Trần Văn Bình chủ trì") for p in paragraphs)
    assert "(1) Sở Xây dựng tiếp tục chủ động phối hợp, hướng dẫn UBND các xã hoàn thành hồ sơ bồi thường trong tháng 3/2026." in paragraphs
    assert "Thứ hai, các xã khẩn trương bàn giao mặt bằng cho nhà đầu tư." in paragraphs
    assert "3.1. Phòng Kinh tế" in paragraphs  # a heading stays a line of its own
    assert "*" not in text and "|" not in text
