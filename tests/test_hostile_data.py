"""Hostile data that reaches the store, the API and the terminal (issue 18 §5): links and FIFOs
in an ingested folder, Rich markup and terminal escapes in paths and text, one file under three
spellings of its path, LIKE wildcards in notice ids, deep nesting, a folder that is not there,
the conversations /api/ask keeps. Every test here failed before its fix."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.answer.conversation import ConversationStore
from assistant.answer.route import Route, RoutedQuestion
from assistant.api import create_app
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import SAMPLES

REPO = Path(__file__).resolve().parents[1]
NOTICE = SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt"


def _env(index: Path) -> dict[str, str]:
    return {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index),
            "PYTHONPATH": str(REPO)}


def _cli(index: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True,
                          text=True, env=_env(index), timeout=300, cwd=cwd or REPO)


def _nested(levels: int) -> str:
    head = ("ỦY BAN NHÂN DÂN\nTHỊ XÃ HÀ LÂM\nSố: 9/TB-UBND\nHà Lâm, ngày 2 tháng 4 năm 2025\nTHÔNG BÁO\n"
            "Kết luận của Chủ tịch UBND thị xã tại cuộc họp giao ban tuần\n")
    return head + "".join(
        ".".join(["1"] * (n + 1)) + f". Phòng Y tế thực hiện nội dung cấp {n + 1}.\n" for n in range(levels))


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(index=tmp_path / "index", embedding={"backend": "fake"})
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        yield c


def test_links_out_of_the_folder_dangling_links_and_fifos_are_reported_not_stored(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    (folder / "good.txt").write_text(NOTICE.read_text(encoding="utf-8"), encoding="utf-8")
    outside = tmp_path / "outside.txt"
    outside.write_text(NOTICE.read_text(encoding="utf-8") + "\nBản ở ngoài.\n", encoding="utf-8")
    (folder / "outside.txt").symlink_to(outside)
    (folder / "passwd.txt").symlink_to("/etc/passwd")
    (folder / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    os.mkfifo(folder / "pipe.txt")
    (folder / "inside.txt").symlink_to(folder / "good.txt")  # the same file again: one notice
    done = _cli(tmp_path / "index", "ingest", "--json", str(folder))
    rows = {Path(r["source"]).name: r for r in json.loads(done.stdout)}
    assert done.returncode == 1
    for name, words in (("outside.txt", "ra ngoài"), ("passwd.txt", "ra ngoài"), ("dangling.txt", "hỏng"),
                        ("pipe.txt", "FIFO")):
        assert rows[name]["status"] == "failed" and words in rows[name]["error"], rows[name]
    # A link inside the folder to a file inside it is that file (its source): stored once.
    assert sorted(r["status"] for r in json.loads(done.stdout)
                  if Path(r["source"]).name == "good.txt") == ["added", "unchanged"]
    with Store(tmp_path / "index" / "notices.sqlite3") as store:
        texts = store.texts(set(store.ids()))
    assert len(texts) == 1 and "root:" not in next(iter(texts.values()))


def test_a_folder_that_does_not_exist_is_named_as_missing(tmp_path: Path) -> None:
    done = _cli(tmp_path / "index", "ingest", str(tmp_path / "samples"))
    assert done.returncode == 1
    assert "không tồn tại" in done.stdout and "không được hỗ trợ" not in done.stdout, done.stdout


def test_rich_markup_in_paths_and_titles_is_printed_as_typed(tmp_path: Path) -> None:
    folder = tmp_path / "[" / "b]thư mục[" / "]"  # the path reads '…[/b]thư mục[/]…'
    folder.mkdir(parents=True)
    text = NOTICE.read_text(encoding="utf-8").replace("Kết luận của", "Kết luận [/] [/b] của", 1)
    path = folder / "[red]tệp[bold].txt"
    path.write_text(text, encoding="utf-8")
    index = tmp_path / "index"
    done = _cli(index, "ingest", str(tmp_path / "["))
    assert done.returncode == 0, done.stdout + done.stderr
    assert str(path) in done.stdout
    with Store(index / "notices.sqlite3") as store:
        (notice_id,) = store.ids()
        assert "[/]" in (store.get(notice_id).title.text or "")  # type: ignore[union-attr]
    for args in (("show", notice_id), ("notices",), ("assignments", "Phòng Tài nguyên và Môi trường"),
                 ("deadlines",)):
        shown = _cli(index, *args)
        assert shown.returncode == 0, (args, shown.stdout, shown.stderr)
        assert "không mong đợi" not in shown.stdout + shown.stderr
    assert "[/]" in _cli(index, "show", notice_id).stdout


def test_nul_and_terminal_escapes_are_never_stored_nor_printed(tmp_path: Path) -> None:
    base = NOTICE.read_text(encoding="utf-8")
    # After the first 20k characters, where the binary check no longer looks.
    padding = "\n".join(f"Ghi chú thêm số {n}: nội dung bình thường." for n in range(700))
    poisoned = base.rstrip("\n") + "\n" + padding + "\nĐoạn cuối\x00 có \x1b[2J\x1b[31mmàu\x1b[0m và \x1b]0;tiêu đề\x07.\n"
    assert len(base) + len(padding) > 20_000
    path = tmp_path / "doc.txt"
    path.write_text(poisoned, encoding="utf-8")
    index = tmp_path / "index"
    assert _cli(index, "ingest", str(path)).returncode == 0
    with Store(index / "notices.sqlite3") as store:
        (text,) = store.texts(set(store.ids())).values()
    assert "\x00" not in text and "\x1b" not in text and "\x07" not in text
    assert "Đoạn cuối có màu và ." in text
    asked = _cli(index, "ask", "Đoạn cuối có màu gì?")
    assert "\x1b" not in asked.stdout and "\x00" not in asked.stdout


def test_one_file_under_three_spellings_of_its_path_is_one_source(tmp_path: Path) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    path = folder / "tb.txt"
    index = tmp_path / "index"
    text = NOTICE.read_text(encoding="utf-8")
    for n, (spelled, cwd) in enumerate(((str(path), REPO), ("tb.txt", folder), ("../work/tb.txt", folder))):
        path.write_text(text + f"\nSửa lần {n}.\n", encoding="utf-8")
        assert _cli(index, "ingest", spelled, cwd=cwd).returncode == 0
    with Store(index / "notices.sqlite3") as store:
        assert [s.source for s in store.summaries()] == [str(path.resolve())]


def test_percent_and_underscore_in_a_notice_id_are_not_wildcards(client: TestClient) -> None:
    uploaded = client.post("/api/notices", files=[("files", ("a.txt", NOTICE.read_bytes(), "text/plain"))])
    notice_id = uploaded.json()["results"][0]["notice_id"]
    for probe in ("%25%25%25%25", "____", notice_id[:3] + "%25", "_" * len(notice_id)):
        assert client.get(f"/api/notices/{probe}").status_code == 404, probe
        assert client.delete(f"/api/notices/{probe}").status_code == 404, probe
    assert client.get(f"/api/notices/{notice_id[:6]}").status_code == 200  # a real prefix still works
    assert client.get("/api/notices").json()["count"] == 1


@pytest.mark.parametrize("levels", [128, 150, 200])
def test_deep_nesting_is_served_not_a_500(client: TestClient, levels: int) -> None:
    uploaded = client.post("/api/notices", files=[("files", ("sau.txt", _nested(levels).encode(), "text/plain"))])
    assert uploaded.status_code == 200, uploaded.text
    (row,) = uploaded.json()["results"]
    assert row["status"] == "added", row
    shown = client.get(f"/api/notices/{row['notice_id']}")
    assert shown.status_code == 200, shown.text[:300]
    assert len(shown.json()["assignments"]) >= levels


def test_conversations_are_bounded_and_expire(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3", max_turns=5, max_conversations=3,
                              max_age=dt.timedelta(days=7))
    routed = RoutedQuestion(question="Ai chủ trì?", effective="Ai chủ trì?", route=Route.METADATA)
    answer = {"answer": "x" * 17_000}
    for _ in range(12):
        store.append("một", routed, answer)
    assert [t.turn for t in store.turns("một")] == [8, 9, 10, 11, 12]
    for name in ("hai", "ba", "bốn"):
        store.append(name, routed, answer)
    assert store.turns("một") == []  # the oldest conversation went first
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).isoformat(timespec="seconds")
    with store._conn:
        store._conn.execute("UPDATE conversation_turns SET created_at=? WHERE conversation_id='hai'", (old,))
    store.append("năm", routed, answer)
    assert store.turns("hai") == []
    assert store.last_turn("bốn") is not None
    store.close()
