from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.agencies import Gazetteer, get_gazetteer
from assistant.model import Assignment, DateValue, Level, Notice, Role, content_id
from assistant.parse.assignments import extract_assignments
from tests._assignment_helpers import make_notice

FIXTURES = Path(__file__).parent / "fixtures" / "assignments"


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


def _run(name: str, level: Level, meeting: date, gaz: Gazetteer) -> tuple[str, list[Assignment]]:
    text = (FIXTURES / name).read_text("utf-8")
    return text, extract_assignments(make_notice(text, level, meeting), gaz)


def _by(assignments: list[Assignment], canonical: str) -> list[Assignment]:
    return [a for a in assignments if a.agency.canonical == canonical]


def test_lead_label_hands_tasks_to_plus_items(gaz: Gazetteer) -> None:
    _, found = _run("district.txt", Level.DISTRICT, date(2024, 5, 28), gaz)
    tckh = [a for a in _by(found, "Phòng Tài chính - Kế hoạch") if a.role is Role.LEAD]
    assert [a.task[:15] for a in tckh] == ["Đôn đốc, hướng ", "Tham mưu phương"]
    first = tckh[0]
    assert first.deadline is not None and first.deadline.date == date(2024, 8, 31)
    assert first.section_path[-1] == "2. Tài chính, ngân sách"
    # the object of 'hướng dẫn' is not an assignee
    assert _by(found, "Phòng Giáo dục và Đào tạo") == []


def test_agency_label_bullets_and_numbered_headings(gaz: Gazetteer) -> None:
    _, found = _run("district.txt", Level.DISTRICT, date(2024, 5, 28), gaz)
    tnmt = _by(found, "Phòng Tài nguyên và Môi trường")
    assert {a.agency.text for a in tnmt} == {"Phòng Tài nguyên và Môi trường thị xã", "Phòng TNMT"}
    assert len(tnmt) == 3
    hd = _by(found, "Hội đồng bồi thường, hỗ trợ và tái định cư")
    assert len(hd) == 1 and hd[0].deadline is not None and hd[0].deadline.recurring
    office = _by(found, "Văn phòng HĐND và UBND")
    assert len(office) == 1 and office[0].task.startswith("Tham mưu tổ chức phiên")
    assert all(a.agency.level is not Level.PROVINCE for a in found)


def test_subject_roles_and_joint_subjects(gaz: Gazetteer) -> None:
    _, found = _run("district.txt", Level.DISTRICT, date(2024, 5, 28), gaz)
    qldt = _by(found, "Phòng Quản lý đô thị")
    assert len(qldt) == 1 and qldt[0].role is Role.LEAD
    assert qldt[0].deadline is not None and qldt[0].deadline.date == date(2024, 9, 30)
    partners = [a for a in found if a.task == qldt[0].task and a.role is Role.COORDINATE]
    assert {a.agency.canonical for a in partners} == {"Phòng Tài chính - Kế hoạch", "Công an huyện"}
    joint = [a for a in found if a.task.startswith("Phòng Y tế, Trung tâm Y tế")]
    assert {a.agency.canonical for a in joint} == {"Phòng Y tế", "Trung tâm Y tế"}
    unknown = [a for a in found if a.agency.canonical is None and a.role is Role.ASSIGNED]
    assert [a.agency.text for a in unknown] == ["Ban quản lý khu di tích"]


def test_sector_evaluation_and_closing_assign_nothing(gaz: Gazetteer) -> None:
    _, found = _run("district.txt", Level.DISTRICT, date(2024, 5, 28), gaz)
    # the evaluation section's 'Phòng Kinh tế đã …' is a result, not a task
    assert [a.task[:25] for a in _by(found, "Phòng Kinh tế")] == ["Phòng Kinh tế hướng dẫn p"]
    assert not any("Nghị quyết số 12" in a.task for a in found)
    assert not any("Thông báo này" in a.task for a in found)
    assert _by(found, "Sở Tài chính") == []  # 'báo cáo Sở Tài chính' is an object


def test_province_notice(gaz: Gazetteer) -> None:
    _, found = _run("province.txt", Level.PROVINCE, date(2024, 7, 5), gaz)
    first = [a for a in found if a.task.startswith("Sở Y tế, UBND")]
    assert {a.agency.canonical for a in first} == {"Sở Y tế", "UBND các huyện, thành phố"}
    so = _by(found, "Sở Tài nguyên và Môi trường")
    assert {a.agency.text for a in so} == {"Sở Tài nguyên và Môi trường", "Sở TNMT"}
    assert _by(found, "Phòng Tài nguyên và Môi trường") == []
    khdt = _by(found, "Sở Kế hoạch và Đầu tư")
    assert len(khdt) == 1 and khdt[0].role is Role.LEAD
    assert _by(found, "Sở Tài chính")[0].role is Role.ASSIGNED


def test_central_notice_assigns_to_ministries(gaz: Gazetteer) -> None:
    _, found = _run("central.txt", Level.CENTRAL, date(2025, 11, 10), gaz)
    roles = {(a.agency.canonical, a.role) for a in found}
    assert ("Bộ Tài chính", Role.LEAD) in roles
    assert ("Bộ Xây dựng", Role.COORDINATE) in roles
    assert ("Bộ Nội vụ", Role.ASSIGNED) in roles
    assert ("Ủy ban nhân dân tỉnh", Role.ASSIGNED) in roles
    noi_vu = _by(found, "Bộ Nội vụ")
    assert len(noi_vu) == 1 and noi_vu[0].deadline is not None
    assert noi_vu[0].deadline.date == date(2026, 3, 31)


def test_spans_contain_task_and_agency_in_fixtures(gaz: Gazetteer) -> None:
    for name, level in (("district.txt", Level.DISTRICT), ("province.txt", Level.PROVINCE)):
        text, found = _run(name, level, date(2024, 6, 1), gaz)
        assert found
        for a in found:
            quote = text[a.start : a.end]
            assert a.task in quote and a.agency.text in quote
            assert text[a.agency.start : a.agency.end] == a.agency.text


# -- property: notices assembled from fixture pieces ----------------------------------------

_HEADINGS = ["Phòng Tư pháp", "Phòng TNMT, HĐGPMB", "Thanh tra", "Phòng GD&ĐT", "Tài nguyên môi trường"]
_SUBJECT_ITEMS = [
    "- Phòng Nội vụ chủ trì, phối hợp với Phòng Tư pháp rà soát thủ tục trước ngày 15/6/2024.",
    "- Sở Y tế, UBND các xã, phường tiếp tục giám sát dịch bệnh hằng tuần.",
    "- Giao phòng Tài chính Kế hoạch tham mưu đấu giá đất trong tháng 9/2024.",
    "Đề nghị Phòng Kinh tế hướng dẫn phòng Giáo dục và Đào tạo xây dựng vườn trường.",
]
_PLAIN_ITEMS = [
    "- Tập trung chỉ đạo công tác bảo vệ môi trường.",
    "- Tham mưu tổ chức hội nghị tổng kết năm.",
    "+ Kiểm tra, đôn đốc thu gom rác thải tại các khu dân cư.",
]


@st.composite
def _notice_text(draw: st.DrawFn) -> str:
    lines = ["II. NHIỆM VỤ TRỌNG TÂM"]
    for i in range(draw(st.integers(1, 4))):
        lines.append(f"{i + 1}. {draw(st.sampled_from(_HEADINGS))}")
        items = draw(st.lists(st.sampled_from(_SUBJECT_ITEMS + _PLAIN_ITEMS), min_size=1, max_size=4))
        lines.extend(items)
    return "\n".join(lines) + "\n"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_notice_text())
def test_property_span_contains_task_and_agency(text: str) -> None:
    gaz = get_gazetteer()
    found = extract_assignments(make_notice(text, Level.DISTRICT, date(2024, 6, 1)), gaz)
    for a in found:
        quote = text[a.start : a.end]
        assert a.task and a.task in quote
        assert a.agency.text in quote and a.agency.start >= a.start and a.agency.end <= a.end
        assert a.agency.text != "phòng Giáo dục và Đào tạo"  # only ever an object here
        if "Tài nguyên môi trường" in a.section_path[-1:]:
            assert a.agency.text not in ("Tài nguyên môi trường",)
    keys = [(a.agency.canonical or a.agency.text, a.task, a.start, a.end) for a in found]
    assert len(keys) == len(set(keys))


# -- real corpus ----------------------------------------------------------------------------


def _corpus_notice(corpus_dir: Path, name: str, level: Level, meeting: date) -> Notice:
    parse = importlib.import_module("assistant.parse")
    load = importlib.import_module("assistant.load")
    doc = load.load_path(corpus_dir / name)
    if hasattr(parse, "parse_document"):
        notice: Notice = parse.parse_document(doc)
        updates: dict[str, object] = {}
        if notice.level is Level.UNKNOWN:
            updates["level"] = level
        if notice.meeting_date is None:
            updates["meeting_date"] = DateValue(text="", start=0, end=0, value=meeting)
        return notice.model_copy(update=updates)
    structure = importlib.import_module("assistant.parse.structure")
    return Notice(
        id=content_id(doc.text), source=name, format=doc.format, text=doc.text, level=level,
        meeting_date=DateValue(text="", start=0, end=0, value=meeting),
        sections=structure.parse_sections(doc.text),
    )


def test_corpus_nam_dinh_lead_and_object(corpus_dir: Path, gaz: Gazetteer) -> None:
    notice = _corpus_notice(
        corpus_dir, "2024-03-01_tp-nam-dinh_thang-02.txt", Level.DISTRICT, date(2024, 3, 1)
    )
    found = extract_assignments(notice, gaz)
    leads = [a for a in _by(found, "Phòng Tài chính - Kế hoạch") if a.role is Role.LEAD]
    assert len(leads) >= 3
    dated = [a for a in leads if a.deadline is not None and a.deadline.date == date(2024, 7, 31)]
    assert len(dated) == 1 and "tháng 7/2024" in dated[0].deadline.text  # type: ignore[union-attr]
    assert "Cửa Nam" in dated[0].task
    assert all(a.role is not Role.LEAD for a in _by(found, "Phòng Giáo dục và Đào tạo"))
    assert not any(a.task.startswith("Phòng Giáo dục") for a in found)
    for a in found:
        assert a.task in notice.text[a.start : a.end]


def test_corpus_hoang_mai_agency_headings(corpus_dir: Path, gaz: Gazetteer) -> None:
    notice = _corpus_notice(
        corpus_dir, "2023-12-27_tx-hoang-mai_thang-12.txt", Level.DISTRICT, date(2023, 12, 27)
    )
    found = extract_assignments(notice, gaz)
    tnmt = _by(found, "Phòng Tài nguyên và Môi trường")
    assert sum(1 for a in tnmt if a.section_path and a.section_path[-1].startswith("2.3.")) == 4
    for canonical, heading in (
        ("Phòng Kinh tế", "2.1."), ("Phòng Tư pháp", "2.8."), ("Phòng Tài chính - Kế hoạch", "2.5.")
    ):
        hits = _by(found, canonical)
        assert hits and any(a.section_path[-1].startswith(heading) for a in hits), canonical
    assert not any(a.agency.level is Level.PROVINCE and a.agency.canonical and
                   a.agency.canonical.startswith("Sở") for a in found)
    communes = _by(found, "UBND các xã, phường")
    assert any(a.deadline and a.deadline.date == date(2024, 1, 20) for a in communes)


def test_corpus_central_notice_assigns_to_ministries(corpus_dir: Path, gaz: Gazetteer) -> None:
    notice = _corpus_notice(
        corpus_dir, "extra/08_vpcp634_ttg_thanh_hoa.txt", Level.CENTRAL, date(2025, 11, 9)
    )
    found = extract_assignments(notice, gaz)
    ministries = {a.agency.canonical for a in found if a.agency.level is Level.CENTRAL}
    assert {"Bộ Nông nghiệp và Môi trường", "Bộ Tài chính", "Bộ Nội vụ"} <= ministries
    noi_vu = [a for a in _by(found, "Bộ Nội vụ") if a.role is Role.LEAD]
    assert noi_vu and noi_vu[0].deadline is not None
    assert noi_vu[0].deadline.date == date(2025, 11, 30)
