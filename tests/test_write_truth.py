"""What a write answers is what happened (issue 18 §2, §5): a notice stored while its search
index could not be updated is answered as stored (200, with a warning), never as a 500; a
refused upload and a deleted notice leave no original behind in ``uploads/``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.indexing import SearchIndex
from assistant.settings import Settings
from assistant.store import Store
from tests.conftest import SAMPLES

NOTICES = sorted((SAMPLES / "notices").glob("*.txt"))


def _settings(index: Path) -> Settings:
    return Settings(index=index, embedding={"backend": "fake"})


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    # Server errors become responses, as a real client would see them.
    with TestClient(create_app(_settings(tmp_path)), raise_server_exceptions=False) as c:
        yield c


def _upload(client: TestClient, *files: tuple[str, bytes]) -> dict[str, object]:
    response = client.post("/api/notices", files=[("files", (n, d, "text/plain")) for n, d in files])
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_notice_stored_while_its_index_cannot_be_written_is_answered_as_stored(
    client: TestClient, tmp_path: Path
) -> None:
    """A directory where the index's state file belongs: the index update fails after the
    notice is stored. Before, the file was reported as failed and the request answered 500."""
    (tmp_path / "search_state.json").mkdir()
    response = client.post("/api/notices", files=[("files", (NOTICES[0].name, NOTICES[0].read_bytes(),
                                                               "text/plain"))])
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["status"] for r in body["results"]] == ["added"]
    assert "chỉ mục tìm kiếm" in body["index_warning"]
    listed = client.get("/api/notices").json()
    assert [item["id"] for item in listed["items"]] == [body["results"][0]["notice_id"]]

    # Once the obstacle is gone, the next reader completes the index from the store.
    (tmp_path / "search_state.json").rmdir()
    assert client.post("/api/ask", json={"question": "Cuộc họp do ai chủ trì?"}).status_code == 200
    with Store(tmp_path / "notices.sqlite3") as store:
        search = SearchIndex(_settings(tmp_path), store)
        try:
            status = search.status(deep=True)
        finally:
            search.close()
    assert status.healthy, status.problems()
    assert status.vectors == status.chunks == status.bm25_documents > 0


def test_refused_uploads_and_deleted_notices_leave_no_original(client: TestClient, tmp_path: Path) -> None:
    uploads = tmp_path / "uploads"
    good = NOTICES[0]
    body = _upload(client, ("rong.txt", b""), (good.name, good.read_bytes()))
    results = body["results"]
    assert isinstance(results, list)
    assert [r["status"] for r in results] == ["failed", "added"]
    assert sorted(p.name for p in uploads.iterdir()) == [good.name]

    # A refused new version under the same name keeps the stored notice's original.
    _upload(client, (good.name, b""))
    assert (uploads / good.name).read_bytes() == good.read_bytes()
    assert sorted(p.name for p in uploads.iterdir()) == [good.name]

    deleted = client.delete(f"/api/notices/{results[1]['notice_id']}")
    assert deleted.status_code == 200, deleted.text
    assert list(uploads.iterdir()) == []
