"""Property: whatever the mix of task-line forms, no task line of the notes is lost."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.draft import draft_from_notes
from assistant.draft.validate import numbers
from assistant.settings import Settings

HEADER = (
    "Ghi chép họp UBND thị xã Bến Vân\n"
    "Thời gian: 8h00 ngày 10/5/2024\n"
    "Chủ trì: đ/c Trần Quốc Khải - Chủ tịch UBND thị xã\n"
    "Kết luận, giao việc:\n"
)
AGENCIES = ["TNMT", "TC-KH", "QLĐT", "GD&ĐT", "Phòng Nội vụ", "BCHQS thị xã", "VP HĐND-UBND",
            "LĐTB&XH", "CA thị xã", "BQL chợ Bến Vân"]
FULL = ["Phòng Tài nguyên và Môi trường", "Phòng Nội vụ", "Phòng Quản lý đô thị"]
WORDS = ["rà soát", "hồ sơ", "đất đai", "kiểm tra", "công trình", "tổng hợp", "kinh phí",
         "tuyên truyền", "vệ sinh", "môi trường", "đường giao thông", "nông thôn", "hộ dân"]
SETTINGS = Settings()

deadline = st.one_of(
    st.none(),
    st.builds(lambda d, m: f"xong trước {d}/{m}/2024", st.integers(1, 28), st.integers(6, 12)),
    st.builds(lambda m: f"trong tháng {m}/2024", st.integers(6, 12)),
    st.just("báo cáo hàng tuần"),
)
task_text = st.builds(
    lambda words, number, unit: " ".join(words) + (f" {number} {unit}" if number is not None else ""),
    st.lists(st.sampled_from(WORDS), min_size=2, max_size=6),
    st.one_of(st.none(), st.integers(2, 9999)),
    st.sampled_from(["hộ", "tỷ đồng", "hồ sơ", "ha"]),
)


@st.composite
def task_line(draw: st.DrawFn) -> str:
    text = draw(task_text)
    due = draw(deadline)
    if due:
        text += ", " + due
    form = draw(st.integers(0, 4))
    a, b = draw(st.sampled_from(AGENCIES)), draw(st.sampled_from(AGENCIES))
    if form == 0:
        return f"{a}: {text}"
    if form == 1:
        return f"- {a}: {text}"
    if form == 2:
        return f"* {a} + {b}: {text}"
    if form == 3:
        return f"- {a} chủ trì, {b} phối hợp: {text}"
    return f"Giao {draw(st.sampled_from(FULL))} {text}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(task_line(), min_size=1, max_size=8), st.lists(st.booleans(), min_size=8, max_size=8))
def test_no_task_line_is_lost(lines: list[str], blanks: list[bool]) -> None:
    body = ""
    numbers_of_lines: list[int] = []
    current = HEADER.count("\n")
    for line, blank in zip(lines, blanks, strict=False):
        if blank:
            body += "\n"
            current += 1
        body += line + "\n"
        current += 1
        numbers_of_lines.append(current)
    result = draft_from_notes(HEADER + body, SETTINGS)
    traced = {n for entry in result.trace for n in entry.lines}
    assert set(numbers_of_lines) <= traced
    assert len(result.trace) == len(lines)
    for entry in result.trace:
        assert entry.text in result.markdown
    assert "missing_task" not in {w.code for w in result.warnings}
    assert "unplaced_line" not in {w.code for w in result.warnings}
    draft_numbers = numbers(result.markdown)
    for line in lines:
        assert set(numbers(line)) <= set(draft_numbers), line
