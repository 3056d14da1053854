"""Each answer route on its own (issue #12): places and numbers read with or without diacritics,
constraints no notice meets refused by name, what a notice assigned, who signed it, who leads a
task, overdue tasks, a notice's summary, and answers written like an office writes them.

Over the team's samples (``samples/notices``, ``samples/other``) ingested through the real
pipeline (store, BM25, Chroma with the fake embedder); the CLI is run as a subprocess once."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.agencies import get_gazetteer
from assistant.answer import assignments, deadlines, notice_facts
from assistant.answer.citations import AnswerResult, verify_citation
from assistant.answer.places import find_place, places_in_titles
from assistant.answer.route import QuestionKind, Route, TaskStatus, route_question
from assistant.answer.service import AnswerService
from assistant.indexing import SearchIndex
from assistant.ingest import ingest_paths
from assistant.model import Assignment, Deadline
from assistant.settings import EmbeddingSettings, Settings
from assistant.store import Store
from assistant.text import search_view
from tests.conftest import REPO

SAMPLE_DIRS = [REPO / "samples" / "notices", REPO / "samples" / "other"]
BEN_VAN = "2024-03-15_tx-ben-van_thang-03.txt"
TAN_LAM = "2025-09-05_xa-tan-lam_thang-08.docx"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnswerService]:
    index_dir = tmp_path_factory.mktemp("routes")
    settings = Settings(index=index_dir, embedding=EmbeddingSettings(backend="fake"))
    gazetteer = get_gazetteer()
    with Store(settings.db_path) as store:
        index = SearchIndex(settings, store)
        ingest_paths(SAMPLE_DIRS, store, settings, gazetteer, indexer=index)
        index.finish()
        yield AnswerService(store, gazetteer, index.retriever(), settings)
        index.close()


def _sources(result: AnswerResult) -> set[str]:
    return {Path(c.source).name for c in result.citations}


def _check(result: AnswerResult, service: AnswerService) -> None:
    for citation in result.citations:
        assert verify_citation(citation, service.store.get(citation.notice_id))
    assert "assistant " not in result.answer and "samples/" not in result.answer  # no CLI, no paths


def _both(question: str) -> list[str]:
    """The question as written and as typed without diacritics."""
    return [question, search_view(question)]


# --- places and routing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "place"),
    [
        ("Phòng TC-KH thị xã Bến Vân được giao gì?", "Bến Vân"),
        ("phong tc-kh thi xa ben van", "Bến Vân"),
        ("Tăng trưởng của Quang Ngai là bao nhiêu?", "Quảng Ngãi"),
        ("Số liệu của TP.HCM năm 2025", "Hồ Chí Minh"),
        ("Tình hình tỉnh Phú Thọ", "Phú Thọ"),
        ("Ủy ban xã Tân Lam giao gì?", "Tân Lam"),
    ],
)
def test_a_place_is_read_with_or_without_diacritics(question: str, place: str) -> None:
    found = find_place(question, ["Bến Vân", "Tân Lam"])
    assert found is not None and found.name == place


def test_a_one_syllable_place_needs_its_place_word() -> None:
    assert find_place("Thừa Thiên Huế", []) is not None
    assert find_place("việc gì ở Huế", []) is None
    assert find_place("thành phố Huế", []) is not None


def test_places_of_the_stored_notices_come_from_issuers_and_titles() -> None:
    found = places_in_titles(["UBND TỈNH LÀO CAI\nVĂN PHÒNG", "UBND THỊ XÃ BẾN VÂN", "… LÀM VIỆC VỚI LÃNH ĐẠO TỈNH PHÚ THỌ"])
    assert found == ["Lào Cai", "Bến Vân", "Phú Thọ"]


@pytest.mark.parametrize(
    ("question", "route", "kind", "number"),
    [
        ("Thông báo 45/TB-UBND giao những việc gì?", Route.ASSIGNMENTS, QuestionKind.NOTICE_TASKS, "45/tb-ubnd"),
        ("Ai ký thông báo số 45/TB-UBND?", Route.METADATA, None, "45/tb-ubnd"),
        ("Mua sắm trang thiết bị trường Tiểu học Cửa Nam do ai chủ trì?", Route.ASSIGNMENTS, QuestionKind.LEAD, None),
        ("Ai chủ trì cuộc họp về các cụm công nghiệp?", Route.METADATA, None, None),
        ("Tóm tắt thông báo của xã Tân Lam", Route.METADATA, QuestionKind.SUMMARY, None),
        ("UBND xã Tân Lam giao những việc gì trong tháng 9/2025?", Route.ASSIGNMENTS, QuestionKind.NOTICE_TASKS, None),
        ("Tổng nợ quá hạn đến ngày 21/3/2021 là bao nhiêu?", Route.RETRIEVAL, None, None),
    ],
)
def test_question_kinds_are_routed(question: str, route: Route, kind: QuestionKind | None, number: str | None) -> None:
    for typed in _both(question):
        routed = route_question(typed, get_gazetteer(), places=["Tân Lam"])
        assert (routed.route, routed.kind, routed.number) == (route, kind, number), typed


def test_overdue_asks_for_deadlines_before_today() -> None:
    routed = route_question("nhung nhiem vu nao dang qua han?", get_gazetteer())
    assert routed.route is Route.DEADLINES and routed.status is TaskStatus.OVERDUE
    assert routed.due_before == dt.date.today() - dt.timedelta(days=1)


def test_a_date_that_dates_a_figure_is_not_the_meeting_day() -> None:
    routed = route_question("Giải ngân tính đến hết ngày 31/10/2025 đạt bao nhiêu?", get_gazetteer())
    assert routed.meeting_on is None


# --- constraints no notice meets --------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "named"),
    [
        ("Thu ngân sách năm 2025 của tỉnh Cao Bằng đạt bao nhiêu?", ["về Cao Bằng", "Bến Vân", "Lam Giang"]),
        ("Ai ký thông báo số 999/TB-UBND?", ["số 999/TB-UBND"]),
        ("Thu ngân sách tháng 8/2025 của thị xã Bến Vân đạt bao nhiêu?", ["về Bến Vân trong tháng 8/2025", "số 45/TB-UBND, ngày 13/03/2024"]),
        ("Thông báo số 45/TB-UBND của tỉnh Quảng Ngãi giao những việc gì?", ["số 45/TB-UBND về Quảng Ngãi", "BẾN VÂN"]),
    ],
)
def test_a_constraint_no_notice_meets_is_refused_by_name(service: AnswerService, question: str, named: list[str]) -> None:
    for typed in _both(question):
        result = service.ask(typed)
        assert result.refused and result.citations == [], typed
        assert result.answer.startswith("Chưa có thông báo nào"), result.answer
        for words in named:
            assert words in result.answer, (typed, words, result.answer)


# --- notice facts ----------------------------------------------------------------------------


@pytest.mark.parametrize("question", _both("Ai ký thông báo số 45/TB-UBND?"))
def test_the_signer_of_one_numbered_notice(service: AnswerService, question: str) -> None:
    result = service.ask(question)
    assert not result.refused and _sources(result) == {BEN_VAN}
    assert "Lê Thị Thu Hà" in result.answer
    _check(result, service)


def test_a_summary_names_parts_and_tasks_per_agency(service: AnswerService) -> None:
    routed = route_question("tom tat thong bao giao ban thang 8 nam 2025 cua xa tan lam", get_gazetteer(), places=["Tân Lam"])
    result = notice_facts.answer(service.context, routed, None)
    assert not result.refused and _sources(result) == {TAN_LAM}
    assert "Các phần:" in result.answer and "Phòng Kinh tế (3)" in result.answer
    _check(result, service)


# --- assignments -----------------------------------------------------------------------------


@pytest.mark.parametrize("question", _both("Thông báo 45/TB-UBND giao những việc gì?"))
def test_what_a_numbered_notice_assigned(service: AnswerService, question: str) -> None:
    result = service.ask(question)
    assert not result.refused and _sources(result) == {BEN_VAN}
    for anchor in ("tham mưu điều chuyển vốn", "xử lý dứt điểm 09 công trình", "kế hoạch tuyển sinh đầu cấp"):
        assert anchor in result.answer
    _check(result, service)


@pytest.mark.parametrize("question", ["phong tc-kh thi xa ben van", "Phòng TC-KH thị xã Bến Vân"])
def test_an_agency_of_a_place_typed_alone(service: AnswerService, question: str) -> None:
    result = service.ask(question)
    assert result.route == Route.ASSIGNMENTS.value and _sources(result) == {BEN_VAN}
    assert "lập dự toán mua sắm trang thiết bị" in result.answer


@pytest.mark.parametrize("question", _both("UBND xã Tân Lam giao những việc gì trong tháng 9/2025?"))
def test_what_a_commune_assigned_in_a_month(service: AnswerService, question: str) -> None:
    result = service.ask(question)
    assert not result.refused and _sources(result) == {TAN_LAM}
    assert "tổ chức tiêm vắc xin sởi cho trẻ" in result.answer


@pytest.mark.parametrize("question", _both("Việc tổ chức tiêm vắc xin sởi cho trẻ ở xã Tân Lam do ai chủ trì?"))
def test_who_leads_a_task(service: AnswerService, question: str) -> None:
    routed = route_question(question, get_gazetteer(), places=service.context.places())
    result = assignments.answer(service.context, routed, None)
    assert not result.refused
    assert result.answer.startswith("Phòng Văn hóa - Xã hội chủ trì việc này")
    assert "Trạm Y tế xã phối hợp" in result.answer
    _check(result, service)


# --- deadlines -------------------------------------------------------------------------------


@pytest.mark.parametrize("question", _both("Những nhiệm vụ nào của thị xã Bến Vân đang quá hạn?"))
def test_overdue_tasks_say_by_how_many_days(service: AnswerService, question: str) -> None:
    routed = route_question(question, get_gazetteer(), places=service.context.places())
    result = deadlines.answer(service.context, routed, None)
    assert not result.refused and _sources(result) == {BEN_VAN}
    assert "đã quá hạn tính đến ngày" in result.answer
    due = dt.date(2024, 4, 20)
    assert f"trước ngày 20/4/2024 (đã quá hạn {(dt.date.today() - due).days} ngày)" in result.answer
    items = [line for line in result.answer.splitlines() if line.startswith("- ")]
    assert items and all("đã quá hạn" in line for line in items)
    _check(result, service)


def test_deadline_words_state_the_overdue_days() -> None:
    item = Assignment.model_construct(deadline=Deadline.model_construct(text="trước ngày 20/4/2024", date=dt.date(2024, 4, 20), recurring=False))
    assert assignments.deadline_words(item, today=dt.date(2024, 4, 25)) == " — hạn: trước ngày 20/4/2024 (đã quá hạn 5 ngày)"
    assert assignments.deadline_words(item, today=dt.date(2024, 4, 18)) == " — hạn: trước ngày 20/4/2024 (còn 2 ngày)"


# --- format ----------------------------------------------------------------------------------


def test_answers_read_like_an_office_wrote_them(service: AnswerService) -> None:
    result = service.ask("Phòng Tài chính - Kế hoạch thị xã Bến Vân được giao những việc gì?")
    assert "UBND THỊ XÃ BẾN VÂN — Thông báo số 45/TB-UBND ngày 13/03/2024 — Kết luận" in result.answer
    assert not re.search(r'"[-+*•]\s', result.answer)  # items without their list markers
    assert "thực hiện]" in result.answer or "chủ trì]" in result.answer
    _check(result, service)


def test_the_cli_answers_the_same(tmp_path: Path) -> None:
    env = {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(tmp_path), "PYTHONPATH": str(REPO)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True, env=env, timeout=300)

    ingested = cli("ingest", *map(str, SAMPLE_DIRS), "--json")
    assert ingested.returncode == 0, ingested.stderr
    asked = cli("ask", "ai ky thong bao so 45/tb-ubnd?", "--json")
    assert asked.returncode == 0, asked.stderr
    data = json.loads(asked.stdout)
    assert "Lê Thị Thu Hà" in data["answer"] and not data["refused"]
    refused = cli("ask", "Thu ngân sách năm 2025 của tỉnh Cao Bằng đạt bao nhiêu?")
    assert refused.returncode == 0 and "Chưa có thông báo nào về Cao Bằng" in refused.stdout


# --- follow-ups --------------------------------------------------------------------------------


def _conversation(service: AnswerService, *questions: str) -> list[AnswerResult]:
    conversation = f"routes-{abs(hash(questions))}"
    return [service.ask(q, conversation_id=conversation) for q in questions]


@pytest.mark.parametrize("typed", [lambda q: q, search_view])
def test_a_subset_and_a_notice_reference_keep_the_previous_result_set(service: AnswerService, typed: object) -> None:
    assert callable(typed)
    first, subset, signer = _conversation(
        service,
        typed("Thông báo 45/TB-UBND giao những việc gì?"),
        typed("trong số đó việc nào của phòng TNMT?"),
        typed("Ai ký thông báo này?"),
    )
    assert _sources(first) == _sources(subset) == _sources(signer) == {BEN_VAN}
    assert subset.answer.startswith("Phòng Tài nguyên và Môi trường được giao 3 nhiệm vụ")
    assert "Lê Thị Thu Hà" in signer.answer


def test_a_month_without_its_year_takes_the_previous_year(service: AnswerService) -> None:
    april, may = _conversation(
        service, "Những nhiệm vụ nào của thị xã Bến Vân đến hạn trong tháng 4/2024?", "còn tháng 5 thì sao?"
    )
    assert "trước ngày 20/4/2024" in april.answer and "15/5/2024" not in april.answer
    assert "trước ngày 15/5/2024" in may.answer and "20/4/2024" not in may.answer


def test_that_task_is_the_previous_one(service: AnswerService) -> None:
    lead_answer, deadline = _conversation(
        service, "Việc tổ chức tiêm vắc xin sởi cho trẻ ở xã Tân Lam do ai chủ trì?", "hạn chót của việc đó là khi nào?"
    )
    assert not deadline.refused and "hạn: hoàn thành trong tháng 9/2025" in deadline.answer
    assert [c.quote for c in deadline.citations] == [c.quote for c in lead_answer.citations]


def test_a_task_marked_done_is_not_overdue_and_is_listed_as_done(tmp_path: Path) -> None:
    from assistant.tracking import TaskStatus as Tracked
    from assistant.tracking import TaskTracker

    settings = Settings(index=tmp_path, embedding=EmbeddingSettings(backend="fake"))
    gazetteer = get_gazetteer()
    with Store(settings.db_path) as store:
        index = SearchIndex(settings, store)
        ingest_paths([SAMPLE_DIRS[0] / BEN_VAN], store, settings, gazetteer, indexer=index)
        index.finish()
        service = AnswerService(store, gazetteer, index.retriever(), settings)
        nothing = service.ask("nhung nhiem vu nao da hoan thanh?")
        assert nothing.refused and "Chưa có nhiệm vụ nào" in nothing.answer
        before = service.ask("Những nhiệm vụ nào đang quá hạn?")
        assert "lập dự toán mua sắm trang thiết bị" in before.answer
        tracker = TaskTracker(store)
        ref = next(r for r in tracker.task_refs() if "lập dự toán mua sắm trang thiết bị" in r.task)
        tracker.set_status(ref.row_key, Tracked.DONE, by="kiểm thử", done_date=dt.date(2024, 4, 28))
        tracker.close()
        after = service.ask("Những nhiệm vụ nào đang quá hạn?")
        assert "lập dự toán mua sắm trang thiết bị" not in after.answer
        assert "không kể 1 lượt đã hoàn thành" in after.answer
        done = service.ask("Những nhiệm vụ nào đã hoàn thành?")
        assert not done.refused and "lập dự toán mua sắm trang thiết bị" in done.answer
        assert done.answer.startswith("Có 1 lượt nhiệm vụ đã hoàn thành")
        index.close()
