"""``GET /api/ask/{conversation_id}``: the turns a reloaded page shows again (issue #12)."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.settings import Settings

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


def test_turns_are_read_back_in_order(tmp_path: Path) -> None:
    settings = Settings(index=tmp_path, embedding={"backend": "fake"})
    with TestClient(create_app(settings)) as client:
        sample = SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt"
        files = [("files", (sample.name, sample.read_bytes(), "text/plain"))]
        assert client.post("/api/notices", files=files).status_code == 200
        first = client.post("/api/ask", json={"question": "Thông báo 45/TB-UBND giao những việc gì?"}).json()
        conversation = first["conversation_id"]
        second = client.post("/api/ask", json={"question": "ai ky thong bao nay?", "conversation_id": conversation})
        assert "Lê Thị Thu Hà" in second.json()["answer"]
        turns = client.get(f"/api/ask/{conversation}").json()["turns"]
        assert [t["question"] for t in turns] == ["Thông báo 45/TB-UBND giao những việc gì?", "ai ky thong bao nay?"]
        assert turns[0]["answer"]["answer"] == first["answer"]
        assert turns[1]["answer"]["citations"]
        assert client.get("/api/ask/khong-co").json()["turns"] == []
        assert client.get("/api/ask/bad%20id").status_code == 422
