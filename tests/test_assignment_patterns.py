"""The assignment grammar of the genre, one named pattern at a time, on the team's own sentences.

Each example is a small notice of a fictional province (Lam Giang) or commune, parsed by the real
pipeline (header, sections, assignments). ``expect`` lists every (agency, role) the example's
task must produce; ``forbid`` names agencies that must get nothing from it. A rule changed for one
pattern that breaks another pattern's example fails here at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.agencies import get_gazetteer
from assistant.model import LoadedDocument, Notice, Role
from assistant.parse import parse_document

PROVINCE_HEADER = """ỦY BAN NHÂN DÂN
TỈNH LAM GIANG
Số: 15/TB-UBND
Lam Giang, ngày 12 tháng 3 năm 2026
THÔNG BÁO
Kết luận của Phó Chủ tịch UBND tỉnh Trần Văn Bình tại cuộc họp về đầu tư công
Ngày 10/3/2026, đồng chí Trần Văn Bình, Phó Chủ tịch UBND tỉnh chủ trì cuộc họp về tình hình
giải ngân vốn đầu tư công. Sau khi nghe báo cáo và ý kiến các đại biểu, Phó Chủ tịch UBND tỉnh
kết luận như sau:
I. ĐÁNH GIÁ CHUNG
Các sở, ngành đã tích cực triển khai nhiệm vụ được giao, tỷ lệ giải ngân đạt khá.
II. NHIỆM VỤ TRỌNG TÂM
"""
COMMUNE_HEADER = """ỦY BAN NHÂN DÂN
XÃ TÂN PHÚ
Số: 21/TB-UBND
Tân Phú, ngày 05 tháng 3 năm 2026
THÔNG BÁO
Kết luận của Chủ tịch UBND xã tại cuộc họp giao ban tháng 02/2026
Ngày 03/3/2026, Chủ tịch UBND xã Lê Thị Hoa chủ trì cuộc họp giao ban. Chủ tịch UBND xã kết
luận như sau:
I. ĐÁNH GIÁ CHUNG
Tình hình kinh tế - xã hội ổn định.
II. NHIỆM VỤ TRỌNG TÂM
"""
FOOTER = """Nơi nhận:
- Như trên;
- Lưu: VT.
"""

L, A, C, R = Role.LEAD.value, Role.ASSIGNED.value, Role.COORDINATE.value, Role.REQUEST.value


@dataclass(frozen=True)
class Example:
    rule: str
    body: str
    expect: set[tuple[str, str]]
    anchor: str  # words of the task the expected assignments must quote
    header: str = PROVINCE_HEADER
    forbid: set[str] = field(default_factory=set)


EXAMPLES = [
    Example(
        "chair as subject: 'Chủ tịch UBND tỉnh giao Sở X …'",
        "1. Chủ tịch UBND tỉnh giao Sở Công Thương chủ trì rà soát quy hoạch cụm công nghiệp, "
        "báo cáo trước ngày 30/4/2026.\n",
        {("Sở Công Thương", L)},
        "rà soát quy hoạch cụm công nghiệp",
        forbid={"Ủy ban nhân dân tỉnh"},
    ),
    Example(
        "shared head distributes over a list, across ';' groups",
        "1. Lãnh đạo tỉnh giao các Sở: Xây dựng, Tài chính, Nội vụ; UBND các xã: Tân Phú, Hòa Bình "
        "khẩn trương hoàn thiện hồ sơ chuyển giao tài sản công.\n",
        {("Sở Xây dựng", A), ("Sở Tài chính", A), ("Sở Nội vụ", A), ("Ủy ban nhân dân xã @Tân Phú", A),
         ("Ủy ban nhân dân xã @Hòa Bình", A)},
        "hoàn thiện hồ sơ chuyển giao tài sản công",
    ),
    Example(
        "passive: 'Sở X được giao …'",
        "- Sở Tư pháp được giao rà soát các văn bản quy phạm pháp luật hết hiệu lực.\n",
        {("Sở Tư pháp", A)},
        "rà soát các văn bản quy phạm pháp luật",
    ),
    Example(
        "passive with 'nhiệm vụ': 'Sở X được giao nhiệm vụ …'",
        "- Trung tâm Phục vụ hành chính công tỉnh được giao nhiệm vụ số hóa hồ sơ đất đai.\n",
        {("Trung tâm Phục vụ hành chính công tỉnh", A)},
        "số hóa hồ sơ đất đai",
    ),
    Example(
        "nominal: 'Sở X có trách nhiệm …'",
        "- Sở Y tế có trách nhiệm bảo đảm thuốc, vật tư y tế cho các trạm y tế.\n",
        {("Sở Y tế", A)},
        "bảo đảm thuốc, vật tư y tế",
    ),
    Example(
        "nominal: 'Sở X có nhiệm vụ …'",
        "- Sở Văn hóa, Thể thao và Du lịch có nhiệm vụ xây dựng lịch lễ hội năm 2026.\n",
        {("Sở Văn hóa, Thể thao và Du lịch", A)},
        "xây dựng lịch lễ hội năm 2026",
    ),
    Example(
        "heading 'Nhiệm vụ của Sở X:' hands its items to X",
        "1. Nhiệm vụ của Sở Giáo dục và Đào tạo:\n"
        "- Hoàn thành sắp xếp mạng lưới trường học trong tháng 6/2026.\n"
        "- Tổ chức kỳ thi tuyển sinh an toàn, nghiêm túc.\n",
        {("Sở Giáo dục và Đào tạo", A)},
        "sắp xếp mạng lưới trường học",
    ),
    Example(
        "heading 'Đối với Sở X:' hands its items to X",
        "1. Đối với Sở Tài chính:\n"
        "a) Cân đối nguồn vốn cho các dự án chuyển tiếp.\n"
        "b) Hướng dẫn thủ tục thanh toán vốn.\n",
        {("Sở Tài chính", A)},
        "Hướng dẫn thủ tục thanh toán vốn",
    ),
    Example(
        "'Đề nghị' to a ministry (outside the province) is a request",
        "- Đề nghị Bộ Xây dựng sớm ban hành hướng dẫn định mức chi phí.\n",
        {("Bộ Xây dựng", R)},
        "ban hành hướng dẫn định mức chi phí",
    ),
    Example(
        "'Đề nghị' to a company is a request",
        "- Đề nghị Công ty Điện lực Lam Giang bảo đảm cấp điện cho khu tái định cư.\n",
        {("Công ty Điện lực Lam Giang", R)},
        "bảo đảm cấp điện cho khu tái định cư",
    ),
    Example(
        "'Đề nghị' to a Ban of the HĐND is a request",
        "- Đề nghị Ban Kinh tế - Ngân sách HĐND tỉnh thẩm tra tờ trình điều chỉnh kế hoạch vốn.\n",
        {("Ban Kinh tế - Ngân sách HĐND tỉnh", R)},
        "thẩm tra tờ trình điều chỉnh kế hoạch vốn",
    ),
    Example(
        "'Đề nghị' to the province's own department stays an order",
        "- Đề nghị Sở Tài chính tổng hợp nhu cầu vốn năm 2027.\n",
        {("Sở Tài chính", A)},
        "tổng hợp nhu cầu vốn năm 2027",
    ),
    Example(
        "lead and coordination across a list",
        "- Sở Nông nghiệp và Môi trường chủ trì, phối hợp với Sở Tài chính, Sở Xây dựng và các đơn vị "
        "liên quan thẩm định phương án bồi thường.\n",
        {("Sở Nông nghiệp và Môi trường", L), ("Sở Tài chính", C), ("Sở Xây dựng", C)},
        "thẩm định phương án bồi thường",
    ),
    Example(
        "numbering 'Một là, … Hai là, …'",
        "Một là, Sở Nội vụ rà soát vị trí việc làm của các cơ quan.\n"
        "Hai là, Sở Khoa học và Công nghệ triển khai nền tảng số dùng chung.\n",
        {("Sở Khoa học và Công nghệ", A)},
        "triển khai nền tảng số dùng chung",
    ),
    Example(
        "numbering 'Thứ nhất, …'",
        "Thứ nhất, Thanh tra tỉnh tập trung giải quyết đơn thư tồn đọng.\n",
        {("Thanh tra tỉnh", A)},
        "giải quyết đơn thư tồn đọng",
    ),
    Example(
        "a label 'Giao UBND các xã: A, B:' hands items to each commune",
        "1. Giao UBND các xã: Tân Phú, Hòa Bình:\n"
        "- Rà soát quỹ đất tái định cư trước ngày 20/4/2026.\n",
        {("Ủy ban nhân dân xã @Tân Phú", A), ("Ủy ban nhân dân xã @Hòa Bình", A)},
        "Rà soát quỹ đất tái định cư",
    ),
    Example(
        "a commune notice names the commune's own units",
        "1. Công an xã tăng cường tuần tra bảo đảm an ninh trật tự dịp lễ hội.\n"
        "2. Phòng Kinh tế chủ trì, phối hợp với Ban Chỉ huy quân sự xã kiểm tra đê điều.\n",
        {("Phòng Kinh tế", L), ("Ban Chỉ huy Quân sự xã", C)},
        "kiểm tra đê điều",
        header=COMMUNE_HEADER,
    ),
    Example(
        "an intro sentence is not a task; its items are",
        "1. Các sở, ngành cần tập trung thực hiện các nhiệm vụ sau:\n"
        "- Rà soát thủ tục hành chính nội bộ trong quý II/2026.\n",
        {("các Sở, ngành", A)},
        "Rà soát thủ tục hành chính nội bộ",
    ),
    Example(
        "an object is not an assignee",
        "- Sở Nội vụ hướng dẫn Sở Y tế xây dựng đề án vị trí việc làm.\n",
        {("Sở Nội vụ", A)},
        "xây dựng đề án vị trí việc làm",
        forbid={"Sở Y tế"},
    ),
]


CENTRAL_HEADER = """VĂN PHÒNG CHÍNH PHỦ
Số: 512/TB-VPCP
Hà Nội, ngày 20 tháng 11 năm 2025
THÔNG BÁO
Kết luận của Phó Thủ tướng Chính phủ Đỗ Văn An tại buổi làm việc với tỉnh Lam Giang
Ngày 15 tháng 11 năm 2025, Phó Thủ tướng Chính phủ Đỗ Văn An chủ trì buổi làm việc với lãnh đạo
tỉnh Lam Giang. Sau khi nghe báo cáo, Phó Thủ tướng kết luận như sau:
I. ĐÁNH GIÁ CHUNG
Tỉnh Lam Giang đã đạt nhiều kết quả quan trọng.
Trong thời gian tới, Tỉnh tập trung hoàn thành dứt điểm việc sắp xếp trụ sở dôi dư.
II. NHIỆM VỤ TRONG THỜI GIAN TỚI
"""
DIRECTIVE_HEADER = """ỦY BAN NHÂN DÂN
TỈNH LAM GIANG
Số: 77/UBND-NC
V/v triển khai kết luận của Ban Chỉ đạo tỉnh
Kính gửi:
- Thủ trưởng các sở, ban, ngành tỉnh;
- Chủ tịch UBND các xã, phường.
Thực hiện Thông báo số 12-TB/BCĐ của Ban Chỉ đạo tỉnh, UBND tỉnh yêu cầu như sau:
"""
ROUTING_HEADER = """VĂN PHÒNG UBND TỈNH LAM GIANG
PHIẾU TRÌNH
Kính gửi: Lãnh đạo UBND tỉnh.
I. NỘI DUNG TRÌNH
"""

EXAMPLES += [
    Example(
        "heading 'Trách nhiệm của X; Y' hands its items to every group it names",
        "1. Trách nhiệm của các sở, ban, ngành; UBND các xã, phường\n"
        "a) Chủ động rà soát hồ sơ số hóa thủ tục hành chính.\n",
        {("các Sở, ngành", A), ("UBND các xã, phường", A)},
        "rà soát hồ sơ số hóa thủ tục",
    ),
    Example(
        "'Về …, giao X:' after a topic",
        "1. Về dự thảo Đề án chuyển đổi số, giao Sở Khoa học và Công nghệ:\n"
        "- Tiếp thu ý kiến các đại biểu, hoàn thiện dự thảo.\n",
        {("Sở Khoa học và Công nghệ", A)},
        "hoàn thiện dự thảo",
    ),
    Example(
        "a subjectless '- Chủ trì, phối hợp với Y …:' under a label: X leads, Y coordinates",
        "1. Giao Trung tâm Phát triển quỹ đất tỉnh:\n"
        "- Chủ trì, phối hợp chặt chẽ với Sở Xây dựng trong công tác bồi thường:\n"
        "+ Hoàn thành chi trả tiền bồi thường đợt 2.\n",
        {("Trung tâm Phát triển quỹ đất tỉnh", L), ("Sở Xây dựng", C)},
        "chi trả tiền bồi thường đợt 2",
    ),
    Example(
        "a bare 'Nhà đầu tư' heads its items; 'Đối với X: …' names the subject",
        "1. Nhà đầu tư của dự án đường vành đai:\n"
        "a) Khẩn trương huy động thêm mũi thi công.\n"
        "b) Đối với Công ty Cổ phần Xây dựng Lam Giang: Bổ sung nhân lực cho gói thầu số 3.\n",
        {("Nhà đầu tư", A)},
        "huy động thêm mũi thi công",
    ),
    Example(
        "'Đối với X: …' makes X the subject of the item",
        "1. Đối với Công ty Cổ phần Xây dựng Lam Giang: Bổ sung nhân lực cho gói thầu số 3.\n",
        {("Công ty Cổ phần Xây dựng Lam Giang", A)},
        "Bổ sung nhân lực cho gói thầu",
    ),
    Example(
        "'chủ trì, làm việc với Y' and 'chủ trì cùng với Y' name partners",
        "- Giao Sở Xây dựng chủ trì, làm việc với Sở Tài chính để thống nhất phương án vốn.\n",
        {("Sở Xây dựng", L), ("Sở Tài chính", C)},
        "thống nhất phương án vốn",
    ),
    Example(
        "unnamed partners ('các đơn vị liên quan') are not recorded",
        "- Sở Y tế chủ trì, phối hợp với các đơn vị liên quan và địa phương kiểm tra an toàn thực "
        "phẩm.\n",
        {("Sở Y tế", L)},
        "kiểm tra an toàn thực phẩm",
        forbid={"các cơ quan, đơn vị liên quan", "UBND các xã, phường"},
    ),
    Example(
        "'các sở, ban, ngành, địa phương': the groups and the tier below the issuer",
        "- Tôi đề nghị ngay sau cuộc họp này, các sở, ban, ngành, địa phương khẩn trương xây dựng "
        "kế hoạch hành động.\n",
        {("các Sở, ngành", A), ("UBND các xã, phường", A)},
        "xây dựng kế hoạch hành động",
    ),
    Example(
        "'Người đứng đầu', 'Thủ trưởng' before a body: the body",
        "- Thủ trưởng các sở, ban, ngành; Chủ tịch UBND cấp xã phải trực tiếp chỉ đạo công tác "
        "cải cách hành chính.\n",
        {("UBND các xã, phường", A)},
        "chỉ đạo công tác cải cách hành chính",
    ),
    Example(
        "'Đồng thời, …' opening a paragraph continues its subject",
        "Sở Nội vụ chủ trì tham mưu kế hoạch cải cách hành chính năm 2026.\n"
        "Đồng thời, xây dựng kế hoạch bồi dưỡng kỹ năng số cho công chức.\n",
        {("Sở Nội vụ", L)},
        "kế hoạch bồi dưỡng kỹ năng số",
    ),
    Example(
        "a directive letter's addressees take its subjectless tasks",
        "I. Yêu cầu chung\n1. Rà soát các kết luận thanh tra chưa thực hiện xong.\n",
        {("các Sở, ngành", A), ("UBND các xã, phường", A)},
        "Rà soát các kết luận thanh tra",
        header=DIRECTIVE_HEADER,
    ),
    Example(
        "a routing slip assigns nothing",
        "1. Đề nghị Lãnh đạo UBND tỉnh xem xét, ký ban hành thông báo.\n",
        set(),
        "ký ban hành thông báo",
        header=ROUTING_HEADER,
        forbid={"Ủy ban nhân dân tỉnh", "Văn phòng UBND tỉnh"},
    ),
    Example(
        "central: '(1)' items; 'Bộ trưởng Bộ X'; provinces listed by name",
        "(1) Đồng chí Bộ trưởng Bộ Y tế trực tiếp chỉ đạo hoàn thành bệnh viện vệ tinh.\n"
        "(2) Ủy ban nhân dân các tỉnh: Lam Giang, Hòa Sơn khẩn trương bàn giao mặt bằng sạch.\n",
        {("Bộ Y tế", A)},
        "hoàn thành bệnh viện vệ tinh",
        header=CENTRAL_HEADER,
    ),
    Example(
        "central: each province listed by name is its Ủy ban nhân dân tỉnh",
        "(2) Ủy ban nhân dân các tỉnh: Lam Giang, Hòa Sơn khẩn trương bàn giao mặt bằng sạch.\n",
        {("Ủy ban nhân dân tỉnh @Lam Giang", A), ("Ủy ban nhân dân tỉnh @Hòa Sơn", A)},
        "bàn giao mặt bằng sạch",
        header=CENTRAL_HEADER,
    ),
    Example(
        "central: 'các Bộ, cơ quan: A, B và C' with names holding commas and a Tập đoàn in the list",
        "1. Các Bộ, cơ quan: Tài chính, Văn hóa, Thể thao và Du lịch, Ngoại giao, Tập đoàn Điện lực "
        "Việt Nam theo chức năng, nhiệm vụ hỗ trợ tỉnh hoàn thành các công trình trọng điểm.\n",
        {("Bộ Tài chính", A), ("Bộ Văn hóa, Thể thao và Du lịch", A), ("Bộ Ngoại giao", A),
         ("Tập đoàn Điện lực Việt Nam", A)},
        "hoàn thành các công trình trọng điểm",
        header=CENTRAL_HEADER,
    ),
    Example(
        "central: '(Trong) thời gian tới, Tỉnh …' inside the evaluation is a task",
        "1. Bộ Tài chính hướng dẫn thủ tục điều chuyển tài sản.\n",
        {("Ủy ban nhân dân tỉnh", A)},
        "sắp xếp trụ sở dôi dư",
        header=CENTRAL_HEADER,
    ),
]


def _notice(example: Example) -> Notice:
    text = example.header + example.body + FOOTER
    return parse_document(LoadedDocument(source="vi-du.txt", format="txt", text=text), get_gazetteer())


def _name(notice: Notice, index: int) -> str:
    """Canonical name, or the name as written; a body of a level with its place ('@Tân Phú')."""
    agency = notice.assignments[index].agency
    name = agency.canonical or agency.text
    return f"{name} @{agency.place}" if agency.canonical and agency.place else name


def _got(notice: Notice, anchor: str) -> set[tuple[str, str]]:
    return {
        (_name(notice, i), a.role.value)
        for i, a in enumerate(notice.assignments)
        if anchor in a.task or anchor in notice.text[a.start : a.end]
    }


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.rule for e in EXAMPLES])
def test_pattern_example(example: Example) -> None:
    notice = _notice(example)
    got = _got(notice, example.anchor)
    assert example.expect <= got, f"{example.rule}: got {sorted(got)}"
    names = {name for name, _ in got}
    assert not (example.forbid & names), f"{example.rule}: forbidden {example.forbid & names}"
    # nothing outside the example's own agencies is credited with its task
    # (the named group 'các cơ quan, đơn vị liên quan' is recorded as a partner: eval/README.md)
    expected_names = {name for name, _ in example.expect} | {"các cơ quan, đơn vị liên quan"}
    assert names <= expected_names, f"{example.rule}: extra {sorted(names - expected_names)}"


# -- agency forms: found by their head and name, known to the gazetteer or not ---------------

AGENCY_FORMS = [
    "Sở Quy hoạch – Kiến trúc",
    "Cục Quản lý đường bộ",
    "Chi cục Thủy lợi tỉnh",
    "Tổng cục Thống kê",
    "Trung tâm Phát triển quỹ đất tỉnh",
    "Đài Phát thanh và Truyền hình Lam Giang",
    "Thanh tra tỉnh",
    "Kho bạc Nhà nước khu vực XV",
    "Ngân hàng Chính sách xã hội chi nhánh tỉnh",
    "Công ty Cổ phần Cấp nước Lam Giang",
    "Tổng công ty Điện lực miền Bắc",
    "Tập đoàn Bưu chính Viễn thông Việt Nam",
    "Điện lực Lam Giang",
    "Công an tỉnh",
    "Ban Chỉ huy quân sự xã Tân Phú",
    "Ban Quản lý dự án đầu tư xây dựng số 2",
    "UBND huyện Gia Lâm",
    "Ủy ban nhân dân xã Tân Phú",
    "Ban Pháp chế HĐND tỉnh",
    "Ủy ban Kinh tế của Quốc hội",
    "Đảng ủy Khối cơ quan tỉnh",
    "Đảng bộ xã Tân Phú",
    "Văn phòng Đoàn đại biểu Quốc hội và HĐND tỉnh",
    "Bộ Xây dựng",
    "Cục Thuế tỉnh",
    "Thường trực HĐND tỉnh",
    "Chủ đầu tư dự án đường ven sông",
    "huyện Gia Lâm",
    "phường Văn Phú",
]


@pytest.mark.parametrize("form", AGENCY_FORMS)
def test_agency_form_as_subject_and_after_giao(form: str) -> None:
    for body in (
        f"- {form} chủ trì rà soát hồ sơ dự án trước ngày 15/5/2026.\n",
        f"- Giao {form} rà soát hồ sơ dự án trước ngày 15/5/2026.\n",
    ):
        notice = _notice(Example("form", body, set(), "rà soát hồ sơ dự án"))
        found = [a for a in notice.assignments if "rà soát hồ sơ dự án" in a.task]
        assert [a.agency.text for a in found] == [form], body
        assert found[0].deadline is not None


# -- property: numbering style and agency names do not change who is assigned -----------------

_STYLES = ["{n}. ", "{letter}) ", "- ", "+ ", "* "]
_SWAP = ["Sở Tài chính", "Sở Xây dựng", "Sở Công Thương", "Thanh tra tỉnh", "Công an tỉnh",
         "Trung tâm Xúc tiến đầu tư tỉnh", "Ban Quản lý các khu công nghiệp"]
_TASKS = ["rà soát danh mục dự án trọng điểm", "báo cáo kết quả giải ngân hằng tháng",
          "kiểm tra tiến độ thi công công trình"]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    style=st.sampled_from(_STYLES),
    agencies=st.lists(st.sampled_from(_SWAP), min_size=1, max_size=3, unique=True),
    lead=st.booleans(),
)
def test_property_numbering_and_names_keep_assignments(style: str, agencies: list[str], lead: bool) -> None:
    lines = []
    for i, (agency, task) in enumerate(zip(agencies, _TASKS, strict=False)):
        marker = style.format(n=i + 1, letter="abc"[i])
        verb = " chủ trì" if lead else ""
        lines.append(f"{marker}{agency}{verb} {task}.")
    notice = _notice(Example("prop", "\n".join(lines) + "\n", set(), ""))
    for agency, task in zip(agencies, _TASKS, strict=False):
        found = [a for a in notice.assignments if task in a.task]
        names = {(a.agency.canonical or a.agency.text) for a in found}
        assert names == {agency}, (style, agency, names)
        assert all(a.role is (Role.LEAD if lead else Role.ASSIGNED) for a in found)
