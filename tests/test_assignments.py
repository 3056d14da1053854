from __future__ import annotations

import importlib
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.agencies import Gazetteer, get_gazetteer
from assistant.model import Assignment, DateValue, DocumentKind, Level, Notice, Role, content_id
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
    assert [a.agency.text for a in unknown] == ["Ban quản lý khu di tích đền Thượng"]


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


# -- intros, localities, labels (fictional texts) ------------------------------------------


def _extract(text: str, level: Level, meeting: date, gaz: Gazetteer) -> list[Assignment]:
    return extract_assignments(make_notice(text, level, meeting), gaz)


def _tasks(found: list[Assignment], canonical: str) -> list[str]:
    return [a.task for a in found if (a.agency.canonical or a.agency.text) == canonical]


CENTRAL_TEXT = """I. ĐÁNH GIÁ CHUNG
Tỉnh Hòa Sơn đã đạt nhiều kết quả. Tuy nhiên, tỉnh Hòa Sơn cần tiếp tục khắc phục các hạn chế về giải ngân.
II. MỘT SỐ NHIỆM VỤ TRONG THỜI GIAN TỚI
Để đạt mục tiêu tăng trưởng 8%, giải ngân hết vốn đầu tư công, tỉnh Hòa Sơn cần tiếp tục thực hiện quyết liệt các chủ trương, trong đó tập trung một số nội dung trọng tâm sau:
1. Rà soát các chỉ tiêu phát triển kinh tế - xã hội được giao, phấn đấu hoàn thành cao nhất. Xây dựng kịch bản tăng trưởng quý IV.
2. Đẩy mạnh giải ngân đầu tư công, phân công lãnh đạo theo dõi từng dự án trọng điểm.
III. VỀ MỘT SỐ KIẾN NGHỊ CỦA TỈNH
1. Về kiến nghị hỗ trợ vốn cho tuyến đường ven biển: Giao Bộ Tài chính nghiên cứu kiến nghị của Tỉnh.
2. Về điều chuyển số vốn không có khả năng giải ngân trong năm 2025: Ủy ban nhân dân tỉnh Hòa Sơn rà soát, giải ngân hết số vốn nêu trên trong Quý I năm 2026.
3. Về đề nghị nâng cấp quốc lộ: đề nghị các Tập đoàn: Điện lực Miền Núi, Viễn thông Hòa Sơn triển khai thực hiện theo quy định, trao đổi, phối hợp chặt chẽ với Tỉnh.
"""


def test_central_notice_province_as_subject_and_items_under_it(gaz: Gazetteer) -> None:
    found = _extract(CENTRAL_TEXT, Level.CENTRAL, date(2025, 11, 9), gaz)
    province = _tasks(found, "Ủy ban nhân dân tỉnh")
    # the intro is not a task (its items are), each numbered item is one task (both sentences)
    assert not any(t.startswith("Để đạt mục tiêu") for t in province)
    assert any(t.startswith("Rà soát các chỉ tiêu") and "Xây dựng kịch bản" in t for t in province)
    assert any(t.startswith("Đẩy mạnh giải ngân") for t in province)
    assert not any(t.startswith("Xây dựng kịch bản") for t in province)
    # the exhortation in the evaluation is not a task
    assert not any("khắc phục các hạn chế" in t for t in province)
    # an item under the intro is quoted on its own, not from the intro onwards
    item = next(a for a in found if a.task.startswith("Đẩy mạnh giải ngân"))
    assert CENTRAL_TEXT[item.start : item.end] == item.task
    # 'Tỉnh' as a partner of others is not recorded
    assert all(a.role is not Role.COORDINATE for a in found if a.agency.canonical == "Ủy ban nhân dân tỉnh")


def test_deadline_of_the_task_beats_the_request_it_answers(gaz: Gazetteer) -> None:
    found = _extract(CENTRAL_TEXT, Level.CENTRAL, date(2025, 11, 9), gaz)
    task = next(a for a in found if "giải ngân hết số vốn" in a.task)
    assert task.agency.canonical == "Ủy ban nhân dân tỉnh"
    assert task.deadline is not None and task.deadline.text == "trong Quý I năm 2026"


def test_distributive_list_names_each_body(gaz: Gazetteer) -> None:
    found = _extract(CENTRAL_TEXT, Level.CENTRAL, date(2025, 11, 9), gaz)
    names = {a.agency.text for a in found if "triển khai thực hiện theo quy định" in a.task}
    assert names == {"Tập đoàn: Điện lực Miền Núi", "Viễn thông Hòa Sơn"}
    for a in found:
        assert CENTRAL_TEXT[a.agency.start : a.agency.end] == a.agency.text


DA_THANH_TEXT = """I. ĐÁNH GIÁ CHUNG
Thành phố đã nỗ lực khắc phục hậu quả mưa lũ. Để vận hành chính quyền hai cấp hiệu quả, thành phố Cần Thơ cần tập trung thực hiện tốt một số nhiệm vụ sau đây:
1. Cấp ủy, chính quyền Thành phố phải xác định việc vận hành hiệu quả chính quyền hai cấp là nhiệm vụ quan trọng.
Ủy ban nhân dân Thành phố chỉ đạo các sở, ngành bám sát cơ sở, hướng dẫn kịp thời cấp xã.
2. Căn cứ tiêu chí về quy mô dân số để phân cấp phù hợp. Trên cơ sở quy định về biên chế, Thành phố chủ động kiện toàn tổ chức bộ máy.
II. VỀ CÁC KIẾN NGHỊ CỦA THÀNH PHỐ
1. Về đề nghị các bộ, ngành sớm ban hành hướng dẫn: Ủy ban nhân dân thành phố Cần Thơ cần tiếp tục rà soát các nội dung phân cấp; phối hợp với Bộ Nội vụ tổng hợp, đánh giá việc phân cấp.
"""


def test_evaluation_that_introduces_tasks_and_centrally_run_city(gaz: Gazetteer) -> None:
    found = _extract(DA_THANH_TEXT, Level.CENTRAL, date(2025, 11, 20), gaz)
    city = _tasks(found, "Ủy ban nhân dân tỉnh")
    assert not any(t.startswith("Để vận hành") for t in city)  # an intro of tasks
    assert any(t.startswith("Cấp ủy, chính quyền Thành phố") for t in city)
    assert any("Thành phố chủ động kiện toàn" in t for t in city)
    assert any("Ủy ban nhân dân thành phố Cần Thơ cần tiếp tục" in t for t in city)
    assert not any(a.agency.canonical == "Ủy ban nhân dân huyện" for a in found)
    # the partner named in a later clause of the same passage coordinates
    noi_vu = [a for a in found if a.agency.canonical == "Bộ Nội vụ"]
    assert len(noi_vu) == 1 and noi_vu[0].role is Role.COORDINATE
    assert not any("Thành phố đã nỗ lực" in a.task for a in found)


PROVINCE_TEXT = """II. NHIỆM VỤ, GIẢI PHÁP TRỌNG TÂM QUÝ III
Để hoàn thành kế hoạch năm; trong thời gian tới yêu cầu các Sở, ban, ngành, các huyện, thành phố tập trung thực hiện quyết liệt các nhiệm vụ trọng tâm sau:
1. Công tác y tế
- Tiếp tục thực hiện nghiêm các biện pháp phòng bệnh theo chỉ đạo của Bộ Y tế.
- Sở Y tế, các huyện, thành phố chỉ đạo rà soát, mua sắm vật tư tiêu hao phục vụ tiêm chủng.
- Tăng cường kỷ luật, kỷ cương hành chính. Sở Nội vụ chỉ đạo rà soát việc chuyển đổi vị trí công tác.
2. Công tác quy hoạch
- Sở Xây dựng chủ trì, phối hợp với các ngành, các huyện Hòa An, Bình Lộc khẩn trương hoàn thành quy hoạch vùng liên huyện.
- Các huyện, thành phố tập trung giải phóng mặt bằng các dự án. Trong đó huyện Bình Lộc đảm bảo tiến độ tuyến đường ven sông.
3. Đẩy nhanh các công trình trọng điểm
3.1. Các dự án đầu tư công
Các Sở, ban, ngành, các huyện, thành phố, các chủ đầu tư tập trung đẩy nhanh tiến độ thi công các dự án trọng điểm, đảm bảo hoàn thành như sau:
- Đẩy nhanh tiến độ các dự án: Bệnh viện đa khoa tỉnh; cầu Sông Trà.
4. Văn hóa - xã hội
- Giáo dục và Đào tạo: Triển khai kế hoạch tuyển sinh vào lớp 10 năm học mới.
- Lao động Thương binh và Xã hội:
+ Ngành Lao động Thương binh và Xã hội, các huyện, thành phố thực hiện tốt chính sách cho người có công.
+ Tăng cường kiểm tra công tác an toàn vệ sinh lao động.
"""


def test_umbrella_intro_reaches_items_but_not_sector_bullets(gaz: Gazetteer) -> None:
    found = _extract(PROVINCE_TEXT, Level.PROVINCE, date(2024, 7, 5), gaz)
    sectors = _tasks(found, "các Sở, ngành")
    # the umbrella intro hands its items to the groups; it is not a task itself
    assert sum(t.startswith("Để hoàn thành") or t.startswith("trong thời gian tới") for t in sectors) == 0
    assert not any(t.startswith("Tiếp tục thực hiện nghiêm") for t in found_tasks(found))
    # the intro of 3.1 is recorded and its bullets hang under it
    assert any(t.startswith("Đẩy nhanh tiến độ các dự án") for t in sectors)
    assert any(t.startswith("Đẩy nhanh tiến độ các dự án") for t in _tasks(found, "UBND các huyện, thành phố"))


def found_tasks(found: list[Assignment]) -> list[str]:
    return [a.task for a in found]


def test_joint_subjects_that_direct_and_a_subject_in_a_second_sentence(gaz: Gazetteer) -> None:
    found = _extract(PROVINCE_TEXT, Level.PROVINCE, date(2024, 7, 5), gaz)
    for canonical in ("Sở Y tế", "UBND các huyện, thành phố"):
        assert any("mua sắm vật tư" in t for t in _tasks(found, canonical)), canonical
    assert _tasks(found, "Sở Nội vụ") == ["Sở Nội vụ chỉ đạo rà soát việc chuyển đổi vị trí công tác."]


def test_named_districts_vague_partners_and_sector_labels(gaz: Gazetteer) -> None:
    found = _extract(PROVINCE_TEXT, Level.PROVINCE, date(2024, 7, 5), gaz)
    plan = [a for a in found if "quy hoạch vùng liên huyện" in a.task]
    assert {(a.agency.canonical or a.agency.text, a.role) for a in plan} == {
        ("Sở Xây dựng", Role.LEAD), ("huyện Hòa An", Role.COORDINATE), ("Bình Lộc", Role.COORDINATE),
    }
    assert any("tuyến đường ven sông" in t for t in _tasks(found, "huyện Bình Lộc"))
    assert _tasks(found, "Sở Giáo dục và Đào tạo") == [
        "Giáo dục và Đào tạo: Triển khai kế hoạch tuyển sinh vào lớp 10 năm học mới."
    ]
    labour = _tasks(found, "Sở Lao động - Thương binh và Xã hội")
    assert len(labour) == 2 and any(t.startswith("Tăng cường kiểm tra") for t in labour)
    assert any("người có công" in t for t in _tasks(found, "UBND các huyện, thành phố"))
    assert not any(a.agency.canonical == "các cơ quan, đơn vị liên quan" for a in found)


DISTRICT_TEXT = """II. NHIỆM VỤ CỤ THỂ
2.12. Ủy ban nhân dân các xã, phường có cụm công nghiệp
Phối hợp chặt chẽ với các chủ đầu tư hạ tầng đẩy nhanh giải phóng mặt bằng; khẩn trương giao Ban Quản lý dự án đầu tư xây dựng cấp xã lập hồ sơ thành lập cụm công nghiệp.
2.13. Quân sự thị xã;
Tập trung đẩy nhanh tiến độ xây dựng thao trường huấn luyện năm 2024.
2.14. Các Ban Quản lý dự án đầu tư xây dựng
Ban Quản lý dự án đầu tư xây dựng số 2 đẩy nhanh tiến độ đường trục chính; Ban Quản lý dự án đầu tư xây dựng công trình dân dụng tỉnh đẩy nhanh tiến độ nhà thi đấu.
2.15. Yêu cầu đối với Phòng Tư pháp trong công tác hộ tịch năm 2024
- Rà soát, chuẩn hóa dữ liệu hộ tịch trên địa bàn.
2.16. Các xã, phường
- Xã Hòa Bình: Phối hợp với phòng Quản lý đô thị để thống nhất phương án thoát nước.
2.17. Đầu tư xây dựng cơ bản
Các đơn vị được giao làm chủ đầu tư các dự án:
- Rà soát kế hoạch vốn, phối hợp với phòng Tài chính – Kế hoạch đẩy nhanh giải ngân.
"""


def test_headings_with_qualifier_or_semicolon_and_objects_of_giao(gaz: Gazetteer) -> None:
    found = _extract(DISTRICT_TEXT, Level.DISTRICT, date(2024, 1, 5), gaz)
    communes = _tasks(found, "UBND các xã, phường")
    assert communes == [
        "Phối hợp chặt chẽ với các chủ đầu tư hạ tầng đẩy nhanh giải phóng mặt bằng; khẩn trương giao "
        "Ban Quản lý dự án đầu tư xây dựng cấp xã lập hồ sơ thành lập cụm công nghiệp."
    ]
    assert not any("Ban Quản lý dự án đầu tư xây dựng cấp xã" in a.agency.text for a in found)
    military = _tasks(found, "Ban Chỉ huy Quân sự huyện")
    assert military == ["Tập trung đẩy nhanh tiến độ xây dựng thao trường huấn luyện năm 2024."]
    boards = {a.agency.text for a in found if a.agency.canonical is None and a.agency.text.startswith("Ban")}
    assert boards == {
        "Ban Quản lý dự án đầu tư xây dựng số 2",
        "Ban Quản lý dự án đầu tư xây dựng công trình dân dụng tỉnh",
    }
    assert _tasks(found, "Phòng Tư pháp") == ["Rà soát, chuẩn hóa dữ liệu hộ tịch trên địa bàn."]


def test_partners_of_a_labelled_or_unnamed_lead_coordinate(gaz: Gazetteer) -> None:
    found = _extract(DISTRICT_TEXT, Level.DISTRICT, date(2024, 1, 5), gaz)
    qldt = [a for a in found if a.agency.canonical == "Phòng Quản lý đô thị"]
    assert len(qldt) == 1 and qldt[0].role is Role.COORDINATE and "thoát nước" in qldt[0].task
    tckh = [a for a in found if a.agency.canonical == "Phòng Tài chính - Kế hoạch"]
    assert len(tckh) == 1 and tckh[0].role is Role.COORDINATE and "giải ngân" in tckh[0].task


def test_request_ending_the_opening_is_recorded_once(gaz: Gazetteer) -> None:
    text = (
        "THÔNG BÁO\nKết luận của Chủ tịch UBND huyện tại hội nghị sơ kết\n"
        "Ngày 10/8/2024, UBND huyện Hòa An tổ chức hội nghị sơ kết. Kết luận hội nghị, đồng chí "
        "Chủ tịch UBND huyện yêu cầu các cơ quan, ban, ngành có liên quan, UBND các xã, thị trấn "
        "cần tập trung thực hiện một số nhiệm vụ sau:\n"
        "* Đối với công tác phòng, chống dịch\n"
        "Tiếp tục làm tốt công tác phòng, chống dịch trên địa bàn.\n"
    )
    found = _extract(text, Level.DISTRICT, date(2024, 8, 10), gaz)
    assert {a.agency.canonical for a in found} == {"các phòng, ban, đơn vị", "UBND các xã, phường"}
    assert all(a.task.endswith("một số nhiệm vụ sau:") for a in found)


def test_news_article_records_only_the_chairs_requests(gaz: Gazetteer) -> None:
    text = (
        "Huyện Hòa An tổ chức hội nghị giao ban quý I\n"
        "Chiều ngày 05/4/2024, UBND huyện tổ chức hội nghị. Phòng Kinh tế tiếp tục hướng dẫn các xã "
        "hoàn thiện hồ sơ.\nPhát biểu kết luận, đồng chí Chủ tịch UBND huyện đề nghị phòng Kinh tế cần "
        "tập trung đôn đốc các xã hoàn thiện hồ sơ nông thôn mới. Đồng chí cũng đề nghị, trong thời "
        "gian tới, các phòng, ban đơn vị thuộc huyện tham mưu kiện toàn các Ban chỉ đạo.\n"
    )
    notice = make_notice(text, Level.DISTRICT, date(2024, 4, 5)).model_copy(
        update={"kind": DocumentKind.NEWS_ARTICLE, "sections": []}
    )
    found = extract_assignments(notice, gaz)
    assert [(a.agency.canonical, a.task[:30]) for a in found] == [
        ("Phòng Kinh tế", "Phát biểu kết luận, đồng chí C"),
        ("các phòng, ban, đơn vị", "Đồng chí cũng đề nghị, trong t"),
    ]
