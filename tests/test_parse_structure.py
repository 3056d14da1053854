from __future__ import annotations

import pytest

from assistant.model import Section
from assistant.parse.structure import classify, parse_sections, split_lines

NESTED = """\
I. ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN NHIỆM VỤ PHÁT TRIỂN
KINH TẾ - XÃ HỘI THÁNG 5 NĂM 2025
1. Kết quả đạt được
Thu ngân sách trên địa bàn đạt 41% dự toán.
2. Tồn tại, hạn chế
- Giải ngân vốn đầu tư công còn chậm.
V. NHIỆM VỤ TRỌNG TÂM THÁNG 6 NĂM 2025
Các phòng, ban bám sát kế hoạch năm.
1. Công tác quy hoạch
1.1. Giao phòng Kinh tế - Hạ tầng rà soát quy hoạch chung đô thị Bến Lau.
- Hoàn thành trước ngày 30/6/2025.
1.2. Giao các đồng chí Phó Chủ tịch theo dõi, đôn đốc theo lĩnh vực.
2. Công tác đất đai
- Phòng Tài nguyên và Môi trường:
+ Cấp giấy chứng nhận cho 120 hồ sơ tồn đọng.
+ Xử lý dứt điểm vi phạm đất công tại xã Hòa Lạc.
- Các xã, thị trấn phối hợp thực hiện.
10.Công tác nội vụ
a) Rà soát biên chế các đơn vị sự nghiệp.
b) Tuyển dụng viên chức ngành giáo dục.
"""


def _headings(sections: list[Section]) -> list[str]:
    return [(s.heading or "").split("\n")[0][:12] for s in sections]


def _find(sections: list[Section], marker: str) -> Section:
    for section in sections:
        for node in section.walk():
            if node.marker == marker:
                return node
    raise AssertionError(f"no section {marker}")


def test_roman_decimal_bullets_nest_by_kind() -> None:
    tree = parse_sections(NESTED)
    assert [s.marker for s in tree] == ["I.", "V."]  # a numbering gap (II → V) is kept as is
    first, second = tree
    assert [c.marker for c in first.children] == ["1.", "2."]
    assert [c.marker for c in second.children] == ["1.", "2.", "10."]
    planning = second.children[0]
    assert [c.marker for c in planning.children] == ["1.1.", "1.2."]
    assert [c.marker for c in planning.children[0].children] == ["-"]
    land = second.children[1]
    assert [c.marker for c in land.children] == ["-", "-"]
    assert [c.marker for c in land.children[0].children] == ["+", "+"]
    home = second.children[2]
    assert home.number == "10" and home.heading == "Công tác nội vụ"
    assert [(c.marker, c.number) for c in home.children] == [("a)", "a"), ("b)", "b")]


def test_caps_heading_wrapping_onto_a_second_line_is_one_heading() -> None:
    first = parse_sections(NESTED)[0]
    assert first.heading is not None
    assert first.heading.startswith("ĐÁNH GIÁ") and first.heading.endswith("THÁNG 5 NĂM 2025")
    assert first.body == ""
    assert first.children[0].heading == "Kết quả đạt được"


def test_full_sentence_item_keeps_the_sentence_as_heading() -> None:
    item = _find(parse_sections(NESTED), "1.2.")
    assert item.heading == "Giao các đồng chí Phó Chủ tịch theo dõi, đôn đốc theo lĩnh vực."
    assert item.number == "1.2"


def test_body_is_text_before_first_child() -> None:
    tree = parse_sections(NESTED)
    assert tree[1].body == "Các phòng, ban bám sát kế hoạch năm."
    assert tree[0].children[0].body == "Thu ngân sách trên địa bàn đạt 41% dự toán."


def test_spans_point_at_the_text() -> None:
    tree = parse_sections(NESTED)
    for top in tree:
        for node in top.walk():
            assert node.heading_start is not None and node.heading_end is not None
            assert NESTED[node.heading_start : node.heading_end] == node.heading
            assert NESTED[node.start : node.end].startswith(node.marker)
            for child in node.children:
                assert node.start <= child.start <= child.end <= node.end
    assert NESTED[tree[-1].start : tree[-1].end].endswith("ngành giáo dục.")


STARRED = """\
* Đối với công tác phòng, chống thiên tai
Các xã chủ động phương án “4 tại chỗ”.
* Đối với nhiệm vụ phát triển kinh tế - xã hội
1. Lĩnh vực nông nghiệp
- Chăm sóc lúa vụ Mùa.
2. Lĩnh vực xây dựng
- Kiểm tra trật tự xây dựng.
• Báo cáo kết quả hằng tuần.
"""


def test_star_sections_are_top_level_without_roman_numerals() -> None:
    tree = parse_sections(STARRED)
    assert [s.marker for s in tree] == ["*", "*"]
    assert tree[0].body.startswith("Các xã chủ động")
    assert [c.marker for c in tree[1].children] == ["1.", "2."]
    building = tree[1].children[1]
    assert [c.marker for c in building.children] == ["-"]
    assert [c.marker for c in building.children[0].children] == ["•"]


def test_star_under_a_roman_numeral_nests() -> None:
    text = "I. NHIỆM VỤ\n* Về công tác thu ngân sách\n- Phòng Tài chính - Kế hoạch đôn đốc thu.\nII. KIẾN NGHỊ\n"
    tree = parse_sections(text)
    assert [s.marker for s in tree] == ["I.", "II."]
    assert tree[0].children[0].marker == "*"
    assert tree[0].children[0].children[0].marker == "-"


def test_decimal_never_nests_under_the_bullet_before_it() -> None:
    text = "2.1. Phòng Kinh tế\n- Chỉ đạo sản xuất vụ Xuân.\n2.2 Phòng Quản lý đô thị\n- Ra quân chỉnh trang đô thị.\n"
    tree = parse_sections(text)
    assert [(s.marker, s.number) for s in tree] == [("2.1.", "2.1"), ("2.2", "2.2")]
    assert [len(s.children) for s in tree] == [1, 1]


def test_only_the_given_range_is_sectioned() -> None:
    text = "Mở đầu\n- Không tính.\nI. PHẦN CHÍNH\n- Tính.\nNơi nhận:\n- Lưu: VT.\n"
    start = text.index("I.")
    end = text.index("Nơi nhận")
    tree = parse_sections(text, start, end)
    assert [s.marker for s in tree] == ["I."]
    assert len(tree[0].children) == 1
    assert tree[0].end <= end


def test_markdown_headings_outrank_bullets() -> None:
    text = "- Ý thứ nhất.\n## Yêu cầu đối với Sở Tài chính\n- Rà soát dự toán.\n- Báo cáo trước ngày 05/12.\n"
    tree = parse_sections(text)
    assert [s.marker for s in tree] == ["-", "##"]
    assert tree[1].heading == "Yêu cầu đối với Sở Tài chính"
    assert len(tree[1].children) == 2


def test_continuation_paragraph_belongs_to_the_item_above() -> None:
    text = "1. Lĩnh vực đất đai\n+ Phối hợp đo đạc.\nTham mưu giải quyết vướng mắc.\n2. Lĩnh vực khác\n"
    tree = parse_sections(text)
    item = tree[0].children[0]
    assert text[item.start : item.end].endswith("giải quyết vướng mắc.")
    assert tree[1].start > item.end


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("I. ĐÁNH GIÁ", "roman"),
        ("XII. KHÁC", "roman"),
        ("1. Công tác", "dec1"),
        ("1.1. Yêu cầu", "dec2"),
        ("10.Công tác Nội vụ", "dec1"),
        ("2.3. Phòng TNMT", "dec2"),
        ("a) Rà soát", "alpha"),
        ("- Ý", "-"),
        ("– Ý", "-"),
        ("+ Ý", "+"),
        ("* Đối với", "*"),
        ("• Ý", "•"),
        ("## Tiêu đề", "md2"),
    ],
)
def test_markers_are_recognized(line: str, kind: str) -> None:
    marker = classify(line)
    assert marker is not None and marker.kind == kind


@pytest.mark.parametrize(
    "line",
    [
        "2026. Đồng chí Phạm Văn A",
        "1.500 tỷ đồng",
        "-5% so với cùng kỳ",
        "-------",
        "IIII. Sai",
        "Thu ngân sách",
    ],
)
def test_non_markers(line: str) -> None:
    assert classify(line) is None


def test_split_lines_trims_and_keeps_offsets() -> None:
    text = "  một  \n\nhai\n"
    lines = split_lines(text)
    assert [(ln.text, text[ln.start : ln.end]) for ln in lines] == [("một", "một"), ("hai", "hai")]
