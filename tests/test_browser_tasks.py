"""The task follow-up view in a real browser (issue #14): filter one agency's overdue tasks,
mark one done, see it leave the overdue list, export the list to Excel, and print only the list
under the office's header. Debian's chromium, headless, driven by Selenium, against the real app
served by uvicorn (as tests/test_browser.py); skips when chromium/chromedriver are missing."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from browser_wait import wait_for
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.settings import Settings

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
if find_chromium() is None and os.environ.get("CI"):
    raise RuntimeError("CI: chromium/chromedriver missing although make test installs them")
if find_chromium() is None:
    pytest.skip("chromium/chromedriver not found: run scripts/install_browser.sh", allow_module_level=True)

from openpyxl import load_workbook
from pypdf import PdfReader
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
T = TypeVar("T")




@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = Settings(index=tmp_path_factory.mktemp("tasks-browser"), embedding={"backend": "fake"})
    with TestClient(create_app(settings)) as client:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
                 for p in sorted((SAMPLES / "notices").iterdir())]
        assert client.post("/api/notices", files=files).status_code == 200
    downloads = tmp_path_factory.mktemp("task-downloads")
    with running_server(settings) as url:
        driver = chrome_driver(1366, 900, download_dir=str(downloads))
        driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
        try:
            yield {"url": url, "driver": driver, "downloads": downloads, "settings": settings}
        finally:
            driver.quit()


def _rows(driver: Any) -> list[Any]:
    rows: list[Any] = driver.find_elements(By.CSS_SELECTOR, "#tasks-body tr.tracked")
    return rows


def _ids(driver: Any) -> list[str]:
    return [r.get_attribute("data-task-id") for r in _rows(driver)]


def test_mark_done_in_agency_view_leaves_overdue_list_then_export_and_print(site: dict[str, Any]) -> None:
    driver = site["driver"]
    driver.get(f"{site['url']}/#tasks")
    wait_for(lambda: driver.find_element(By.ID, "view-tasks").is_displayed(), what="the tasks view")
    wait_for(lambda: _rows(driver), what="all tasks")
    driver.find_element(By.ID, "tasks-by").send_keys("Đỗ Minh Châu")
    driver.find_element(By.ID, "tasks-agency").send_keys("phong tai nguyen va moi truong")
    Select(driver.find_element(By.ID, "tasks-status")).select_by_value("qua_han")
    wait_for(lambda: driver.find_element(By.ID, "tasks-print-scope").get_attribute("textContent").startswith("Cơ quan: Phòng Tài nguyên"),
             what="the agency's overdue list")
    before = wait_for(lambda: _ids(driver), what="overdue rows")
    summary = driver.find_element(By.ID, "tasks-summary").text
    assert f"{len(before)} nhiệm vụ" in summary and f"{len(before)} quá hạn" in summary
    first = _rows(driver)[0]
    assert "Quá hạn" in first.text and "Phòng Tài nguyên và Môi trường" in first.text
    # every row names its notice and opens the cited passage
    assert all(("ngày" in r.find_element(By.CSS_SELECTOR, ".task-notice").text) for r in _rows(driver))
    first.find_element(By.CSS_SELECTOR, "button.source-link").click()
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#viewer mark.quote").text, what="source passage")
    driver.find_element(By.ID, "viewer-close").click()

    target = before[0]
    first = _rows(driver)[0]
    first.find_element(By.CSS_SELECTOR, "button.task-edit").click()
    Select(first.find_element(By.CSS_SELECTOR, "select.task-status-select")).select_by_value("da_hoan_thanh")
    first.find_element(By.CSS_SELECTOR, "input.task-note").send_keys("Đã hoàn thành, gửi báo cáo")
    first.find_element(By.CSS_SELECTOR, "button.task-save").click()
    after = wait_for(lambda: (ids := _ids(driver)) and len(ids) == len(before) - 1 and ids, what="row leaves the list")
    assert target not in after and after == before[1:]

    # the change is stored with the name typed, and shows under 'đã hoàn thành'
    with TestClient(create_app(site["settings"])) as client:
        state = client.get(f"/api/tasks/{target}").json()
    assert state["status"] == "da_hoan_thanh" and state["history"][0]["by"] == "Đỗ Minh Châu"
    Select(driver.find_element(By.ID, "tasks-status")).select_by_value("da_hoan_thanh")
    wait_for(lambda: _ids(driver) == [target], what="the done list")
    assert "đã hoàn thành" in _rows(driver)[0].text
    Select(driver.find_element(By.ID, "tasks-status")).select_by_value("qua_han")
    wait_for(lambda: _ids(driver) == after, what="the overdue list again")

    # export: the Excel file holds the rows shown
    driver.find_element(By.ID, "tasks-xlsx").click()
    files = wait_for(lambda: [p for p in site["downloads"].glob("*.xlsx")], what="the .xlsx download")
    sheet = load_workbook(files[0]).worksheets[0]
    exported = [row[11] for row in sheet.iter_rows(min_row=3, values_only=True)]
    assert exported == after

    # print: only the list, under the office's header (no tabs, forms, buttons, chat)
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False, "preferCSSPageSize": True})
    reader = PdfReader(io.BytesIO(base64.b64decode(pdf["data"])))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "DANH SÁCH NHIỆM VỤ ĐƯỢC GIAO" in text
    assert "UBND" in text.upper() or "ỦY BAN" in text.upper()
    for screen_only in ("Hỏi đáp", "Tải Excel", "Cập nhật", "Xem nguồn", "Người cập nhật"):
        assert screen_only not in text, screen_only
    assert len(reader.pages) <= max(1, len(after) // 3 + 1)
