"""Scans in the real page (issue #15): uploading a scanned PDF shows the OCR pages being read in
the status line, then the result marked OCR with its confidence; the notice list carries an
'OCR …%' badge and the viewer says how the text was read. Same set-up as tests/test_browser.py
(Debian's chromium, headless, the real app under uvicorn); skips without chromium or OCR."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from browser_wait import wait_for as _wait_for

from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.settings import Settings
from tests.conftest import SAMPLES
from tests.scans import image_only_pdf, ocr_missing, page_images, print_to_pdf

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
if find_chromium() is None and os.environ.get("CI"):
    raise RuntimeError("CI: chromium/chromedriver missing although make test installs them")
if find_chromium() is None:
    pytest.skip("chromium/chromedriver not found: run scripts/install_browser.sh", allow_module_level=True)
if ocr_missing():
    if os.environ.get("CI"):
        raise RuntimeError(f"CI: {ocr_missing()}, although make test installs it")
    pytest.skip(ocr_missing() or "", allow_module_level=True)

from selenium.webdriver.common.by import By

T = TypeVar("T")



def wait_for(check: Callable[[], T | None], timeout_s: float = 120.0, what: str = "condition") -> T:
    return _wait_for(check, timeout_s, what)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = Settings(index=tmp_path_factory.mktemp("ocr-index"), embedding={"backend": "fake"},
                        load={"ocr_workers": 1})  # one page at a time: the status line shows each
    with running_server(settings) as url:
        driver = chrome_driver(1280, 900)
        try:
            yield {"url": url, "driver": driver, "tmp": tmp_path_factory.mktemp("ocr-files")}
        finally:
            driver.quit()


def test_scan_upload_shows_pages_then_the_ocr_mark(site: dict[str, Any]) -> None:
    pages = page_images(print_to_pdf(SAMPLES / "notices" / "2025-09-05_xa-tan-lam_thang-08.docx"))
    scan: Path = site["tmp"] / "ban-quet.pdf"
    scan.write_bytes(image_only_pdf(pages))
    driver = site["driver"]
    driver.get(f"{site['url']}/#notices")
    wait_for(lambda: driver.find_element(By.ID, "view-notices").is_displayed(), what="notices view")
    driver.find_element(By.ID, "upload-input").send_keys(str(scan))
    driver.find_element(By.ID, "upload-button").click()
    progress = wait_for(lambda: "nhận dạng chữ (OCR) «ban-quet.pdf»: trang" in (
        driver.find_element(By.ID, "upload-status").text) and driver.find_element(By.ID, "upload-status").text,
        what="OCR page progress")
    assert "/3" in progress
    result = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#upload-results li.ok"), what="upload")
    assert "OCR (bản quét không có lớp chữ), độ tin cậy" in result[0].text
    badge = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice-row .ocr-badge"), what="badge")
    assert badge[0].text.startswith("OCR ") and badge[0].text.endswith("%")
    driver.find_element(By.XPATH, "//article[contains(@class,'notice-row')]//button[text()='Mở']").click()
    meta = wait_for(lambda: "OCR (" in driver.find_element(By.ID, "viewer-meta").text
                    and driver.find_element(By.ID, "viewer-meta").text, what="viewer OCR line")
    assert "độ tin cậy" in meta
    assert "Phạm Thị Hồng Nhung" in driver.find_element(By.ID, "viewer-text").text
