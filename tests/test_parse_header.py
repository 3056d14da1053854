from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.errors import ParseError
from assistant.model import DocumentKind, Level, LoadedDocument, Notice, Section, Spanned
from assistant.parse import parse_document
from assistant.parse.header import find_date, parse_header
from assistant.text import collapse_spaces, fold

# A docx-like notice: the header table gives the left cell lines, then the right cell lines.
DOCX_LIKE = """\
UBND TỈNH LAM SƠN
VĂN PHÒNG
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Số: /TB-VP
Lam Sơn, ngày tháng 7 năm 2025
THÔNG BÁO
Kết luận của đồng chí Lý Văn Tâm - Phó Bí thư Tỉnh ủy, Chủ tịch
Ủy ban nhân dân tỉnh tại cuộc họp về tiến độ các dự án giao thông
_____________
Ngày 02 tháng 7 năm 2025, Ủy ban nhân dân tỉnh tổ chức cuộc họp về tiến độ các dự án giao thông. Dự họp có đồng chí Hà Thu Trang - Phó Chủ tịch Ủy ban nhân dân tỉnh; đại diện các Sở: Xây dựng, Tài chính. Sau khi nghe Sở Xây dựng báo cáo, đồng chí Lý Văn Tâm kết luận:
I. ĐÁNH GIÁ CHUNG
Các chủ đầu tư đã có nhiều cố gắng.
II. NHIỆM VỤ TRỌNG TÂM
1. Sở Xây dựng
- Đôn đốc nhà thầu, hoàn thành trước ngày 30/9/2025.
2. Sở Tài chính
Tham mưu bố trí vốn trong Quý III năm 2025.
Trên đây là kết luận của đồng chí Lý Văn Tâm. Văn phòng Ủy ban nhân dân tỉnh thông báo để các cơ quan biết, thực hiện./.
Nơi nhận:
- Thường trực Tỉnh ủy (b/c);
- Các Sở: Xây dựng, Tài chính;
- Lưu: VT, TH.
KT. CHÁNH VĂN PHÒNG
PHÓ CHÁNH VĂN PHÒNG
Đỗ Minh Khoa
"""

# Header lost in PDF extraction; the signer's name is missing too.
HEADLESS = """\
THÔNG BÁO
Kết luận của đồng chí Chủ tịch UBND huyện tại phiên họp thường kỳ tháng 10 năm 2024
Chiều ngày 28 tháng 10 năm 2024, UBND huyện tổ chức phiên họp thường kỳ dưới sự chủ trì của đồng chí Vương Đình Lộc - Chủ tịch UBND huyện. Tham dự phiên họp có các Phó Chủ tịch UBND huyện, thủ trưởng các phòng, ban. Sau khi nghe báo cáo, đồng chí Chủ tịch UBND huyện kết luận:
1. Phòng Nông nghiệp và PTNT
- Chỉ đạo thu hoạch lúa Mùa.
2. Các xã, thị trấn
- Ra quân làm thủy lợi nội đồng trên địa bàn huyện Yên Khê.
Các phòng, ban, đơn vị căn cứ chức năng, nhiệm vụ tổ chức triển khai thực hiện nghiêm các nội dung tại Thông báo này./.
Nơi nhận:
- TT Huyện ủy, HĐND huyện;
- Lưu: VT.
TL. CHỦ TỊCH
CHÁNH VĂN PHÒNG
"""

CENTRAL = """\
VĂN PHÒNG CHÍNH PHỦ -------
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc ---------------
Số: 701/TB-VPCP
Hà Nội, ngày 05 tháng 12 năm 2025
THÔNG BÁO
KẾT LUẬN CỦA PHÓ THỦ TƯỚNG CHÍNH PHỦ ĐINH QUANG HẢI TẠI BUỔI LÀM VIỆC VỚI LÃNH ĐẠO TỈNH LAM SƠN
Từ ngày 20 đến ngày 21 tháng 11 năm 2025, tại tỉnh Lam Sơn, Phó Thủ tướng Chính phủ Đinh Quang Hải đã kiểm tra các công trình và chủ trì buổi làm việc với lãnh đạo Tỉnh. Cùng dự buổi làm việc có đại diện các Bộ: Tài chính, Xây dựng.
Sau khi nghe báo cáo, Phó Thủ tướng kết luận như sau:
I. ĐÁNH GIÁ CHUNG
Tỉnh đã đạt nhiều kết quả.
II. VỀ KIẾN NGHỊ CỦA TỈNH
Giao Bộ Tài chính nghiên cứu.
Văn phòng Chính phủ thông báo để Ủy ban nhân dân tỉnh Lam Sơn và các Bộ, cơ quan liên quan biết, thực hiện./.
Nơi nhận:
- TTgCP, các PTTgCP (để b/c);
- VPCP: BTCN, các PCN,
Trợ lý của PTTgCP;
- Lưu: VT, QHĐP (2b)
KT. BỘ TRƯỞNG,
CHỦ NHIỆM
PHÓ CHỦ NHIỆM
Ngô Thành Đạt
"""

NEWS = """\
Thị xã Bến Lau tổng kết công tác năm 2024
Sáng ngày 26/12/2024, UBND thị xã Bến Lau tổ chức hội nghị tổng kết công tác năm 2024. Đồng chí Mạc Văn Sơn - Chủ tịch UBND thị xã chủ trì hội nghị, cùng dự có lãnh đạo các phòng, ban.
Toàn cảnh hội nghị
Năm 2024, kinh tế thị xã tăng trưởng khá, thu ngân sách vượt dự toán, an sinh xã hội được bảo đảm; nhiều công trình hạ tầng hoàn thành đưa vào sử dụng, đời sống nhân dân tiếp tục được nâng lên.
Phát biểu kết luận hội nghị, đồng chí Mạc Văn Sơn đề nghị các phòng, ban tập trung hoàn thành các chỉ tiêu năm 2025./.
"""


def test_docx_like_header_fields() -> None:
    h = parse_header(DOCX_LIKE)
    assert h.kind == DocumentKind.NOTICE
    assert h.issuer is not None and h.issuer.text == "UBND TỈNH LAM SƠN\nVĂN PHÒNG"
    assert h.issuer_name == "Văn phòng UBND tỉnh Lam Sơn"
    assert h.level == Level.PROVINCE
    assert h.number is not None and h.number.text == "/TB-VP"
    assert h.place is not None and h.place.text == "Lam Sơn"
    assert h.issue_date is not None and h.issue_date.value is None  # day left blank
    assert h.title is not None and h.title.text.startswith("Kết luận của đồng chí Lý Văn Tâm")
    assert h.title.text.endswith("dự án giao thông")
    assert h.meeting_date is not None and h.meeting_date.value == dt.date(2025, 7, 2)
    # The opening names the conclusions' author but not a chair: the title gives it.
    assert h.chair is not None and h.chair.name == "Lý Văn Tâm"
    assert h.chair.position == "Phó Bí thư Tỉnh ủy, Chủ tịch Ủy ban nhân dân tỉnh"
    assert h.attendees is not None and h.attendees.text.startswith(
        "Dự họp có đồng chí Hà Thu Trang"
    )
    assert h.closing is not None and h.closing.text.startswith("Trên đây là kết luận")
    assert [r.text for r in h.recipients] == [
        "Thường trực Tỉnh ủy (b/c);",
        "Các Sở: Xây dựng, Tài chính;",
        "Lưu: VT, TH.",
    ]
    assert h.signature is not None
    assert (h.signature.authority, h.signature.position, h.signature.signer) == (
        "KT. CHÁNH VĂN PHÒNG",
        "PHÓ CHÁNH VĂN PHÒNG",
        "Đỗ Minh Khoa",
    )
    body = DOCX_LIKE[h.body_start : h.body_end]
    assert body.startswith("I. ĐÁNH GIÁ CHUNG") and body.endswith("Quý III năm 2025.")


def test_missing_header_infers_issuer_and_keeps_signature_without_signer() -> None:
    h = parse_header(HEADLESS)
    assert h.number is None and h.place is None and h.issue_date is None
    assert h.issuer is not None and h.issuer.text == "UBND huyện"
    assert h.issuer_name == "UBND huyện Yên Khê"
    assert h.level == Level.DISTRICT
    assert h.meeting_date is not None and h.meeting_date.text == "Chiều ngày 28 tháng 10 năm 2024"
    assert h.chair is not None and (h.chair.name, h.chair.position) == (
        "Vương Đình Lộc",
        "Chủ tịch UBND huyện",
    )
    assert h.closing is not None and h.closing.text.endswith("tại Thông báo này./.")
    assert h.signature is not None
    assert (h.signature.authority, h.signature.position, h.signature.signer) == (
        "TL. CHỦ TỊCH",
        "CHÁNH VĂN PHÒNG",
        None,
    )


def test_no_signature_block_and_no_footer() -> None:
    text = HEADLESS[: HEADLESS.index("Nơi nhận")]
    h = parse_header(text)
    assert h.signature is None and h.recipients == []
    assert h.closing is not None


def test_central_notice() -> None:
    h = parse_header(CENTRAL)
    assert h.issuer is not None and h.issuer.text == "VĂN PHÒNG CHÍNH PHỦ"
    assert h.level == Level.CENTRAL
    assert h.number is not None and h.number.text == "701/TB-VPCP"
    assert h.issue_date is not None and h.issue_date.value == dt.date(2025, 12, 5)
    assert h.meeting_date is not None and h.meeting_date.value == dt.date(2025, 11, 20)
    assert h.chair is not None and (h.chair.name, h.chair.position) == (
        "Đinh Quang Hải",
        "Phó Thủ tướng Chính phủ",
    )
    assert h.attendees is not None and h.attendees.text.startswith("Cùng dự buổi làm việc")
    # A wrapped recipient line continues the item above it.
    assert [r.text.split(":")[0] for r in h.recipients] == [
        "TTgCP, các PTTgCP (để b/c);",
        "VPCP",
        "Lưu",
    ]
    assert h.recipients[1].text.endswith("Trợ lý của PTTgCP;")
    assert h.signature is not None
    assert h.signature.authority == "KT. BỘ TRƯỞNG, CHỦ NHIỆM"
    assert h.signature.position == "PHÓ CHỦ NHIỆM"
    assert h.signature.signer == "Ngô Thành Đạt"


def test_chair_from_caps_title_when_opening_has_no_chair() -> None:
    text = CENTRAL.replace("kiểm tra các công trình và chủ trì buổi làm việc", "làm việc")
    h = parse_header(text)
    assert h.chair is not None and h.chair.name == "Đinh Quang Hải"


def test_position_only_chair() -> None:
    text = (
        "THÔNG BÁO\nKết luận của Phó Chủ tịch UBND tỉnh Lam Sơn tại cuộc họp về bảng giá đất\n"
        "Chiều ngày 18/11/2025, tại trụ sở UBND tỉnh, Phó Chủ tịch UBND tỉnh Lam Sơn đã chủ trì cuộc họp. "
        "Sau khi nghe báo cáo, Phó Chủ tịch UBND tỉnh Lam Sơn kết luận như sau:\n- Sở Tài chính rà soát.\n"
    )
    h = parse_header(text)
    assert h.chair is not None and h.chair.name is None
    assert h.chair.position == "Phó Chủ tịch UBND tỉnh Lam Sơn"
    assert h.level == Level.PROVINCE


def test_news_article_is_recognized() -> None:
    h = parse_header(NEWS)
    assert h.kind == DocumentKind.NEWS_ARTICLE
    assert h.meeting_date is not None and h.meeting_date.value == dt.date(2024, 12, 26)
    assert h.chair is not None and h.chair.name == "Mạc Văn Sơn"
    assert h.closing is None
    assert h.opening is not None and h.opening.text.startswith("Sáng ngày 26/12/2024")


@pytest.mark.parametrize(
    ("issuer_line", "level"),
    [
        ("UBND XÃ TÂN HÒA", Level.COMMUNE),
        ("UBND PHƯỜNG BẮC VÂN", Level.COMMUNE),
        ("UBND THỊ XÃ BẾN LAU", Level.DISTRICT),
        ("UBND THÀNH PHỐ LAM THỦY", Level.DISTRICT),
        ("UBND THÀNH PHỐ ĐÀ NẴNG", Level.PROVINCE),
        ("UBND TỈNH LAM SƠN", Level.PROVINCE),
        ("VĂN PHÒNG CHÍNH PHỦ", Level.CENTRAL),
    ],
)
def test_level_from_issuer(issuer_line: str, level: Level) -> None:
    h = parse_header(
        f"{issuer_line}\nSố: 3/TB-UBND\nTHÔNG BÁO\nKết luận của Chủ tịch\nNgày 01/02/2025, họp.\n"
    )
    assert h.level == level


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("Ngày 01/3/2024, UBND thành phố họp", dt.date(2024, 3, 1)),
        ("Chiều ngày 09 tháng 11 năm 2025, tại trụ sở", dt.date(2025, 11, 9)),
        ("Từ ngày 08 đến ngày 09 tháng 11 năm 2025 tại Thanh Hóa", dt.date(2025, 11, 8)),
        ("Từ ngày 30/6 đến ngày 01/7/2025", dt.date(2025, 6, 30)),
        ("Ngày 31/02/2025", None),
    ],
)
def test_find_date(phrase: str, expected: dt.date | None) -> None:
    found = find_date(phrase, 0, len(phrase))
    assert found is not None and found.value == expected
    assert phrase[found.start : found.end] == found.text


def test_parse_document_refuses_empty_and_keeps_english() -> None:
    with pytest.raises(ParseError):
        parse_document(LoadedDocument(source="x.txt", format="txt", text=" \n \n"))
    notice = parse_document(
        LoadedDocument(
            source="e.txt",
            format="txt",
            text="Minutes of the meeting.\nThe chair thanked everyone.",
        )
    )
    assert notice.kind == DocumentKind.OTHER
    assert notice.sections == []


def test_parse_document_builds_notice() -> None:
    notice = parse_document(LoadedDocument(source="a.txt", format="txt", text=DOCX_LIKE.strip()))
    assert notice.kind == DocumentKind.NOTICE
    assert [s.marker for s in notice.sections] == ["I.", "II."]
    assert [c.heading for c in notice.sections[1].children] == ["Sở Xây dựng", "Sở Tài chính"]
    assert len(notice.id) == 16
    assert_spans(notice)


# --- every span of a parsed notice points at what it claims ------------------------------------


def _check_spanned(text: str, value: Spanned | None) -> None:
    if value is None:
        return
    assert 0 <= value.start <= value.end <= len(text)
    assert text[value.start : value.end] == value.text


def _check_section(text: str, section: Section, lo: int, hi: int) -> None:
    assert lo <= section.start <= section.end <= hi
    assert text[section.start : section.end].startswith(section.marker)
    assert section.heading_start is not None and section.heading_end is not None
    assert section.start <= section.heading_start <= section.heading_end <= section.end
    assert text[section.heading_start : section.heading_end] == section.heading
    if section.body:
        assert section.body in text[section.heading_end : section.end]
    for child in section.children:
        _check_section(text, child, section.start, section.end)


def assert_spans(notice: Notice) -> None:
    text = notice.text
    for field in (
        notice.issuer,
        notice.number,
        notice.place,
        notice.issue_date,
        notice.title,
        notice.meeting_date,
        notice.attendees,
        notice.opening,
        notice.closing,
        *notice.recipients,
    ):
        _check_spanned(text, field)
    if notice.chair is not None:
        chair = notice.chair
        assert 0 <= chair.start < chair.end <= len(text)
        quoted = fold(collapse_spaces(text[chair.start : chair.end]))
        assert chair.name is None or fold(chair.name) in quoted
        assert chair.name or chair.position
    if notice.signature is not None:
        sig = notice.signature
        block = collapse_spaces(text[sig.start : sig.end])
        for part in (sig.authority, sig.position, sig.signer):
            assert part is None or part in block
    for section in notice.sections:
        _check_section(text, section, 0, len(text))
    for a in notice.assignments:
        assert 0 <= a.start <= a.end <= len(text)
        assert text[a.agency.start : a.agency.end] == a.agency.text


_FRAGMENTS = [
    "THÔNG BÁO",
    "UBND THỊ XÃ BẾN LAU",
    "VĂN PHÒNG",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Số: 12/TB-UBND",
    "Số: /TB-VP",
    "Bến Lau, ngày 05 tháng 3 năm 2024",
    "Bến Lau, ngày tháng 3 năm 2024",
    "Kết luận của đồng chí Tạ Văn Hùng - Chủ tịch UBND thị xã tại phiên họp",
    "Ngày 03/3/2024, UBND thị xã tổ chức phiên họp dưới sự chủ trì của đồng chí Tạ Văn Hùng - Chủ tịch UBND thị xã.",
    "Dự họp có các Phó Chủ tịch UBND thị xã.",
    "Sau khi nghe báo cáo, đồng chí Chủ tịch kết luận:",
    "I. ĐÁNH GIÁ CHUNG",
    "KINH TẾ - XÃ HỘI THÁNG 3",
    "II. NHIỆM VỤ",
    "1. Phòng Tài chính - Kế hoạch",
    "1.1. Giao phòng Nội vụ rà soát biên chế.",
    "10.Công tác khác",
    "a) Báo cáo trước ngày 20/3/2024.",
    "- Phòng Tài nguyên và Môi trường:",
    "+ Cấp giấy chứng nhận.",
    "* Đối với công tác phòng chống dịch",
    "• Báo cáo hằng tuần.",
    "## Yêu cầu",
    "Tham mưu giải quyết vướng mắc.",
    "Trên đây là kết luận của đồng chí Chủ tịch UBND thị xã./.",
    "Nơi nhận:",
    "- Lưu: VT.",
    "TL. CHỦ TỊCH",
    "KT. BỘ TRƯỞNG,",
    "CHÁNH VĂN PHÒNG",
    "Lê Thị Hoa",
    "_____________",
    "Meeting minutes in English.",
]

_lines = st.lists(
    st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(alphabet="aăâđeêoôơuưAĐ ạếờ-+*.:;,/0123456789IVX()\t", min_size=0, max_size=40),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_lines, joiner=st.sampled_from(["\n", "\n\n", " \n"]))
def test_every_span_is_exact_on_generated_documents(lines: list[str], joiner: str) -> None:
    text = joiner.join(lines)
    if not any(ch.isalnum() for ch in text):
        with pytest.raises(ParseError):
            parse_document(LoadedDocument(source="g.txt", format="txt", text=text))
        return
    notice = parse_document(LoadedDocument(source="g.txt", format="txt", text=text))
    assert notice.text == text
    assert_spans(notice)


@pytest.mark.parametrize("text", [DOCX_LIKE, HEADLESS, CENTRAL, NEWS])
def test_every_span_is_exact_on_fixtures(text: str) -> None:
    assert_spans(parse_document(LoadedDocument(source="f.txt", format="txt", text=text)))


# -- neighbours of the notice: minutes, speech, routing slip, directive letter ------------------

_MINUTES = """UBND TỈNH LAM GIANG
SỞ XÂY DỰNG
CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
Độc lập - Tự do - Hạnh phúc
Lam Giang, ngày 03 tháng 4 năm 2026
BIÊN BẢN KIỂM TRA
Kiểm tra an toàn công trình cầu Sông Lam
Căn cứ Nghị định số 06/2021/NĐ-CP ngày 26/01/2021 của Chính phủ;
Hôm nay, vào hồi 09 giờ 00 phút, ngày 02 tháng 4 năm 2026, Đoàn kiểm tra tiến hành kiểm tra.
I. THÀNH PHẦN
- Ông Lê Văn Tâm, Phó Giám đốc Sở Xây dựng - Trưởng đoàn.
- Bà Ngô Thị Lan, Chuyên viên - Thành viên.
II. KẾT LUẬN
Đề nghị Công ty Cổ phần Cầu đường Lam Giang bổ sung hồ sơ hoàn công trước ngày 15/4/2026.
"""


def test_minutes_date_chair_and_issuer() -> None:
    out = parse_header(_MINUTES)
    assert out.kind is DocumentKind.MINUTES
    # 'Hôm nay …' is the meeting; the legal basis' date is not
    assert out.meeting_date is not None and out.meeting_date.value == dt.date(2026, 4, 2)
    assert out.chair is not None and out.chair.name == "Lê Văn Tâm"
    assert _MINUTES[out.chair.start : out.chair.end] == "Lê Văn Tâm"
    assert out.issuer_name == "Sở Xây dựng tỉnh Lam Giang"


@pytest.mark.parametrize(
    ("first_lines", "kind"),
    [
        ("BÀI PHÁT BIỂU KẾT LUẬN\nHỘI NGHỊ TỔNG KẾT NĂM 2025\n", DocumentKind.SPEECH),
        ("VĂN PHÒNG UBND TỈNH LAM GIANG\nPHIẾU TRÌNH\n", DocumentKind.ROUTING_SLIP),
        (
            "ỦY BAN NHÂN DÂN\nTỈNH LAM GIANG\nSố: 77/UBND-NC\nV/v triển khai kết luận\nKính gửi:\n"
            "- Các sở, ban, ngành tỉnh.\n",
            DocumentKind.DIRECTIVE,
        ),
    ],
)
def test_kinds_by_their_opening_lines(first_lines: str, kind: DocumentKind) -> None:
    body = (
        "Thực hiện chỉ đạo của Chủ tịch UBND tỉnh, các cơ quan cần tập trung thực hiện nhiệm vụ.\n"
        "I. NHIỆM VỤ\n1. Sở Tài chính cân đối nguồn vốn cho các dự án trọng điểm của tỉnh.\n"
        "2. Sở Xây dựng kiểm tra chất lượng công trình trong quý II năm 2026.\n"
    )
    assert parse_header(first_lines + body).kind is kind
