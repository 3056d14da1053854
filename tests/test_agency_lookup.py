"""Looking up an agency as clerks type it: short forms derived by rule, a place after the name,
bodies known only from notices, no-match suggestions and the choice between levels.

The store holds the team's four sample notices (parsed) and two notices written here by hand
for a fictional tỉnh Hà Nguyên and huyện Vân Sơn (assignments recorded directly, so that these
tests depend on the look-up and not on the parser)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.agencies import get_gazetteer
from assistant.agency_forms import readings, written_forms
from assistant.agency_lookup import AgencyLookup, find_agency
from assistant.answer.service import AnswerService
from assistant.api import create_app
from assistant.load import load_path
from assistant.model import (
    AgencyRef,
    Assignment,
    DateValue,
    Level,
    Notice,
    Role,
    Spanned,
    content_id,
)
from assistant.parse import parse_document
from assistant.prompts import REFUSAL
from assistant.records_json import lookup_assignments
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import SAMPLES

G = get_gazetteer()

# --- the gazetteer: every short form derived by rule -------------------------------------------


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("Sở CT", "Sở Công Thương"),
        ("so ct", "Sở Công Thương"),
        ("SCT", "Sở Công Thương"),
        ("Sở TC", "Sở Tài chính"),
        ("STC", "Sở Tài chính"),
        ("Sở NV", "Sở Nội vụ"),
        ("SNV", "Sở Nội vụ"),
        ("BNV", "Bộ Nội vụ"),
        ("Bộ NV", "Bộ Nội vụ"),
        ("Bộ XD", "Bộ Xây dựng"),
        ("bo xd", "Bộ Xây dựng"),
        ("Sở NN&MT", "Sở Nông nghiệp và Môi trường"),
        ("Sở NNMT", "Sở Nông nghiệp và Môi trường"),
        ("Sở NN-MT", "Sở Nông nghiệp và Môi trường"),
        ("so nn va mt", "Sở Nông nghiệp và Môi trường"),
        ("Sở GD&ĐT", "Sở Giáo dục và Đào tạo"),
        ("Sở GDĐT", "Sở Giáo dục và Đào tạo"),
        ("so gddt", "Sở Giáo dục và Đào tạo"),
        ("P.KT", "Phòng Kinh tế"),
        ("p kt", "Phòng Kinh tế"),
        ("TT PVHCC", "Trung tâm Phục vụ hành chính công"),
        ("tt pvhcc", "Trung tâm Phục vụ hành chính công"),
        ("Sở YT", "Sở Y tế"),
        ("Sở VHTTDL", "Sở Văn hóa, Thể thao và Du lịch"),
        ("Sở LĐTB&XH", "Sở Lao động - Thương binh và Xã hội"),
        ("VP HĐND-UBND", "Văn phòng HĐND và UBND"),
    ],
)
def test_short_forms_derived_by_rule(typed: str, name: str) -> None:
    assert name in {a.name for a in G.candidates(typed)}
    found = G.resolve(typed)
    assert found is not None and found.name == name


def test_every_canonical_name_has_its_derived_forms() -> None:
    """No hand list: each form the rule makes from a canonical name finds that agency again."""
    checked = 0
    for agency in G.agencies:
        if agency.is_group:
            continue
        for form in written_forms(agency.name):
            assert agency.id in {a.id for a in G.candidates(form)}, (agency.name, form)
            checked += 1
    assert checked > 100
    assert written_forms("Sở Công Thương") == ["Sở CT", "SCT"]
    assert "Trung tâm PVHCC" in written_forms("Trung tâm Phục vụ hành chính công")


def test_no_short_form_for_single_syllable_names_or_ordinary_words() -> None:
    assert written_forms("Cục Thuế tỉnh") == []
    assert G.candidates("đã hoàn thành") == []
    assert G.candidates("CT") == []  # the own name alone is not a form: 'Sở CT' is


def test_existing_spellings_still_resolve() -> None:
    assert G.resolve("phòng TN&MT").id == "phong-tnmt"  # type: ignore[union-attr]
    assert G.resolve("TNMT", Level.PROVINCE).id == "so-tnmt"  # type: ignore[union-attr]
    assert G.resolve("Ban Quản lý dự án đầu tư xây dựng số 1") is None


@pytest.mark.parametrize(
    ("typed", "agency_text", "qualifier", "place", "bare"),
    [
        ("phòng TC-KH thị xã Bến Vân", "phòng TC-KH", "thị xã", "Bến Vân", False),
        ("Sở Tài chính tỉnh Hà Nguyên", "Sở Tài chính", "tỉnh", "Hà Nguyên", False),
        ("so tai chinh ha nguyen", "so tai chinh", None, "ha nguyen", True),
        ("Sở TC Hà Nguyên", "Sở TC", None, "Hà Nguyên", True),
        ("UBND xã Tân Phú", "UBND xã", "xã", "Tân Phú", False),
        ("Trung tâm Phát triển quỹ đất tỉnh", "Trung tâm Phát triển quỹ đất", "tỉnh", None, False),
        ("P.KT xã Tân Lam", "P.KT", "xã", "Tân Lam", False),
    ],
)
def test_a_place_after_the_name_is_read_apart(
    typed: str, agency_text: str, qualifier: str | None, place: str | None, bare: bool
) -> None:
    first = readings(G, typed)[0]
    assert first.agency_text == agency_text
    assert first.place is not None
    assert (first.place.qualifier, first.place.name, first.place.bare) == (qualifier, place, bare)


def test_a_number_or_a_longer_name_is_not_a_place() -> None:
    assert readings(G, "Ban Quản lý dự án đầu tư xây dựng số 1") == []
    assert readings(G, "Ban Quản lý dự án đầu tư xây dựng công trình giao thông tỉnh") == []
    whole = readings(G, "UBND tỉnh")[0]
    assert whole.place is None and whole.candidates[0].id == "ubnd-tinh"


# --- a store of the team's own fictional notices ---------------------------------------------


def _notice(source: str, level: Level, issuer: str, issuer_name: str, meeting: dt.date,
            lines: list[tuple[str, str | None, Level, bool]]) -> Notice:
    """A notice of ``lines`` ('- <agency> <task>'), each assigned to its agency as written:
    (agency text, canonical name or None, level, is_group)."""
    header = f"{issuer}\n\nTHÔNG BÁO\nKết luận của Chủ tịch tại cuộc họp ngày {meeting:%d/%m/%Y}\n\nII. NHIỆM VỤ\n"
    text = header
    spans = []
    for agency_text, _, _, _ in lines:
        start = len(text) + 2
        text += f"- {agency_text}"
        text += " thực hiện nhiệm vụ được giao trong tháng tới.\n"
        spans.append((start, len(text) - 1))
    assignments = [
        Assignment(
            agency=AgencyRef(text=agency_text, canonical=canonical, level=lvl, is_group=group,
                             start=start, end=start + len(agency_text)),
            role=Role.ASSIGNED,
            task=text[start:end],
            section_path=["II. NHIỆM VỤ"],
            start=start - 2,
            end=end,
        )
        for (agency_text, canonical, lvl, group), (start, end) in zip(lines, spans, strict=True)
    ]
    return Notice(
        id=content_id(text), source=source, format="txt", text=text, level=level,
        issuer=Spanned(text=issuer, start=0, end=len(issuer)), issuer_name=issuer_name,
        meeting_date=DateValue(text=f"{meeting:%d/%m/%Y}", start=0, end=1, value=meeting),
        assignments=assignments,
    )


HA_NGUYEN = _notice(
    "ha-nguyen.txt", Level.PROVINCE, "UBND TỈNH HÀ NGUYÊN", "UBND tỉnh Hà Nguyên", dt.date(2025, 10, 6),
    [
        ("Sở Tài chính", "Sở Tài chính", Level.PROVINCE, False),
        ("Sở Công Thương", "Sở Công Thương", Level.PROVINCE, False),
        ("Trung tâm Phát triển quỹ đất tỉnh", None, Level.PROVINCE, False),
        ("Ban Quản lý dự án đầu tư xây dựng số 1", None, Level.UNKNOWN, False),
        ("Bộ Chỉ huy Quân sự tỉnh", "Bộ Chỉ huy Quân sự tỉnh", Level.PROVINCE, False),
    ],
)
VAN_SON = _notice(
    "van-son.txt", Level.DISTRICT, "UBND HUYỆN VÂN SƠN", "UBND huyện Vân Sơn", dt.date(2024, 5, 8),
    [
        ("UBND các xã: Tân Phú, Hà Lam", "UBND các xã, phường", Level.COMMUNE, True),
        ("UBND xã Tân Phú", "Ủy ban nhân dân xã", Level.COMMUNE, False),
        ("UBND xã Hà Lam", "Ủy ban nhân dân xã", Level.COMMUNE, False),
        ("Sở Tài chính tỉnh Hà Nguyên", "Sở Tài chính", Level.PROVINCE, False),
        ("Ban Chỉ huy Quân sự huyện", "Ban Chỉ huy Quân sự huyện", Level.DISTRICT, False),
    ],
)


def _fill(store: Store) -> None:
    for path in sorted((SAMPLES / "notices").iterdir()):
        store.put(parse_document(load_path(path), G))
    store.put(HA_NGUYEN)
    store.put(VAN_SON)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    with Store(tmp_path_factory.mktemp("lookup") / "notices.sqlite3") as s:
        _fill(s)
        yield s


def _sources(store: Store, found: AgencyLookup) -> set[str]:
    return {row.source.rsplit("/", 1)[-1] for row in found.rows(store)}


def _texts(store: Store, found: AgencyLookup) -> list[str]:
    return [row.assignment.agency.text for row in found.rows(store)]


def test_place_keeps_the_rows_of_that_place(store: Store) -> None:
    everywhere = find_agency(store, G, "phòng TC-KH")
    assert _sources(store, everywhere) == {"2024-03-15_tx-ben-van_thang-03.txt", "2024-06-20_tp-lam-thuy_hop-chuyen-de.txt"}
    ben_van = find_agency(store, G, "phòng TC-KH thị xã Bến Vân")
    assert ben_van.agency is not None and ben_van.agency.name == "Phòng Tài chính - Kế hoạch"
    assert ben_van.place is not None and ben_van.place.label() == "thị xã Bến Vân"
    assert _sources(store, ben_van) == {"2024-03-15_tx-ben-van_thang-03.txt"}
    assert 0 < ben_van.total < everywhere.total
    lam_thuy = find_agency(store, G, "phong tc-kh thanh pho lam thuy")
    assert _sources(store, lam_thuy) == {"2024-06-20_tp-lam-thuy_hop-chuyen-de.txt"}


def test_province_department_of_one_province(store: Store) -> None:
    every = find_agency(store, G, "Sở Tài chính")
    lam_giang = find_agency(store, G, "so tai chinh lam giang")
    assert _sources(store, lam_giang) == {"2024-10-08_tinh-lam-giang_quy-III.md"}
    ha_nguyen = find_agency(store, G, "Sở TC Hà Nguyên")
    # its own notice, and a district notice naming it with its province
    assert _sources(store, ha_nguyen) == {"ha-nguyen.txt", "van-son.txt"}
    assert lam_giang.total + ha_nguyen.total == every.total
    unknown_place = find_agency(store, G, "so tai chinh quang ngai")
    assert unknown_place.agency is not None and unknown_place.total == 0
    assert "không có nhiệm vụ nào ở quang ngai" in (unknown_place.message() or "")


def test_a_commune_named_in_the_mention(store: Store) -> None:
    tan_phu = find_agency(store, G, "UBND xã Tân Phú")
    assert _texts(store, tan_phu) == ["UBND các xã: Tân Phú, Hà Lam", "UBND xã Tân Phú"]
    assert _texts(store, find_agency(store, G, "ubnd xa ha lam")) == ["UBND các xã: Tân Phú, Hà Lam", "UBND xã Hà Lam"]
    # the sample notices' wards are not communes of the same name
    assert _texts(store, find_agency(store, G, "UBND xã Hà Lam")) == ["UBND các xã: Tân Phú, Hà Lam", "UBND xã Hà Lam"]
    assert "UBND xã Hà Lam" not in _texts(store, find_agency(store, G, "UBND phường Hà Lam"))


def test_agencies_known_only_from_notices(store: Store) -> None:
    fund = find_agency(store, G, "Trung tâm Phát triển quỹ đất tỉnh")
    assert "Trung tâm Phát triển quỹ đất tỉnh" in _texts(store, fund)
    assert "Trung tâm Phát triển quỹ đất" not in _texts(store, fund)  # the thị xã's centre
    board = find_agency(store, G, "ban quan ly du an dau tu xay dung so 1")
    assert board.agency is None and board.stored == ["Ban Quản lý dự án đầu tư xây dựng số 1"]
    assert _texts(store, board) == ["Ban Quản lý dự án đầu tư xây dựng số 1"]
    assert "tên đã ghi" in (board.message() or "")
    partial = find_agency(store, G, "dự án đầu tư xây dựng số 1")
    assert partial.stored == ["Ban Quản lý dự án đầu tư xây dựng số 1"]
    transport = find_agency(store, G, "Ban Quản lý dự án đầu tư xây dựng công trình giao thông tỉnh")
    assert transport.total == 1 and transport.agency is None


def test_no_match_lists_the_closest_agencies_in_the_store(store: Store) -> None:
    typo = find_agency(store, G, "Sở Tài chánh")
    assert not typo.matched and typo.total == 0
    assert typo.suggestions[0] == "Sở Tài chính"
    message = typo.message() or ""
    assert message.startswith("Không tìm thấy cơ quan nào khớp với “Sở Tài chánh”")
    assert "Sở Tài chính" in message
    assert find_agency(store, G, "xyz qwv").suggestions == []


def test_several_levels_say_which_was_chosen(store: Store) -> None:
    kt = find_agency(store, G, "P.KT")
    assert kt.agency is not None and kt.agency.level is Level.COMMUNE  # the store holds its rows
    assert [a.level for a in kt.others] == [Level.DISTRICT]
    assert kt.level_note() == "Hiểu là Phòng Kinh tế (cấp xã); “P.KT” còn có thể là: Phòng Kinh tế (cấp huyện)."
    assert _sources(store, kt) == {"2025-09-05_xa-tan-lam_thang-08.docx"}
    # a place word decides the level
    district = find_agency(store, G, "BCHQS huyện")
    assert district.agency is not None and district.agency.name == "Ban Chỉ huy Quân sự huyện"
    assert district.level_note() is None
    province = find_agency(store, G, "BCHQS tỉnh")
    assert province.agency is not None and province.agency.name == "Bộ Chỉ huy Quân sự tỉnh"
    # one level, two bodies: the one chosen and the other are both said
    nv = find_agency(store, G, "Sở NV")
    assert nv.agency is not None and nv.agency.name == "Sở Nội vụ"
    assert "Sở Ngoại vụ" in (nv.level_note() or "")


def test_filters_and_the_older_shape(store: Store) -> None:
    found, rows = lookup_assignments(store, G, "SCT")
    assert found is not None and found.name == "Sở Công Thương" and len(rows) == 1
    none, rows = lookup_assignments(store, G, "Sở Tài chánh")
    assert none is None and rows == []
    in_2024 = find_agency(store, G, "Sở Tài chính", since=dt.date(2024, 1, 1), until=dt.date(2024, 12, 31))
    assert _sources(store, in_2024) == {"2024-10-08_tinh-lam-giang_quy-III.md", "van-son.txt"}
    dated = find_agency(store, G, "phòng TNMT", with_deadline=True, due_before=dt.date(2024, 4, 30))
    assert dated.total and all(r.assignment.deadline and r.assignment.deadline.date for r in dated.rows(store))


# --- the API, the chat and the CLI use the same look-up -------------------------------------------


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("lookup-api")
    settings = Settings(index=folder, embedding={"backend": "fake"})
    with Store(settings.db_path) as s:
        _fill(s)
    return folder


def test_api_assignments_reads_the_agency_as_typed(index: Path) -> None:
    with TestClient(create_app(Settings(index=index, embedding={"backend": "fake"}))) as client:
        sct = client.get("/api/assignments", params={"agency": "SCT"}).json()
        assert sct["agency"]["name"] == "Sở Công Thương" and sct["total"] == 1
        assert sct["lookup"]["matched"] and sct["lookup"]["message"] is None
        placed = client.get("/api/assignments", params={"agency": "phòng TC-KH thị xã Bến Vân", "limit": 1}).json()
        assert placed["lookup"]["place"] == "thị xã Bến Vân" and placed["total"] == 2 and len(placed["items"]) == 1
        kt = client.get("/api/assignments", params={"agency": "P.KT"}).json()
        assert kt["lookup"]["message"].startswith("Hiểu là Phòng Kinh tế (cấp xã)")
        assert kt["lookup"]["others"] == [{"name": "Phòng Kinh tế", "level": "huyen"}]
        stored = client.get("/api/assignments", params={"agency": "Ban Quản lý dự án đầu tư xây dựng số 1"}).json()
        assert stored["agency"] is None and stored["total"] == 1
        assert stored["lookup"]["stored"] == ["Ban Quản lý dự án đầu tư xây dựng số 1"]
        missing = client.get("/api/assignments", params={"agency": "Sở Tài chánh"}).json()
        assert missing["total"] == 0 and not missing["lookup"]["matched"]
        assert missing["lookup"]["suggestions"][0] == "Sở Tài chính"
        assert "Không tìm thấy" in missing["lookup"]["message"]
        deadlines = client.get("/api/deadlines", params={"agency": "phòng TC-KH thị xã Bến Vân"}).json()
        assert deadlines["total"] == 2 and deadlines["lookup"]["place"] == "thị xã Bến Vân"


@pytest.fixture(scope="module")
def service(index: Path) -> Iterator[AnswerService]:
    with Store(Settings(index=index).db_path) as s:
        yield AnswerService(s, G, None, Settings(index=index, embedding={"backend": "fake"}))


def test_chat_assignment_route_uses_the_lookup(service: AnswerService) -> None:
    sct = service.ask("SCT được giao những việc gì?")
    assert sct.route == "assignments" and not sct.refused
    assert sct.answer.startswith("Sở Công Thương được giao 1 nhiệm vụ")
    kt = service.ask("P.KT được giao những việc gì?")
    assert kt.answer.startswith("Hiểu là Phòng Kinh tế (cấp xã)") and len(kt.citations) == 3
    placed = service.ask("Nhiệm vụ của Sở TC tỉnh Lam Giang là gì?")
    lam_giang = {s.id for s in service.store.summaries() if s.source.endswith("tinh-lam-giang_quy-III.md")}
    assert placed.citations and {c.notice_id for c in placed.citations} == lam_giang
    typo = service.ask("Sở Tài chánh được giao những việc gì?")
    assert typo.refused and "Sở Tài chính" in typo.answer and typo.answer != REFUSAL
    nothing = service.ask("Phòng Y tế được giao những việc gì?")
    assert nothing.refused and nothing.answer == REFUSAL  # known, but nothing assigned


def test_cli_assignments_prints_how_it_read_the_agency(index: Path) -> None:
    env = {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "assistant.cli", "assignments", *args],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Hiểu là Phòng Kinh tế (cấp xã)" in run("P.KT")
    assert "Các cơ quan gần nhất có trong kho: Sở Tài chính" in " ".join(run("Sở Tài chánh").split())
    assert "2 nhiệm vụ giao cho Phòng Tài chính - Kế hoạch — thị xã Bến Vân" in run("phòng TC-KH thị xã Bến Vân")
