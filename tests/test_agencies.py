from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from assistant.agencies import Agency, Gazetteer, get_gazetteer
from assistant.errors import ConfigError
from assistant.model import Level


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return get_gazetteer()


@pytest.mark.parametrize(
    "query", ["phong tai nguyen moi truong", "phòng TN&MT", "Phòng TNMT", "Phòng Tài nguyên và Môi trường"]
)
def test_tnmt_spellings_resolve_to_district_office(gaz: Gazetteer, query: str) -> None:
    agency = gaz.resolve(query, Level.DISTRICT)
    assert agency is not None and agency.id == "phong-tnmt"


@pytest.mark.parametrize(
    "query",
    ["Phòng Tài chính – Kế hoạch", "TC-KH", "phong tai chinh ke hoach", "phòng Tài chính Kế hoạch", "TCKH"],
)
def test_tckh_spellings_resolve_to_one_agency(gaz: Gazetteer, query: str) -> None:
    agency = gaz.resolve(query)
    assert agency is not None and agency.id == "phong-tckh"


def test_tone_placement_and_abbreviation_of_ubnd(gaz: Gazetteer) -> None:
    a, b = gaz.resolve("Uỷ ban nhân dân tỉnh"), gaz.resolve("UBND tỉnh")
    assert a is not None and a == b and a.level is Level.PROVINCE


def test_level_decides_bare_abbreviation(gaz: Gazetteer) -> None:
    district, province = gaz.resolve("TNMT", Level.DISTRICT), gaz.resolve("TNMT", Level.PROVINCE)
    assert district is not None and district.name == "Phòng Tài nguyên và Môi trường"
    assert province is not None and province.name == "Sở Tài nguyên và Môi trường"


def test_explicit_head_beats_level_hint(gaz: Gazetteer) -> None:
    assert gaz.resolve("Phòng TNMT", Level.PROVINCE).id == "phong-tnmt"  # type: ignore[union-attr]
    assert gaz.resolve("Sở TN&MT", Level.DISTRICT).id == "so-tnmt"  # type: ignore[union-attr]
    assert not gaz.same_agency("Sở Tài nguyên và Môi trường", "Phòng TNMT")


def test_2025_merger_is_recorded(gaz: Gazetteer) -> None:
    old = gaz.get("so-tnmt")
    assert old is not None and old.valid_until == date(2025, 3, 1)
    assert gaz.successor(old, date(2025, 6, 1)).name == "Sở Nông nghiệp và Môi trường"
    assert gaz.successor(old, date(2024, 6, 1)).id == "so-tnmt"
    phong = gaz.get("phong-tckh")
    assert phong is not None and phong.valid_until == date(2025, 7, 1)


def test_date_decides_between_district_and_commune_office(gaz: Gazetteer) -> None:
    before = gaz.resolve("Phòng Kinh tế", Level.COMMUNE, on=date(2024, 5, 1))
    after = gaz.resolve("Phòng Kinh tế", Level.COMMUNE, on=date(2025, 9, 1))
    assert before is not None and before.level is Level.DISTRICT
    assert after is not None and after.level is Level.COMMUNE


def test_sector_label_is_not_an_agency(gaz: Gazetteer) -> None:
    assert gaz.lookup("Tài nguyên môi trường", Level.DISTRICT) is None
    assert gaz.find_mentions("7. Tài nguyên môi trường") == []


def test_find_mentions_keeps_offsets_and_levels(gaz: Gazetteer) -> None:
    text = "- Sở Y tế, UBND các huyện, thành phố tiếp tục phối hợp với Phòng TN&MT thị xã."
    refs = gaz.find_mentions(text, level=Level.PROVINCE)
    assert [text[r.start : r.end] for r in refs] == [r.text for r in refs]
    assert [r.canonical for r in refs] == [
        "Sở Y tế", "UBND các huyện, thành phố", "Phòng Tài nguyên và Môi trường"
    ]
    assert refs[1].is_group and refs[2].text == "Phòng TN&MT thị xã"


def test_find_mentions_window_and_unknown_bodies(gaz: Gazetteer) -> None:
    text = "Mở đầu. Giao Ban Quản lý khu Di tích Đền Thượng tiếp tục bảo vệ di tích."
    refs = gaz.find_mentions(text, start=8)
    assert len(refs) == 1 and refs[0].canonical is None
    assert refs[0].text == "Ban Quản lý khu Di tích Đền Thượng"
    assert gaz.find_mentions(text, start=0, end=7) == []


def test_lowercase_words_are_not_abbreviations(gaz: Gazetteer) -> None:
    # 'ca' (ca nhiễm) and 'thanh tra' in running text are not Công an / Thanh tra
    assert gaz.find_mentions("số ca nhiễm giảm; triển khai kế hoạch thanh tra đã duyệt") == []
    refs = gaz.find_mentions("Công an TP; Ban CHQS TP", level=Level.DISTRICT)
    assert [r.canonical for r in refs] == ["Công an huyện", "Ban Chỉ huy Quân sự huyện"]


def test_same_agency_across_kinds(gaz: Gazetteer) -> None:
    ref = gaz.find_mentions("Giao phòng Tài chính Kế hoạch chủ trì:")[0]
    agency = gaz.get("phong-tckh")
    assert agency is not None
    assert gaz.same_agency(ref, agency)
    assert gaz.same_agency(ref, "TC-KH")
    assert not gaz.same_agency(ref, "Phòng Nội vụ")


def test_office_extension_file(tmp_path: Path) -> None:
    extra = tmp_path / "don_vi.json"
    extra.write_text(
        json.dumps(
            {
                "agencies": [
                    {
                        "id": "ban-ql-den-thuong",
                        "name": "Ban Quản lý khu di tích Đền Thượng",
                        "level": "huyen",
                        "abbreviations": ["BQLDT"],
                        "aliases": ["Ban quản lý di tích Đền Thượng"],
                    }
                ]
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    gaz = Gazetteer.load(extra)
    found = gaz.resolve("ban quan ly di tich den thuong")
    assert isinstance(found, Agency) and found.id == "ban-ql-den-thuong"
    assert gaz.resolve("BQLDT") == found
    assert gaz.resolve("Phòng TNMT") is not None  # bundled entries are kept
    assert get_gazetteer().resolve("BQLDT") is None


def test_bad_extension_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"agencies": [{"id": "x"}]}', encoding="utf-8")
    with pytest.raises(ConfigError):
        Gazetteer.load(bad)
    with pytest.raises(ConfigError):
        Gazetteer.load(tmp_path / "missing.json")


def test_corpus_levels_never_cross(corpus_dir: Path, gaz: Gazetteer) -> None:
    district = (corpus_dir / "2023-12-27_tx-hoang-mai_thang-12.txt").read_text("utf-8")
    refs = gaz.find_mentions(district, level=Level.DISTRICT)
    tnmt = [r for r in refs if r.text == "Phòng TNMT"]
    assert tnmt and all(r.canonical == "Phòng Tài nguyên và Môi trường" for r in tnmt)
    assert any(r.canonical == "Phòng Lao động - Thương binh và Xã hội" for r in refs)
    province = (corpus_dir / "2022-04-06_tinh-nam-dinh_quy-I.txt").read_text("utf-8")
    prefs = gaz.find_mentions(province, level=Level.PROVINCE)
    assert any(r.canonical == "Sở Tài nguyên và Môi trường" for r in prefs)
    assert not any(r.canonical == "Phòng Tài nguyên và Môi trường" for r in prefs)


def test_every_bundled_entry_resolves_to_itself(gaz: Gazetteer) -> None:
    for agency in gaz.agencies:
        assert gaz.resolve(agency.name, agency.level, on=agency.valid_from) == agency, agency.id


# -- cities, other bodies of a known kind, new entries ----------------------------------------


@pytest.mark.parametrize(
    ("text", "level", "expected"),
    [
        # a centrally-run city is province level, whoever writes about it
        ("Ủy ban nhân dân thành phố Cần Thơ chủ trì", None, "Ủy ban nhân dân tỉnh"),
        ("Công an thành phố Hải Phòng phối hợp", Level.PROVINCE, "Công an tỉnh"),
        # a central notice addresses provinces: 'Thành phố' there is the city it addresses
        ("Ủy ban nhân dân Thành phố chỉ đạo các sở", Level.CENTRAL, "Ủy ban nhân dân tỉnh"),
        # a province's city is a district-level body
        ("UBND thành phố Hòa Sơn tổ chức", Level.PROVINCE, "Ủy ban nhân dân huyện"),
    ],
)
def test_city_level_follows_the_kind_of_city(
    gaz: Gazetteer, text: str, level: Level | None, expected: str
) -> None:
    ref = gaz.match_at(text, 0, level=level, on=date(2025, 11, 1))
    assert ref is not None and ref.canonical == expected


def test_short_name_takes_its_place_qualifier(gaz: Gazetteer) -> None:
    text = "Quân sự thị xã;"
    ref = gaz.match_at(text, 0, level=Level.DISTRICT)
    assert ref is not None and ref.canonical == "Ban Chỉ huy Quân sự huyện"
    assert ref.text == "Quân sự thị xã" and text[ref.start : ref.end] == ref.text


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Ban Quản lý dự án đầu tư xây dựng số 2 đẩy nhanh tiến độ", "Ban Quản lý dự án đầu tư xây dựng số 2"),
        (
            "Ban Quản lý dự án đầu tư xây dựng công trình dân dụng tỉnh đẩy nhanh tiến độ",
            "Ban Quản lý dự án đầu tư xây dựng công trình dân dụng tỉnh",
        ),
    ],
)
def test_numbered_or_qualified_board_is_another_body(gaz: Gazetteer, text: str, name: str) -> None:
    ref = gaz.match_at(text, 0, level=Level.PROVINCE)
    assert ref is not None and ref.canonical is None and ref.text == name
    # and a user typing that name is not sent to the generic board
    assert gaz.resolve(name) is None


def test_known_board_with_its_place_or_a_verb_stays_known(gaz: Gazetteer) -> None:
    for text in ("Ban Quản lý dự án đầu tư xây dựng tỉnh đẩy nhanh", "Ban Quản lý dự án đầu tư xây dựng phối hợp với"):
        ref = gaz.match_at(text, 0, level=Level.PROVINCE)
        assert ref is not None and ref.canonical is not None, text


@pytest.mark.parametrize(
    ("query", "agency_id"),
    [
        ("Sở XD", "so-xay-dung"),
        ("TTPVHCC", "tt-phvhcc-xa"),
        ("Trung tâm Phục vụ hành chính công", "tt-phvhcc-xa"),
        ("Cục Thuế tỉnh", "cuc-thue-tinh"),
        ("Trạm Y tế xã", "tram-y-te-xa"),
        ("Thường trực Tỉnh ủy", "thuong-truc-tinh-uy"),
    ],
)
def test_added_entries_resolve(gaz: Gazetteer, query: str, agency_id: str) -> None:
    agency = gaz.resolve(query)
    assert agency is not None and agency.id == agency_id


def test_district_tnmt_merged_into_nnmt_in_march_2025(gaz: Gazetteer) -> None:
    tnmt, nnptnt = gaz.get("phong-tnmt"), gaz.get("phong-nnptnt")
    assert tnmt is not None and nnptnt is not None
    for old in (tnmt, nnptnt):
        assert old.valid_until == date(2025, 3, 1)
        assert gaz.successor(old, date(2025, 4, 1)).name == "Phòng Nông nghiệp và Môi trường"
        assert gaz.successor(old, date(2025, 2, 1)).id == old.id


def test_vague_partners_are_not_a_group(gaz: Gazetteer) -> None:
    assert gaz.match_at("các ngành chức năng", 0) is None
    assert gaz.match_at("các ngành rà soát", 0) is None
    related = gaz.match_at("cơ quan liên quan thực hiện", 0)
    assert related is not None and related.canonical == "các cơ quan, đơn vị liên quan"
