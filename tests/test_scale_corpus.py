"""The benchmark corpus generator: deterministic, and what it writes parses as notices."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from assistant.agencies import get_gazetteer
from assistant.load import load_path
from assistant.model import DocumentKind, Role
from assistant.parse import parse_document


@pytest.fixture(scope="module")
def generator(scale_generator: ModuleType) -> ModuleType:
    return scale_generator


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((root / "notices").iterdir())}


def test_same_seed_same_bytes_and_prefix_stable(generator: ModuleType, tmp_path: Path) -> None:
    generator.generate(5, 7, tmp_path / "a")
    generator.generate(5, 7, tmp_path / "b")
    generator.generate(3, 7, tmp_path / "short")
    generator.generate(5, 8, tmp_path / "other")
    a = _files(tmp_path / "a")
    assert len(a) == 5
    assert a == _files(tmp_path / "b")
    assert (tmp_path / "a" / "manifest.jsonl").read_bytes() == (tmp_path / "b" / "manifest.jsonl").read_bytes()
    # Notice i depends on (seed, i) only: a smaller corpus is a prefix of a larger one.
    short = _files(tmp_path / "short")
    assert short == {name: a[name] for name in short}
    assert set(_files(tmp_path / "other").values()).isdisjoint(a.values())


def test_notices_parse_with_their_chair_date_level_and_assignments(generator: ModuleType, tmp_path: Path) -> None:
    generator.generate(8, 7, tmp_path)
    gazetteer = get_gazetteer()
    manifest = [json.loads(line) for line in (tmp_path / "manifest.jsonl").read_text("utf-8").splitlines()]
    assert len(manifest) == 8
    expected_total = found_total = 0
    for entry in manifest:
        text = (tmp_path / "notices" / entry["file"]).read_text("utf-8")
        for heading in ("THÔNG BÁO", "Nơi nhận:", "I. ĐÁNH GIÁ", "II. NHIỆM VỤ"):
            assert heading in text
        notice = parse_document(load_path(tmp_path / "notices" / entry["file"]), gazetteer)
        assert notice.kind is DocumentKind.NOTICE
        assert notice.level.value == entry["level"]
        assert notice.meeting_date is not None and notice.meeting_date.value is not None
        assert notice.meeting_date.value.isoformat() == entry["meeting_date"]
        assert notice.chair is not None and notice.chair.name == entry["chair"]
        found = Counter(
            a.agency.canonical or a.agency.text for a in notice.assignments if a.role is not Role.COORDINATE
        )
        expected = Counter(entry["tasks"])
        # Every agency the parser credits was given tasks by the generator, and no more tasks.
        assert set(found) <= set(expected), (entry["file"], set(found) - set(expected))
        assert all(found[name] <= expected[name] for name in found)
        expected_total += sum(expected.values())
        found_total += sum(found.values())
    assert expected_total > 8 * 4
    assert found_total >= 0.9 * expected_total


def test_agencies_are_valid_for_level_and_date(generator: ModuleType) -> None:
    units = generator.load_units()
    province = generator.Level("tinh", "tỉnh", "UBND TỈNH", "Văn phòng UBND tỉnh", "UBND các huyện, thành phố")
    before = {u.name for u in generator.units_for(units, province, dt.date(2024, 6, 1))}
    after = {u.name for u in generator.units_for(units, province, dt.date(2025, 6, 1))}
    assert "Sở Tài nguyên và Môi trường" in before and "Sở Tài nguyên và Môi trường" not in after
    assert "Sở Nông nghiệp và Môi trường" in after and "Sở Nông nghiệp và Môi trường" not in before
