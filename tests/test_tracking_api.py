"""``/api/tasks`` over the real app (issue #14): views, the token-guarded status change, the
.xlsx export opened back with openpyxl and converted by LibreOffice, the CSV export, and the
periodic report that passes ``assistant check``."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from typer.testing import CliRunner

from assistant.api import create_app
from assistant.check import check_docx
from assistant.cli import app as cli_app
from assistant.office import find_converter
from assistant.settings import Settings
from assistant.tracking_export import CSV_HEADER, SHEET_LIST, SHEET_SUMMARY

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
TOKEN = "ma-thu-nghiem-14"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tasks-index")


@pytest.fixture(scope="module")
def client(index: Path) -> Iterator[TestClient]:
    settings = Settings(index=index, embedding={"backend": "fake"}, api_token=TOKEN)
    with TestClient(create_app(settings)) as c:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
                 for p in sorted((SAMPLES / "notices").iterdir())]
        assert c.post("/api/notices", files=files, headers=AUTH).status_code == 200
        yield c


def _expected_row(number: int, item: dict[str, Any]) -> list[str]:
    """What the export must hold for one API item, column by column (CSV_HEADER)."""
    notice = item["notice"]
    day = notice["issue_date"] or notice["meeting_date"]
    status = item["status_label"]
    if item["due_state"] == "qua_han":
        status += f" (quá hạn {item['days_overdue']} ngày)"
    done = item["done_date"]
    return [
        str(number), item["task"], "; ".join(item["lead_agencies"]), "; ".join(item["partner_agencies"]),
        item["deadline"]["text"] if item["deadline"] else "", notice["number"] or "",
        f"{day[8:10]}/{day[5:7]}/{day[:4]}" if day else "", notice["title"] or "", status,
        f"{done[8:10]}/{done[5:7]}/{done[:4]}" if done else "",
        "; ".join(p for p in (item["note"], item["report_ref"]) if p), item["task_id"],
    ]


def _mark(client: TestClient, task_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/tasks/{task_id}/status", json=body, headers=AUTH)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_status_change_needs_the_token_and_records_who(client: TestClient) -> None:
    items = client.get("/api/tasks", params={"agency": "phòng TC-KH"}).json()["items"]
    assert items and all(i["agency"] == "Phòng Tài chính - Kế hoạch" for i in items)
    task = items[0]["task_id"]
    refused = client.post(f"/api/tasks/{task}/status", json={"status": "xong", "by": "Ai đó"})
    assert refused.status_code == 401 and "mã truy cập" in refused.json()["error"]["message"]
    assert client.get(f"/api/tasks/{task}").json()["status"] == "chua_thuc_hien"
    changed = _mark(client, task, {"status": "đang thực hiện", "by": "Phạm Thu", "note": "Đã họp tổ"})
    assert changed["before"]["status"] == "chua_thuc_hien" and changed["after"]["status"] == "dang_thuc_hien"
    state = client.get(f"/api/tasks/{task}").json()
    assert state["status"] == "dang_thuc_hien"
    assert [(h["by"], h["to_status"], h["note"]) for h in state["history"]] == [
        ("Phạm Thu", "dang_thuc_hien", "Đã họp tổ")]
    # bad input: Vietnamese errors, nothing written
    for body in ({"status": "lạ"}, {"status": "không thực hiện"}, {"status": "xong", "done_date": "31/02/2024"},
                 {"status": "xong", "extra": 1}):
        bad = client.post(f"/api/tasks/{task}/status", json=body, headers=AUTH)
        assert bad.status_code in (400, 422), body
    assert client.post("/api/tasks/khongco/status", json={"status": "xong"}, headers=AUTH).status_code == 404
    assert len(client.get(f"/api/tasks/{task}/history").json()["history"]) == 1


def test_overdue_view_and_filters(client: TestClient) -> None:
    overdue = client.get("/api/tasks", params={"overdue": "true"}).json()
    assert overdue["total"] == overdue["counts"]["qua_han"] > 0
    first = overdue["items"][0]
    assert first["notice"]["label"] and first["quote"]
    _mark(client, first["task_id"], {"status": "đã hoàn thành", "by": "Lê Hà", "done_date": "01/06/2024"})
    again = client.get("/api/tasks", params={"status": "quá hạn"}).json()
    assert again["total"] == overdue["total"] - 1
    assert first["task_id"] not in {i["task_id"] for i in again["items"]}
    paged = client.get("/api/tasks", params={"overdue": "true", "limit": 3, "offset": 3}).json()
    assert [i["task_id"] for i in paged["items"]] == [i["task_id"] for i in again["items"][3:6]]
    assert client.get("/api/tasks", params={"status": "???"}).status_code == 422


def test_xlsx_and_csv_hold_the_api_rows(client: TestClient, tmp_path: Path) -> None:
    params = {"agency": "Phòng Tài nguyên và Môi trường"}
    api = client.get("/api/tasks", params=params).json()["items"]
    _mark(client, api[1]["task_id"], {"status": "đã hoàn thành", "by": "Võ An", "note": "Đã gửi hồ sơ",
                                     "report_ref": "Báo cáo số 12/BC-TNMT ngày 02/4/2024",
                                     "done_date": "02/04/2024"})
    api = client.get("/api/tasks", params=params).json()["items"]
    expected = [_expected_row(n, item) for n, item in enumerate(api, 1)]
    assert any(row[9] == "02/04/2024" and "12/BC-TNMT" in row[10] for row in expected)

    response = client.get("/api/tasks/export", params={**params, "format": "xlsx"})
    assert response.status_code == 200
    assert "attachment" in response.headers["content-disposition"]
    path = tmp_path / "nhiem-vu.xlsx"
    path.write_bytes(response.content)
    book = load_workbook(path)
    assert book.sheetnames == [SHEET_LIST, SHEET_SUMMARY]
    sheet = book[SHEET_LIST]
    top = [c.value for c in sheet[1]]
    sub = [c.value for c in sheet[2]]
    assert top[:5] == ["STT", "Nội dung nhiệm vụ", "Cơ quan chủ trì", "Cơ quan phối hợp", "Thời hạn"]
    assert top[5] == "Văn bản giao" and sub[5:8] == ["Số", "Ngày", "Trích yếu"]
    assert top[8:11] == ["Tình trạng", "Ngày hoàn thành", "Ghi chú"]
    assert sheet.freeze_panes == "C3"
    assert sheet.column_dimensions["B"].width >= 40
    assert sheet.cell(row=3, column=2).alignment.wrap_text
    rows = [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert rows == expected
    summary = {r[0]: r[1] for r in book[SHEET_SUMMARY].iter_rows(min_row=5, values_only=True) if r[0]}
    assert summary["đã hoàn thành"] == 1 and summary["Tổng số"] == len(api)

    csv_response = client.get("/api/tasks/export", params={**params, "format": "csv"})
    assert csv_response.content.startswith(b"\xef\xbb\xbf")
    parsed = list(csv.reader(io.StringIO(csv_response.content.decode("utf-8-sig"))))
    assert parsed[0] == list(CSV_HEADER)
    assert parsed[1:] == expected

    program = find_converter("soffice")
    if program is None or not (Path(os.path.realpath(program)).parent / "libsclo.so").exists():
        pytest.skip("LibreOffice Calc not installed (scripts/install_spreadsheet.sh): the .xlsx "
                    "was read back with openpyxl only")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        # CSV filter options: comma, double quote, UTF-8 (76)
        subprocess.run([program, f"-env:UserInstallation={(out / 'profile').as_uri()}", "--headless",
                        "--norestore", "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76",
                        "--outdir", str(out), str(path)], check=True, capture_output=True, timeout=180)
        converted = list(csv.reader(io.StringIO((out / "nhiem-vu.csv").read_text("utf-8"))))
    assert converted[0][:5] == list(CSV_HEADER[:5]) and converted[1][5:8] == ["Số", "Ngày", "Trích yếu"]
    assert [r[1] for r in converted[2:]] == [item["task"] for item in api]
    assert [r[11] for r in converted[2:]] == [item["task_id"] for item in api]


def test_report_passes_the_format_check(client: TestClient, index: Path, tmp_path: Path) -> None:
    items = client.get("/api/tasks", params={"issuer": "Bến Vân"}).json()["items"]
    _mark(client, items[0]["task_id"], {"status": "không thực hiện/điều chỉnh", "by": "Nguyễn Hòa",
                                        "reason": "Nhiệm vụ đã giao cho cấp tỉnh"})
    response = client.get("/api/tasks/report", params={"from": "01/03/2024", "to": "31/03/2024",
                                                        "issuer": "Bến Vân"})
    assert response.status_code == 200, response.text
    path = tmp_path / "bao-cao.docx"
    path.write_bytes(response.content)
    report = check_docx(path)
    assert report.ok, [f.message for f in report.findings]
    import docx

    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert "BÁO CÁO" in text and "UBND thị xã Bến Vân" in text
    assert f"Tổng số nhiệm vụ được giao: {len(items)} nhiệm vụ." in text
    assert "NHIỆM VỤ QUÁ HẠN CHƯA HOÀN THÀNH" in text and "quá hạn" in text
    assert "lý do: Nhiệm vụ đã giao cho cấp tỉnh" in text
    assert "số 45/TB-UBND ngày 15/03/2024" in text  # every task cites its notice
    # the command line writes the same kind of report, and 'assistant check' passes it
    out = tmp_path / "bc-cli.docx"
    env = {"ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}
    made = CliRunner().invoke(cli_app, ["tasks", "report", "--from", "01/01/2024", "--to", "31/12/2024",
                                        "--agency", "phong tnmt", "-o", str(out)], env=env)
    assert made.exit_code == 0, made.stderr
    checked = CliRunner().invoke(cli_app, ["check", str(out)], env=env)
    assert checked.exit_code == 0 and "Đạt" in checked.stdout
    bad = CliRunner().invoke(cli_app, ["tasks", "report", "--from", "31/12/2024", "--to", "01/01/2024",
                                       "-o", str(tmp_path / "x.docx")], env=env)
    assert bad.exit_code != 0 and "Lỗi" in bad.stderr and not (tmp_path / "x.docx").exists()


def test_cli_export_writes_both_formats(client: TestClient, index: Path, tmp_path: Path) -> None:
    env = {"ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(index)}
    for name in ("ds.xlsx", "ds.csv"):
        done = CliRunner().invoke(cli_app, ["tasks", "export", str(tmp_path / name), "--overdue"], env=env)
        assert done.exit_code == 0, done.stderr
    total = client.get("/api/tasks", params={"overdue": "true"}).json()["total"]
    assert load_workbook(tmp_path / "ds.xlsx")[SHEET_LIST].max_row == total + 2
    assert len((tmp_path / "ds.csv").read_text("utf-8-sig").strip().splitlines()) >= total + 1
    wrong = CliRunner().invoke(cli_app, ["tasks", "export", str(tmp_path / "ds.pdf")], env=env)
    assert wrong.exit_code != 0 and ".xlsx" in wrong.stderr
