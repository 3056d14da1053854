"""The chat page in a real browser (issue #12): the examples of the issue with and without
diacritics, the copy button, and the conversation kept across a reload (a follow-up asked after
the reload still follows). Same set-up as tests/test_browser.py: Debian's chromium, headless,
against the real app served by uvicorn; skips when chromium is missing."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from browser_wait import wait_for as _wait_for
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.settings import Settings

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
if find_chromium() is None and os.environ.get("CI"):
    raise RuntimeError("CI: chromium/chromedriver missing although make test installs them")
if find_chromium() is None:
    pytest.skip("chromium/chromedriver not found: run scripts/install_browser.sh", allow_module_level=True)

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
T = TypeVar("T")



def wait_for(check: Callable[[], T | None], timeout_s: float = 30.0, what: str = "condition") -> T:
    return _wait_for(check, timeout_s, what)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    settings = Settings(index=tmp_path_factory.mktemp("chat-index"), embedding={"backend": "fake"})
    with TestClient(create_app(settings)) as client:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
                 for p in sorted((SAMPLES / "notices").iterdir())]
        assert client.post("/api/notices", files=files).status_code == 200
    with running_server(settings) as url:
        driver = chrome_driver(1280, 900)
        try:
            yield {"url": url, "driver": driver}
        finally:
            driver.quit()


def _answers(driver: Any) -> list[WebElement]:
    return list(driver.find_elements(By.CSS_SELECTOR, ".msg.assistant"))


def _ask(driver: Any, question: str) -> WebElement:
    before = len(_answers(driver))
    box = driver.find_element(By.ID, "chat-input")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)

    def done() -> WebElement | None:
        answers = _answers(driver)
        if len(answers) > before and answers[-1].get_attribute("aria-busy") is None:
            return answers[-1]
        return None

    return wait_for(done, what=f"the answer to {question!r}")


def _open_chat(site: dict[str, Any]) -> Any:
    driver = site["driver"]
    driver.get(f"{site['url']}/#chat")
    wait_for(lambda: driver.find_element(By.ID, "view-chat").is_displayed(), what="the chat")
    return driver


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Ai ký thông báo số 45/TB-UBND?", "Lê Thị Thu Hà"),
        ("ai ky thong bao so 45/tb-ubnd?", "Lê Thị Thu Hà"),
        ("phong tc-kh thi xa ben van", "lập dự toán mua sắm trang thiết bị"),
        ("Thu ngân sách năm 2025 của tỉnh Cao Bằng đạt bao nhiêu?", "Chưa có thông báo nào về Cao Bằng"),
        ("thu ngan sach nam 2025 cua tinh cao bang dat bao nhieu?", "Chưa có thông báo nào về Cao Bằng"),
        ("Việc tổ chức tiêm vắc xin sởi cho trẻ ở xã Tân Lam do ai chủ trì?", "Phòng Văn hóa - Xã hội chủ trì việc này"),
    ],
)
def test_the_issue_examples_in_the_page(site: dict[str, Any], question: str, expected: str) -> None:
    driver = _open_chat(site)
    answer = _ask(driver, question)
    assert expected in answer.text
    assert "assistant " not in answer.text and "samples/" not in answer.text


def test_overdue_items_say_by_how_many_days(site: dict[str, Any]) -> None:
    driver = _open_chat(site)
    answer = _ask(driver, "nhung nhiem vu nao cua thi xa ben van dang qua han?")
    days = (dt.date.today() - dt.date(2024, 4, 20)).days
    assert f"trước ngày 20/4/2024 (đã quá hạn {days} ngày)" in answer.text


def test_copy_button_copies_the_answer_and_its_sources(site: dict[str, Any]) -> None:
    driver = _open_chat(site)
    driver.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": site["url"], "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    answer = _ask(driver, "Ai ký thông báo số 45/TB-UBND?")
    button = answer.find_element(By.CSS_SELECTOR, "button.copy-answer")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
    button.click()
    wait_for(lambda: button.text == "Đã sao chép", what="the copy to finish")
    copied = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, (e) => done('ERROR ' + e));"
    )
    assert "Lê Thị Thu Hà" in copied and "Nguồn:" in copied and "[1]" in copied


def test_the_conversation_survives_a_reload(site: dict[str, Any]) -> None:
    driver = _open_chat(site)
    driver.find_element(By.ID, "chat-new").click()
    first = _ask(driver, "Thông báo 45/TB-UBND giao những việc gì?")
    assert "18 lượt giao nhiệm vụ" in first.text
    driver.refresh()
    wait_for(lambda: len(_answers(driver)) == 1, what="the turn shown again after the reload")
    assert "18 lượt giao nhiệm vụ" in _answers(driver)[0].text
    assert driver.find_elements(By.CSS_SELECTOR, ".msg.assistant button.cite")  # citations work again
    follow_up = _ask(driver, "trong so do viec nao cua phong TNMT?")
    assert "Phòng Tài nguyên và Môi trường được giao 3 nhiệm vụ" in follow_up.text
