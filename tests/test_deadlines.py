from __future__ import annotations

from datetime import date

import pytest

from assistant.deadlines import find_deadlines, parse_user_date
from assistant.errors import AssistantError

REF = date(2024, 3, 1)


@pytest.mark.parametrize(
    ("text", "phrase", "due", "period_start"),
    [
        ("báo cáo trước ngày 20/01/2024.", "trước ngày 20/01/2024", date(2024, 1, 20), None),
        ("đảm bảo hoàn thành trong tháng 7/2024;", "hoàn thành trong tháng 7/2024", date(2024, 7, 31), date(2024, 7, 1)),
        ("báo cáo trong tháng 12 năm 2025.", "trong tháng 12 năm 2025", date(2025, 12, 31), date(2025, 12, 1)),
        ("báo cáo trong Quý I năm 2026.", "trong Quý I năm 2026", date(2026, 3, 31), date(2026, 1, 1)),
        ("trước ngày 30 tháng 11 năm 2025.", "trước ngày 30 tháng 11 năm 2025", date(2025, 11, 30), None),
        ("nộp trước 30/3 để tổng hợp", "trước 30/3", date(2024, 3, 30), None),
        ("chậm nhất ngày 15/4/2024", "chậm nhất ngày 15/4/2024", date(2024, 4, 15), None),
        ("xong trước 10/5/2024", "xong trước 10/5/2024", date(2024, 5, 10), None),
        ("sớm bàn giao trong năm 2024 dự án", "trong năm 2024", date(2024, 12, 31), date(2024, 1, 1)),
    ],
)
def test_dated_deadlines(text: str, phrase: str, due: date, period_start: date | None) -> None:
    found = find_deadlines(text, reference=REF)
    assert len(found) == 1
    d = found[0]
    assert (d.text, d.date, d.period_start, d.recurring) == (phrase, due, period_start, False)
    assert text[d.start : d.end] == phrase


def test_year_rolls_forward_past_the_meeting() -> None:
    (d,) = find_deadlines("trước ngày 20/01", reference=date(2023, 12, 27))
    assert d.date == date(2024, 1, 20)
    (m,) = find_deadlines("trong tháng 1", reference=date(2023, 12, 27))
    assert (m.period_start, m.date) == (date(2024, 1, 1), date(2024, 1, 31))


def test_no_year_without_reference_gives_no_date() -> None:
    (d,) = find_deadlines("trước 30/3")
    assert d.date is None and not d.recurring


@pytest.mark.parametrize("phrase", ["hàng tuần", "Hằng tháng", "định kỳ hằng quý", "thường xuyên"])
def test_recurring(phrase: str) -> None:
    (d,) = find_deadlines(f"Tổ chức kiểm tra {phrase} báo cáo kết quả")
    assert d.recurring and d.date is None and d.text == phrase


def test_document_references_and_plain_years_are_not_deadlines() -> None:
    text = (
        "thực hiện Nghị quyết số 17-NQ/TU ngày 17/7/2012 của Ban chấp hành; hoàn thành chỉ "
        "tiêu thu tiền sử dụng đất năm 2024; tiết kiệm chi thường xuyên"
    )
    assert find_deadlines(text, reference=REF) == []


def test_window_offsets_point_into_whole_text() -> None:
    text = "Mục 1 trước ngày 01/02/2024. Mục 2 trước ngày 03/04/2024."
    found = find_deadlines(text, start=29, reference=REF)
    assert [d.date for d in found] == [date(2024, 4, 3)]
    assert text[found[0].start : found[0].end] == "trước ngày 03/04/2024"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2024-01-31", date(2024, 1, 31)), ("31/1/2024", date(2024, 1, 31)), ("31/01", date(2030, 1, 31))],
)
def test_parse_user_date(raw: str, expected: date) -> None:
    assert parse_user_date(raw, today=date(2030, 6, 1)) == expected


@pytest.mark.parametrize("raw", ["31/02/2024", "mai", "2024-13-01", ""])
def test_parse_user_date_rejects(raw: str) -> None:
    with pytest.raises(AssistantError, match="Không hiểu ngày"):
        parse_user_date(raw)
