"""'Đoạn có thể liên quan': an assignment answer (chat, /api/assignments) adds the passages that
name the agency but that none of its records quotes, so a task the extraction missed is still
seen. Over the team's own fictional notice (huyện Khe Mây): its records are written by hand, as
an extractor that read the two bullets and missed the passive sentence of item 3 would."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from stub_llm import StubLLM, stub_llm  # noqa: F401  (fixture)
from test_answer import bm25_retriever

from assistant.agencies import get_gazetteer
from assistant.agency_lookup import find_agency
from assistant.answer import AnswerResult, AnswerService
from assistant.answer.citations import verify_citation
from assistant.answer.llm import make_chat_model
from assistant.answer.related import _covered_share, related_query
from assistant.api import create_app
from assistant.model import (
    AgencyRef,
    Assignment,
    DateValue,
    Deadline,
    Level,
    Notice,
    Person,
    Role,
    Signature,
    content_id,
)
from assistant.prompts import REFUSAL, RELATED_HEADING, RELATED_NOTE
from assistant.retrieve.filters import Filters
from assistant.settings import LLMSettings, RetrievalSettings, Settings
from assistant.store import Store
from tests.fictional_notice import span_of, spanned

VHTT = "Phòng Văn hóa và Thông tin"
FESTIVAL = "- Xây dựng kế hoạch tổ chức Ngày hội văn hóa các dân tộc, trình UBND huyện trước ngày 30/4/2024."
BILLBOARDS = "- Kiểm tra hoạt động quảng cáo ngoài trời trên quốc lộ 279, báo cáo kết quả hằng tháng."
STAFF = "- Tham mưu kiện toàn Ban Chỉ đạo chuyển đổi số huyện, hoàn thành trong tháng 5/2024."
# The task the extractor missed: passive, the agency after 'do', under a heading naming no one.
MISSED = (
    "Hồ sơ xếp hạng di tích hang Thẩm Púa còn thiếu bản vẽ hiện trạng; việc bổ sung hồ sơ do Phòng Văn hóa"
    " và Thông tin đảm nhận, gửi Sở Văn hóa, Thể thao và Du lịch trước ngày 15/5/2024."
)
# Written with the abbreviation: the same agency, missed the same way; and the same letters after
# another body's head, which is not it.
ABBREVIATED = "Phòng VH&TT rà soát biển hiệu quảng cáo tại thị trấn, hoàn thành trong quý II/2024."
NOT_IT = "Trung tâm VH-TT huyện duy trì 12 đội văn nghệ thôn bản."
# A body no gazetteer knows and no record names, said in the evaluation part.
CAVE = "Ban Quản lý hang Thẩm Púa đón 3.000 lượt khách trong quý I, cần phối hợp giữ gìn vệ sinh khu hang."
OPENING = (
    "Ngày 10/4/2024, đồng chí Lò Văn Toàn, Chủ tịch UBND huyện chủ trì cuộc họp giao ban; dự họp có lãnh"
    " đạo Phòng Văn hóa và Thông tin, Phòng Nội vụ."
)

KHE_MAY = "\n".join(
    [
        "UBND HUYỆN KHE MÂY",
        "Số: 17/TB-UBND",
        "Khe Mây, ngày 12 tháng 4 năm 2024",
        "THÔNG BÁO",
        "Kết luận của đồng chí Lò Văn Toàn, Chủ tịch UBND huyện tại cuộc họp giao ban tháng 4 năm 2024",
        OPENING,
        "I. ĐÁNH GIÁ CHUNG",
        "Quý I năm 2024, huyện tổ chức thành công lễ hội hoa ban; lượng khách du lịch tăng 12% so với cùng kỳ.",
        CAVE,
        NOT_IT,
        "II. NHIỆM VỤ TRỌNG TÂM",
        f"1. {VHTT}",
        FESTIVAL,
        BILLBOARDS,
        "2. Phòng Nội vụ",
        STAFF,
        "3. Về bảo tồn di tích",
        MISSED,
        "4. Về quản lý quảng cáo",
        ABBREVIATED,
        "Văn phòng HĐND và UBND huyện thông báo để các cơ quan biết, thực hiện./.",
        "Nơi nhận:",
        f"- {VHTT};",
        "- Phòng Nội vụ;",
        "- Lưu: VT.",
        "TL. CHỦ TỊCH",
        "CHÁNH VĂN PHÒNG",
        "Hà Thị Lan",
        "",
    ]
)


def khe_may_notice() -> Notice:
    text = KHE_MAY

    def assign(agency: str, line: str, heading: str, deadline: tuple[str, date | None, bool]) -> Assignment:
        s, e = span_of(text, line)
        h_s, h_e = span_of(text, heading)
        d_s, d_e = span_of(text, deadline[0])
        return Assignment(
            agency=AgencyRef(text=heading[3:], canonical=agency, level=Level.DISTRICT, start=h_s + 3, end=h_e),
            role=Role.ASSIGNED,
            task=line[2:],
            deadline=Deadline(text=deadline[0], date=deadline[1], recurring=deadline[2], start=d_s, end=d_e),
            section_path=["II. NHIỆM VỤ TRỌNG TÂM", heading],
            start=s,
            end=e,
        )

    chair = span_of(text, "Lò Văn Toàn, Chủ tịch UBND huyện chủ trì")
    s_sig, _ = span_of(text, "TL. CHỦ TỊCH")
    _, e_sig = span_of(text, "Hà Thị Lan")
    return Notice(
        id=content_id(text),
        source="khe-may-2024-04.txt",
        format="txt",
        text=text,
        issuer=spanned(text, "UBND HUYỆN KHE MÂY"),
        level=Level.DISTRICT,
        number=spanned(text, "Số: 17/TB-UBND"),
        issue_date=DateValue(**spanned(text, "ngày 12 tháng 4 năm 2024").model_dump(), value=date(2024, 4, 12)),
        title=spanned(text, "Kết luận của đồng chí Lò Văn Toàn, Chủ tịch UBND huyện tại cuộc họp giao ban tháng 4 năm 2024"),
        meeting_date=DateValue(**spanned(text, "Ngày 10/4/2024").model_dump(), value=date(2024, 4, 10)),
        chair=Person(name="Lò Văn Toàn", position="Chủ tịch UBND huyện", start=chair[0], end=chair[1] - len(" chủ trì")),
        opening=spanned(text, OPENING),
        closing=spanned(text, "Văn phòng HĐND và UBND huyện thông báo để các cơ quan biết, thực hiện./."),
        recipients=[spanned(text, "Nơi nhận:"), spanned(text, "- Lưu: VT.")],
        signature=Signature(authority="TL. CHỦ TỊCH", position="CHÁNH VĂN PHÒNG", signer="Hà Thị Lan", start=s_sig, end=e_sig),
        assignments=[
            assign(VHTT, FESTIVAL, f"1. {VHTT}", ("trước ngày 30/4/2024", date(2024, 4, 30), False)),
            assign(VHTT, BILLBOARDS, f"1. {VHTT}", ("hằng tháng", None, True)),
            assign("Phòng Nội vụ", STAFF, "2. Phòng Nội vụ", ("trong tháng 5/2024", date(2024, 5, 31), False)),
        ],
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[AnswerService]:
    notice = khe_may_notice()
    with Store(tmp_path / "notices.sqlite3") as store:
        store.put(notice)
        yield AnswerService(store, get_gazetteer(), bm25_retriever([notice]), Settings(index=tmp_path))


def _related(result: AnswerResult) -> list[str]:
    numbers = set(result.related_citations)
    return [c.quote for c in result.citations if c.n in numbers]


def _verified(result: AnswerResult, store: Store) -> None:
    for citation in result.citations:
        assert verify_citation(citation, store.get(citation.notice_id))
        assert f"[{citation.n}]" in result.answer


def test_fixture_spans_are_exact() -> None:
    notice = khe_may_notice()
    for item in notice.assignments:
        assert notice.text[item.start : item.end] in (FESTIVAL, BILLBOARDS, STAFF)
        assert notice.text[item.agency.start : item.agency.end] in (VHTT, "Phòng Nội vụ")


def test_the_missed_task_is_shown_apart_from_the_records(service: AnswerService) -> None:
    result = service.ask("Phòng Văn hóa và Thông tin được giao những việc gì?")
    assert result.route == "assignments" and not result.refused
    quotes = [c.quote for c in result.citations]
    # the records first, then under the heading the passages no record quotes, cited and verified
    assert quotes == [FESTIVAL, BILLBOARDS, MISSED, ABBREVIATED]
    assert _related(result) == [MISSED, ABBREVIATED] and result.related_citations == [3, 4]
    heading = result.answer.index(f"{RELATED_HEADING} ({RELATED_NOTE}):")
    assert result.answer.index("[1]") < result.answer.index("[2]") < heading < result.answer.index("[3]")
    assert result.answer.count("[3]") == 1 and "Thẩm Púa" in result.answer[heading:]
    assert "12 đội văn nghệ" not in result.answer  # 'VH-TT' after another body's head is not it
    _verified(result, service.store)
    assert result.to_json()["related_citations"] == [3, 4]


def test_covered_heading_opening_and_recipients_are_not_repeated(service: AnswerService) -> None:
    result = service.ask("phong van hoa va thong tin duoc giao viec gi")
    related = _related(result)
    assert related == [MISSED, ABBREVIATED]
    assert not any(q.startswith(("1. ", "- Phòng", "Ngày 10/4/2024")) for q in related)  # heading, Nơi nhận, opening
    assert result.answer.count("Ngày hội văn hóa") == 1  # a record line is never repeated below


def test_an_agency_without_records_still_sees_the_passages_naming_it(service: AnswerService) -> None:
    result = service.ask("Sở Văn hóa, Thể thao và Du lịch được giao những việc gì?")
    assert result.refused  # no record names it: said first, the passage only below
    assert result.answer.startswith("Không có nhiệm vụ nào giao cho Sở Văn hóa, Thể thao và Du lịch")
    assert RELATED_HEADING in result.answer
    assert _related(result) == [MISSED]
    _verified(result, service.store)


def test_an_agency_matching_nothing_keeps_the_not_found_message(service: AnswerService) -> None:
    result = service.ask("Ban Quản lý hang Thẩm Púa được giao những việc gì?")
    assert result.refused
    assert result.answer.startswith("Không tìm thấy cơ quan nào khớp với “Ban Quản lý hang Thẩm Púa”")
    assert result.answer.index(RELATED_HEADING) > result.answer.index("Không tìm thấy")
    assert _related(result) == [CAVE]
    _verified(result, service.store)
    # named nowhere: the answer is exactly what it was without the block
    nowhere = service.ask("Phòng Y tế được giao những việc gì?")
    assert nowhere.refused and nowhere.answer == REFUSAL and nowhere.citations == []


def test_the_question_period_and_filters_apply_to_the_passages(service: AnswerService) -> None:
    earlier = service.ask("Phòng Văn hóa và Thông tin được giao những việc gì trong năm 2023?")
    assert earlier.refused and earlier.citations == [] and earlier.answer.startswith("Chưa có thông báo nào trong năm 2023")
    other_issuer = service.ask(
        "Phòng Văn hóa và Thông tin được giao những việc gì?", filters=Filters(date_from=date(2025, 1, 1))
    )
    assert other_issuer.related_citations == [] and RELATED_HEADING not in other_issuer.answer


def test_the_setting_turns_the_block_off(tmp_path: Path) -> None:
    notice = khe_may_notice()
    with Store(tmp_path / "notices.sqlite3") as store:
        store.put(notice)
        settings = Settings(index=tmp_path, retrieval=RetrievalSettings(related_passages=0))
        result = AnswerService(store, get_gazetteer(), bm25_retriever([notice]), settings).ask(
            "Phòng Văn hóa và Thông tin được giao những việc gì?"
        )
    assert [c.quote for c in result.citations] == [FESTIVAL, BILLBOARDS]
    assert RELATED_HEADING not in result.answer


def test_with_an_llm_configured_the_assignment_answer_is_the_same_and_asks_no_model(
    tmp_path: Path, stub_llm: StubLLM,  # noqa: F811
) -> None:
    notice = khe_may_notice()
    with Store(tmp_path / "notices.sqlite3") as store:
        store.put(notice)
        chat = make_chat_model(LLMSettings(base_url=stub_llm.base_url, model="stub-model", timeout_s=10))
        service = AnswerService(store, get_gazetteer(), bm25_retriever([notice]), Settings(index=tmp_path), chat)
        result = service.ask("Phòng Văn hóa và Thông tin được giao những việc gì?")
        final = list(service.ask_stream("Phòng Văn hóa và Thông tin được giao những việc gì?"))[-1].result
        _verified(result, store)
    assert _related(result) == [MISSED, ABBREVIATED] and final is not None and _related(final) == _related(result)
    assert stub_llm.requests == []


def test_query_is_the_agency_as_typed_and_its_canonical_name(tmp_path: Path) -> None:
    with Store(tmp_path / "n.sqlite3") as store:
        store.put(khe_may_notice())
        typed = find_agency(store, get_gazetteer(), "phòng VH&TT")
        assert related_query(typed) == f"phòng VH&TT {VHTT}"
        assert related_query(find_agency(store, get_gazetteer(), VHTT)) == VHTT  # said once


def test_covered_share_counts_overlapping_spans_once() -> None:
    assert _covered_share(10, 20, [(0, 15), (12, 18)]) == pytest.approx(0.8)
    assert _covered_share(10, 20, [(30, 40)]) == 0.0
    assert _covered_share(10, 20, [(0, 100)]) == 1.0


# --- /api/assignments ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    index = tmp_path_factory.mktemp("related-api")
    with Store(index / "notices.sqlite3") as store:
        store.put(khe_may_notice())
    # the search caches are built from the store when first read
    with TestClient(create_app(Settings(index=index, embedding={"backend": "fake"}))) as client:
        yield client


def test_api_assignments_lists_related_passages_once(api: TestClient) -> None:
    data = api.get("/api/assignments", params={"agency": "phòng văn hóa và thông tin"}).json()
    assert [i["quote"] for i in data["items"]] == [FESTIVAL, BILLBOARDS]
    passage, abbreviated = data["related"]
    assert abbreviated["quote"] == ABBREVIATED
    assert passage["quote"] == MISSED and passage["source"] == "khe-may-2024-04.txt"
    assert KHE_MAY[passage["start"] : passage["end"]] == MISSED
    assert passage["notice_id"] == data["items"][0]["notice_id"]
    assert {"notice_title", "meeting_date", "section"} <= set(passage) and passage["meeting_date"] == "2024-04-10"
    # later pages, the deadline filters and another period carry none
    assert api.get("/api/assignments", params={"agency": VHTT, "limit": 1, "offset": 1}).json()["related"] == []
    assert api.get("/api/assignments", params={"agency": VHTT, "only": "deadline"}).json()["related"] == []
    later = api.get("/api/assignments", params={"agency": VHTT, "since": "2025-01-01"}).json()
    assert later["items"] == [] and later["related"] == []
    first_page = api.get("/api/assignments", params={"agency": VHTT, "limit": 1}).json()
    assert [p["quote"] for p in first_page["related"]] == [MISSED, ABBREVIATED]


def test_api_ask_marks_the_related_citations(api: TestClient) -> None:
    data = api.post("/api/ask", json={"question": "Phòng Văn hóa và Thông tin được giao những việc gì?"}).json()
    assert data["related_citations"] == [3, 4]
    assert data["citations"][2]["quote"] == MISSED
