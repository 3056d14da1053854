"""The CLI as a user runs it: a real subprocess of `.venv/bin/assistant`-equivalent, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.model import DocumentKind
from assistant.office import CONVERTED_SUFFIXES, find_converter
from assistant.settings import LoadSettings
from tests.conftest import CORPUS, SAMPLES

CORPUS_DEV = CORPUS / "dev"

NOTICE_KEYS = {
    "id", "source", "kind", "issuer", "level", "number", "issue_date", "meeting_date",
    "chair", "signer", "title", "sections", "ocr",
}
ITEM_KEYS = {
    "notice_id", "source", "notice_title", "meeting_date", "section", "role", "agency",
    "agency_text", "task", "deadline", "quote", "start", "end",
}


def run_cli(
    index: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "assistant.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        timeout=300,
    )


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, corpus_dir: Path) -> Path:
    index = tmp_path_factory.mktemp("corpus-index")
    result = run_cli(index, "ingest", str(corpus_dir), str(SAMPLES / "notices"), "--json")
    if find_converter(LoadSettings().converter) is None:
        # Without LibreOffice only the corpus's .doc files fail (tests/test_load_legacy.py skips).
        failed = [r["source"] for r in json.loads(result.stdout) if r["status"] == "failed"]
        assert all(Path(f).suffix in CONVERTED_SUFFIXES for f in failed), result.stdout
    else:
        assert result.returncode == 0, result.stdout + result.stderr
    return index


def test_ingest_reports_each_file_and_bad_files_do_not_stop_the_batch(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_bytes((SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt").read_bytes())
    (folder / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    (folder / "photo.png").write_bytes(b"\x89PNG")  # images are read by OCR: this one is broken
    (folder / "bang.xlsx").write_bytes(b"PK\x03\x04")
    index = tmp_path / "idx"
    result = run_cli(index, "ingest", str(folder), "--json")
    assert result.returncode == 1
    rows = {Path(r["source"]).name: r for r in json.loads(result.stdout)}
    assert rows["good.txt"]["status"] == "added"
    assert rows["broken.docx"]["status"] == "failed" and "docx" in rows["broken.docx"]["error"]
    assert rows["photo.png"]["status"] == "failed" and "«photo.png»" in rows["photo.png"]["error"]
    assert rows["bang.xlsx"]["status"] == "skipped"
    listed = json.loads(run_cli(index, "notices", "--json").stdout)
    assert [Path(n["source"]).name for n in listed] == ["good.txt"]
    # Again: same content is a no-op.
    again = json.loads(run_cli(index, "ingest", str(folder / "good.txt"), "--json").stdout)
    assert again[0]["status"] == "unchanged"
    # No traceback reaches the user on a bad command either.
    missing = run_cli(index, "show", "khongco")
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "Không có thông báo" in missing.stderr


@pytest.mark.corpus
def test_corpus_ingests_and_lists_every_notice(corpus_index: Path) -> None:
    listed = json.loads(run_cli(corpus_index, "notices", "--json").stdout)
    seed = 11 + 4  # the seed corpus and the team's four sample notices
    dev = len(list((CORPUS_DEV).glob("*.*"))) - 1 if CORPUS_DEV.is_dir() else 0  # less SOURCES.tsv
    converted = find_converter(LoadSettings().converter) is not None
    legacy = 0 if converted else len(list(CORPUS_DEV.glob("*.doc")))
    assert len(listed) == seed + dev - legacy
    assert all(set(n) == NOTICE_KEYS for n in listed)
    kinds = {n["kind"] for n in listed}
    assert {"notice", "news_article"} <= kinds <= {k.value for k in DocumentKind}
    if CORPUS_DEV.is_dir():
        # the dev corpus's neighbours of the notice are told apart
        assert {"minutes", "speech", "directive"} <= kinds


@pytest.mark.corpus
@pytest.mark.parametrize(
    "spellings",
    [
        ("phong tai nguyen moi truong", "phòng TN&MT", "Phòng TNMT"),
        ("Phòng Tài chính – Kế hoạch", "TC-KH", "phong tai chinh ke hoach"),
    ],
)
def test_agency_spellings_give_the_same_tasks(corpus_index: Path, spellings: tuple[str, ...]) -> None:
    results = [json.loads(run_cli(corpus_index, "assignments", s, "--json").stdout) for s in spellings]
    first = results[0]
    assert first["agency"] is not None and first["agency"]["level"] == "huyen"
    assert len(first["items"]) >= 3
    for other in results[1:]:
        assert other == first
    for item in first["items"]:
        assert set(item) == ITEM_KEYS
        # A district Phòng never receives a province Sở's task.
        assert not item["agency_text"].lower().startswith("sở")


@pytest.mark.corpus
def test_assignment_quotes_are_exact_spans(corpus_index: Path) -> None:
    data = json.loads(run_cli(corpus_index, "assignments", "Sở Tài nguyên và Môi trường", "--json").stdout)
    assert data["agency"]["level"] == "tinh"
    assert data["items"], "the province notices assign tasks to Sở TNMT"
    texts: dict[str, str] = {}
    for item in data["items"]:
        if item["notice_id"] not in texts:
            shown = json.loads(run_cli(corpus_index, "show", item["notice_id"], "--json").stdout)
            texts[item["notice_id"]] = shown["text"]
        assert texts[item["notice_id"]][item["start"] : item["end"]] == item["quote"]


@pytest.mark.corpus
def test_deadlines_filter_by_date_and_agency(corpus_index: Path) -> None:
    data = json.loads(run_cli(corpus_index, "deadlines", "--before", "2024-12-31", "--after", "2024-01-01", "--json").stdout)
    dates = [i["deadline"]["date"] for i in data["items"]]
    assert dates and all("2024-01-01" <= d <= "2024-12-31" for d in dates)
    assert dates == sorted(dates)
    tckh = json.loads(run_cli(corpus_index, "deadlines", "--agency", "TC-KH", "--json").stdout)
    assert tckh["items"] and all(i["agency"] == tckh["agency"]["name"] for i in tckh["items"])
    assert any(i["deadline"]["date"] == "2024-07-31" for i in tckh["items"])  # 'trong tháng 7/2024'


def test_a_misspelt_setting_is_named_without_a_traceback(tmp_path: Path) -> None:
    result = run_cli(tmp_path, "notices", env={"ASSISTANT_EMBEDDING__BACKEND": "fake"})
    assert result.returncode == 3
    assert "ASSISTANT_EMBEDDING__BACKEND" in result.stderr and "Cấu hình không hợp lệ" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
