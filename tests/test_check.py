"""Checking Word files against NĐ 30/2020 Phụ lục I."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import docx
import pytest
from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from lxml import etree

from assistant.check import CheckReport, Finding, check_docx
from assistant.errors import LoadError
from assistant.render import render_docx
from assistant.settings import LoadSettings
from tests.test_render import binh_khe_notice

LAO_CAI = "extra/01_laocai_ccn_chu_tich_ubnd_tinh.docx"


@pytest.fixture(scope="module")
def draft(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("check") / "draft.docx"
    render_docx(binh_khe_notice(), path)
    return path


def _mutated(draft: Path, tmp_path: Path, change: Callable[[DocxDocument], None]) -> Path:
    document = docx.Document(str(draft))
    change(document)
    out = tmp_path / "changed.docx"
    document.save(str(out))
    return out


def _only(report: CheckReport, rule: str) -> list[Finding]:
    return [f for f in report.findings if f.rule == rule]


def _body_paragraphs(document: DocxDocument) -> list[Paragraph]:
    """Top-level paragraphs after the title block (the draft's body)."""
    paragraphs = [p for p in document.paragraphs if p.text.strip()]
    return paragraphs[2:]


def _all_runs(document: DocxDocument) -> list[Run]:
    runs = [r for p in document.paragraphs for r in p.runs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                runs.extend(r for p in cell.paragraphs for r in p.runs)
    return runs


def test_draft_has_no_findings(draft: Path) -> None:
    report = check_docx(draft)
    assert report.ok and report.findings == []
    assert report.parts["quoc_hieu"].startswith("bảng 1, hàng 1, cột 2")
    assert report.parts["noi_nhan"].startswith("bảng 2, hàng 1, cột 1")


def test_broken_margins_font_and_body_size(draft: Path, tmp_path: Path) -> None:
    def break_it(document: DocxDocument) -> None:
        section = document.sections[0]
        section.left_margin = Mm(25)
        section.top_margin = Mm(30)
        for run in _all_runs(document):
            fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
            fonts.set(qn("w:ascii"), "Arial")
            fonts.set(qn("w:hAnsi"), "Arial")
        for paragraph in _body_paragraphs(document):
            for run in paragraph.runs:
                run.font.size = Pt(12)

    report = check_docx(_mutated(draft, tmp_path, break_it))
    assert not report.ok
    assert [f.message for f in _only(report, "margin_left")] == ["Lề trái 25 mm, quy định 30–35 mm"]
    assert [f.message for f in _only(report, "margin_top")] == ["Lề trên 30 mm, quy định 20–25 mm"]
    assert not _only(report, "margin_right") and not _only(report, "margin_bottom")
    (font,) = _only(report, "font")
    assert font.severity == "error"
    assert "Arial" in font.message and "Times New Roman" in font.message
    # a few places, then a count, not one finding per paragraph
    assert font.where.count("«") == 3 and "chỗ khác" in font.where
    (size,) = _only(report, "body_size")
    assert size.message == "Cỡ chữ nội dung 12 pt ở 19/19 đoạn, quy định 13–14 pt"
    assert size.where.startswith("đoạn ")


def test_font_resolved_through_style_and_theme(draft: Path, tmp_path: Path) -> None:
    def via_style(document: DocxDocument) -> None:
        for run in _all_runs(document):
            rpr = run._r.rPr
            if rpr is not None and rpr.rFonts is not None:
                rpr.remove(rpr.rFonts)
        fonts = document.styles["Normal"].element.rPr.rFonts
        fonts.set(qn("w:ascii"), "Arial")
        fonts.set(qn("w:hAnsi"), "Arial")

    report = check_docx(_mutated(draft, tmp_path, via_style))
    (font,) = _only(report, "font")
    assert "Phông chữ Arial ở" in font.message

    def via_theme(document: DocxDocument) -> None:
        for run in _all_runs(document):
            fonts = run._r.get_or_add_rPr().get_or_add_rFonts()
            fonts.set(qn("w:asciiTheme"), "majorHAnsi")  # wins over w:ascii="Times New Roman"

    changed = _mutated(draft, tmp_path, via_theme)
    report = check_docx(changed)
    (font,) = _only(report, "font")
    assert f"Phông chữ {_theme_major_font(changed)} ở" in font.message


def _theme_major_font(path: Path) -> str:
    with zipfile.ZipFile(path) as archive:
        theme = etree.fromstring(archive.read("word/theme/theme1.xml"))
    ns = {"a": "http://schemas.openxmlformats.org/drawingml/2006/main"}
    name = theme.xpath("//a:majorFont/a:latin/@typeface", namespaces=ns)[0]
    assert name and name != "Times New Roman"
    return str(name)


def test_header_title_and_recipients_departures(draft: Path, tmp_path: Path) -> None:
    def break_it(document: DocxDocument) -> None:
        header = document.tables[0]
        quoc_hieu = header.cell(0, 1).paragraphs[0]
        for run in quoc_hieu.runs:
            run.font.size = Pt(14)
            run.font.bold = False
        doc_type = next(p for p in document.paragraphs if p.text == "THÔNG BÁO")
        for run in doc_type.runs:
            run.font.bold = False
        noi_nhan = document.tables[1].cell(0, 0).paragraphs[0]
        for run in noi_nhan.runs:
            run.font.italic = False
        body = _body_paragraphs(document)
        for paragraph in body[:5]:
            paragraph.alignment = WD_ALIGN_PARAGRAPH.LEFT
            paragraph.paragraph_format.first_line_indent = Mm(5)
        document.sections[0].different_first_page_header_footer = False

    report = check_docx(_mutated(draft, tmp_path, break_it))
    messages: dict[str, list[str]] = {}
    for f in report.findings:
        messages.setdefault(f.rule, []).append(f.message)
    assert sorted(messages["quoc_hieu"]) == ["Quốc hiệu chưa in đậm",
                                            "Quốc hiệu cỡ chữ 14 pt, quy định 12–13 pt"]
    assert messages["doc_type"] == ["Tên loại văn bản «THÔNG BÁO» chưa in đậm"]
    assert messages["noi_nhan"] == ["«Nơi nhận:» phải in nghiêng và đậm"]
    assert messages["body_alignment"] == ["5/19 đoạn nội dung chưa căn đều hai lề"]
    assert messages["body_indent"] == [
        "5/19 đoạn nội dung có thụt đầu dòng 0,5 cm, quy định 1–1,27 cm"]
    assert {f.severity for f in report.findings if f.rule.startswith("body_")} == {"warning"}
    (page,) = _only(report, "page_number")
    assert page.severity == "error" and "trang thứ hai" in page.message
    assert "tieu_ngu" not in messages and "font" not in messages


def test_paragraph_and_line_spacing(draft: Path, tmp_path: Path) -> None:
    def break_it(document: DocxDocument) -> None:
        body = _body_paragraphs(document)
        for paragraph in body[:3]:
            paragraph.paragraph_format.space_before = Pt(0)
            paragraph.paragraph_format.space_after = Pt(2)
        for paragraph in body[-2:]:
            paragraph.paragraph_format.line_spacing = 2.0
        body[5].paragraph_format.line_spacing = Pt(12)  # exactly 12 pt: cramped

    report = check_docx(_mutated(draft, tmp_path, break_it))
    assert [f.message for f in _only(report, "body_spacing")] == [
        "3/19 đoạn nội dung cách đoạn kế dưới 6 pt"]
    (lines,) = _only(report, "line_spacing")
    assert lines.message.startswith("3/19 đoạn nội dung có khoảng cách dòng")
    assert report.ok  # warnings only


def test_missing_parts(tmp_path: Path) -> None:
    document = docx.Document()
    section = document.sections[0]
    section.page_width, section.page_height = Mm(215.9), Mm(279.4)  # US Letter
    paragraph = document.add_paragraph("Một văn bản không có phần đầu.")
    paragraph.runs[0].font.size = Pt(14)
    path = tmp_path / "bare.docx"
    document.save(str(path))
    report = check_docx(path)
    rules = report.rules()
    assert {"page_size", "quoc_hieu", "tieu_ngu", "doc_type", "noi_nhan"} <= rules
    assert "Khổ giấy 215,9×279,4 mm" in _only(report, "page_size")[0].message
    # one page, no page number: a warning only
    assert [f.severity for f in _only(report, "page_number")] == ["warning"]


@pytest.mark.parametrize("content", [b"", b"not a zip at all", b"PK\x03\x04broken"])
def test_not_a_docx_raises_load_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "hỏng.docx"
    path.write_bytes(content)
    with pytest.raises(LoadError) as info:
        check_docx(path)
    assert "hỏng.docx" in info.value.message


def test_zip_without_document_part_raises_load_error(tmp_path: Path) -> None:
    path = tmp_path / "rong.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    with pytest.raises(LoadError, match=r"rong\.docx"):
        check_docx(path)


def test_missing_file_and_oversized_archive(draft: Path, tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"khong-co\.docx"):
        check_docx(tmp_path / "khong-co.docx")
    tiny = LoadSettings(max_docx_uncompressed_bytes=1000)
    with pytest.raises(LoadError, match="giải nén"):
        check_docx(draft, tiny)


@pytest.mark.corpus
def test_real_lao_cai_notice(corpus_dir: Path) -> None:
    path = corpus_dir / LAO_CAI
    if not path.is_file():
        pytest.skip(f"{LAO_CAI} not in the corpus")
    report = check_docx(path)
    # header and signature blocks are two-column tables: the parts are found inside them
    assert report.parts["quoc_hieu"].startswith("bảng 1, hàng 1, cột 2")
    assert report.parts["tieu_ngu"].startswith("bảng 1, hàng 1, cột 2")
    assert report.parts["noi_nhan"].startswith("bảng 2, hàng 1, cột 1")
    assert report.parts["doc_type"].startswith("đoạn ")
    # what really departs: a 15 mm bottom margin, theme-font (not Times New Roman) runs, and
    # a Quốc hiệu that inherits the 14 pt document default
    assert [f.message for f in _only(report, "margin_bottom")] == [
        "Lề dưới 15 mm, quy định 20–25 mm"]
    assert not {"margin_top", "margin_left", "margin_right", "page_size"} & report.rules()
    (font,) = _only(report, "font")
    assert _theme_major_font(path) in font.message
    counts = re.search(r"ở (\d+)/(\d+) đoạn", font.message)
    assert counts and int(counts.group(2)) > 40
    assert [f.message for f in _only(report, "quoc_hieu")] == [
        "Quốc hiệu cỡ chữ 14 pt, quy định 12–13 pt"]
    # what conforms is not reported
    for rule in ("tieu_ngu", "doc_type", "noi_nhan", "recipients_size", "body_size",
                 "body_alignment", "body_indent", "body_spacing", "line_spacing", "page_number"):
        assert rule not in report.rules(), rule
    assert not report.ok
