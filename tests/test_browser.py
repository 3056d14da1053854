"""The web page in a real browser: Debian's chromium, headless, driven by Selenium, against the
real app served by uvicorn on a loopback port. Skips when chromium/chromedriver are missing
(``scripts/install_browser.sh`` installs them)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import pytest
from browser_wait import wait_for
from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.prompts import RELATED_HEADING
from assistant.settings import Settings

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
if find_chromium() is None and os.environ.get("CI"):
    # CI promises a real-browser run: make test installs chromium first, so missing is a failure.
    raise RuntimeError("CI: chromium/chromedriver missing although make test installs them")
if find_chromium() is None:
    pytest.skip(
        "chromium/chromedriver not found: run scripts/install_browser.sh to run the browser test",
        allow_module_level=True,
    )

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import Select

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
T = TypeVar("T")

# Our own fictional notice whose text carries markup: it must show as text, never run.
SCRIPT_NOTICE = """UBND XÃ THỬ NGHIỆM

THÔNG BÁO
Kết luận của đồng chí Chủ tịch UBND xã tại cuộc họp kiểm thử <script>window.__pwned = 1</script>

Ngày 02/02/2024, UBND xã họp kiểm thử hiển thị văn bản.

II. NHIỆM VỤ
- Phòng Kinh tế xã chủ trì rà soát <img src=x onerror="window.__pwned = 2"> trước ngày 10/02/2024.
"""


def _routine_notice(month: int) -> str:
    """Our own fictional monthly notice: four tasks of Phòng Kinh tế (two dated and past, one
    recurring, one without a deadline)."""
    return f"""UBND XÃ THỬ NGHIỆM

THÔNG BÁO
Kết luận của Chủ tịch UBND xã tại cuộc họp giao ban tháng {month} năm 2024

Ngày 05/{month:02d}/2024, UBND xã họp giao ban định kỳ tháng {month}.

II. NHIỆM VỤ
1. Phòng Kinh tế chủ trì rà soát sổ theo dõi đợt {month}.1 trước ngày 20/{month:02d}/2024.
2. Phòng Kinh tế chủ trì kiểm kê kho vật tư đợt {month}.2 trước ngày 25/{month:02d}/2024.
3. Phòng Kinh tế chủ trì cập nhật bảng kê đợt {month}.3 hằng tháng.
4. Phòng Kinh tế chủ trì tổng hợp ý kiến cử tri đợt {month}.4.
"""


ROUTINE_MONTHS = (1, 2, 3)  # 3 notices x 4 tasks
PAGE_SIZE = 5  # so that pages end inside a notice: 5 rows = 4 of March + 1 of February




@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    index = tmp_path_factory.mktemp("browser-index")
    settings = Settings(index=index, embedding={"backend": "fake"})
    notices = sorted((SAMPLES / "notices").iterdir())
    with TestClient(create_app(settings)) as client:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in notices[:3]]
        assert client.post("/api/notices", files=files).status_code == 200
    downloads = tmp_path_factory.mktemp("downloads")
    with running_server(settings) as url:
        driver = chrome_driver(1280, 900, download_dir=str(downloads))
        driver.execute_cdp_cmd(
            "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
        )
        try:
            yield {"url": url, "driver": driver, "downloads": downloads, "remaining": notices[3:],
                   "tmp": tmp_path_factory.mktemp("files")}
        finally:
            driver.quit()


@pytest.fixture(scope="module")
def paged_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server of its own (the shared one's notice counts are asserted elsewhere)
    holding one agency with more tasks than a page."""
    settings = Settings(index=tmp_path_factory.mktemp("paged-index"), embedding={"backend": "fake"})
    with TestClient(create_app(settings)) as client:
        files = [("files", (f"giao-ban-{m}.txt", _routine_notice(m).encode(), "text/plain"))
                 for m in ROUTINE_MONTHS]
        response = client.post("/api/notices", files=files)
        assert [r["assignments"] for r in response.json()["results"]] == [4] * len(ROUTINE_MONTHS)
    with running_server(settings) as url:
        yield url


def _click(driver: Any, element: WebElement) -> None:
    # The chat form is sticky at the bottom: bring the element to the middle first.
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    element.click()


def _open(site: dict[str, Any], view: str) -> Any:
    driver = site["driver"]
    driver.get(f"{site['url']}/#{view}")
    wait_for(lambda: driver.find_element(By.ID, f"view-{view}").is_displayed(), what=f"view {view}")
    return driver


def _ask(driver: Any, question: str, answers_before: int) -> WebElement:
    box = driver.find_element(By.ID, "chat-input")
    box.send_keys(question)
    box.send_keys(Keys.ENTER)

    def done() -> WebElement | None:
        answers = driver.find_elements(By.CSS_SELECTOR, ".msg.assistant")
        if len(answers) > answers_before and answers[-1].get_attribute("aria-busy") is None:
            answer: WebElement = answers[-1]
            return answer
        return None

    return wait_for(done, what="the answer")


def test_chat_answer_citation_opens_highlighted_passage(site: dict[str, Any]) -> None:
    driver = _open(site, "chat")
    answer = _ask(driver, "phòng TNMT được giao những việc gì?", 0)
    assert "Phòng Tài nguyên và Môi trường" in answer.text
    cites = answer.find_elements(By.CSS_SELECTOR, "button.cite")
    assert len(cites) >= 2
    _click(driver, cites[-1])
    mark = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#viewer mark.quote"), what="highlight")
    assert driver.find_element(By.ID, "viewer").is_displayed()
    quote = mark.text.strip()
    assert len(quote) > 20
    # The highlighted passage is the one the answer quotes, and it is scrolled into view.
    # (the answer shows the sentence without the list marker it has in the notice)
    assert quote.lstrip("-+*• ")[:30] in answer.text.replace("\n", " ")
    visible = driver.execute_script(
        "const m = document.querySelector('#viewer mark.quote').getBoundingClientRect();"
        "const b = document.getElementById('viewer-text').getBoundingClientRect();"
        "return m.top >= b.top - 1 && m.top < b.bottom;"
    )
    assert visible

    # a follow-up in the same conversation
    follow = _ask(driver, "còn phòng TC-KH thì sao?", 1)
    assert "Tài chính - Kế hoạch" in follow.text
    assert follow.find_elements(By.CSS_SELECTOR, "button.cite")


def test_agency_view_lists_tasks_with_overdue_marks(site: dict[str, Any]) -> None:
    driver = _open(site, "agency")
    field = driver.find_element(By.ID, "agency-input")
    field.send_keys("phong tai nguyen va moi truong")
    field.send_keys(Keys.ENTER)
    tasks = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#agency-result li.task"), what="tasks")
    assert "Phòng Tài nguyên và Môi trường" in driver.find_element(By.ID, "agency-result").text
    assert driver.find_elements(By.CSS_SELECTOR, "#agency-result .badge.danger")  # sample deadlines are past
    _click(driver, tasks[0].find_element(By.CSS_SELECTOR, "button.source-link"))
    wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "#viewer mark.quote").text, what="source passage")


def test_agency_view_suggests_the_closest_agencies(site: dict[str, Any]) -> None:
    driver = _open(site, "agency")
    field = driver.find_element(By.ID, "agency-input")
    field.clear()
    field.send_keys("Sở Tài chánh")
    field.send_keys(Keys.ENTER)
    chips = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#agency-result .suggestions button"),
                     what="suggestions")
    assert "Không tìm thấy cơ quan nào khớp" in driver.find_element(By.ID, "agency-result").text
    assert chips[0].text == "Sở Tài chính"
    _click(driver, chips[0])
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#agency-result li.task"), what="tasks")
    assert driver.find_element(By.CSS_SELECTOR, "#agency-result h2").text == "Sở Tài chính (cấp tỉnh)"
    assert driver.find_element(By.ID, "agency-input").get_attribute("value") == "Sở Tài chính"


def test_agency_view_shows_related_passages_apart_and_opens_them(site: dict[str, Any]) -> None:
    # A sample notice names phòng Y tế in a task given to another office: no record of its own.
    driver = _open(site, "agency")
    field = driver.find_element(By.ID, "agency-input")
    field.clear()
    field.send_keys("phòng Y tế", Keys.ENTER)
    section = wait_for(lambda: driver.find_element(By.ID, "agency-related"), what="related passages")
    assert section.find_element(By.TAG_NAME, "h3").text == RELATED_HEADING
    assert not section.find_elements(By.CSS_SELECTOR, "li.task")  # set apart from the tasks
    item = section.find_elements(By.CSS_SELECTOR, "li.related-item")[0]
    quote = item.find_element(By.CSS_SELECTOR, ".related-quote").text
    assert "phòng Y tế" in quote
    _click(driver, item.find_element(By.CSS_SELECTOR, "button.source-link"))
    wait_for(lambda: " ".join(driver.find_element(By.CSS_SELECTOR, "#viewer mark.quote").text.split()) == quote,
             what="the passage highlighted in its notice")


def _agency_state(driver: Any) -> dict[str, Any]:
    return dict(driver.execute_script(
        "const r = document.getElementById('agency-result');"
        "const more = document.getElementById('agency-more');"
        "return {rows: r.querySelectorAll('li.task').length,"
        " headings: Array.from(r.querySelectorAll('.notice-group h3')).map((h) => h.textContent),"
        " overdue: r.querySelectorAll('li.task.is-overdue').length,"
        " summary: (document.getElementById('agency-summary') || {}).textContent || '',"
        " heading: (r.querySelector('.result-head h2') || {}).textContent || '',"
        " status: document.getElementById('agency-status').textContent,"
        " more: !!more && more.offsetParent !== null,"
        " focus: document.activeElement.tagName + '.' + document.activeElement.className};"
    ))


def _has_rows(rows: int, state: dict[str, Any]) -> bool:
    return bool(state["rows"] == rows)


def _wait_state(driver: Any, done: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        state = _agency_state(driver)
        return state if done(state) else None

    return wait_for(check, what=what)


def test_agency_view_pages_with_more_button(site: dict[str, Any], paged_url: str) -> None:
    driver = site["driver"]
    driver.get(f"{paged_url}/?page_size={PAGE_SIZE}#agency")
    field = wait_for(lambda: driver.find_element(By.ID, "agency-input"), what="agency form")
    field.send_keys("phong kinh te", Keys.ENTER)
    state = _wait_state(driver, lambda s: s["rows"] > 0, "first page")
    total = 4 * len(ROUTINE_MONTHS)
    assert state["rows"] == PAGE_SIZE
    assert state["heading"].startswith("Phòng Kinh tế")
    assert f"Được giao {total} nhiệm vụ" in state["summary"]
    assert state["status"].startswith("Phòng Kinh tế (cấp huyện): Được giao")  # what a screen reader hears
    assert "6 quá hạn" in state["summary"]  # of all the rows, not only of the page shown
    assert f"đang hiển thị {PAGE_SIZE}" in state["summary"]
    assert len(state["headings"]) == 2 and state["more"]

    more = driver.find_element(By.ID, "agency-more")
    assert more.tag_name == "button" and f"còn {total - PAGE_SIZE}" in more.text
    expected_rows = [2 * PAGE_SIZE, total]
    for click, rows in enumerate(expected_rows, start=1):
        _click(driver, more)
        state = _wait_state(driver, partial(_has_rows, rows), f"{rows} rows after click {click}")
        # A notice cut by the page boundary keeps one heading; its rows continue under it.
        assert len(state["headings"]) == len(set(state["headings"])) == len(ROUTINE_MONTHS)
        assert f"Được giao {total} nhiệm vụ" in state["summary"]
        if click < len(expected_rows):
            assert state["more"] and state["focus"].startswith("BUTTON.more")
            assert f"đang hiển thị {rows}" in state["summary"]
    assert not state["more"]
    assert "đang hiển thị" not in state["summary"] and "đã hiển thị tất cả" in state["summary"]
    assert state["focus"].startswith("LI.task")  # not lost to the page's top with the button
    texts = driver.find_element(By.ID, "agency-result").text
    for month in ROUTINE_MONTHS:  # newest notice first, every task once
        for task in range(1, 5):
            assert texts.count(f"đợt {month}.{task}") == 1

    # The overdue filter is applied by the server: a true total and pages of overdue rows only.
    Select(driver.find_element(By.ID, "agency-filter")).select_by_value("overdue")
    state = _wait_state(driver, lambda s: "Được giao 6 nhiệm vụ quá hạn (tính đến" in s["summary"], "overdue filter")
    assert state["rows"] == state["overdue"] == PAGE_SIZE and state["more"]
    _click(driver, driver.find_element(By.ID, "agency-more"))
    state = _wait_state(driver, lambda s: s["rows"] == 6, "all overdue rows")
    assert state["overdue"] == 6 and not state["more"]

    # "Tất cả thời hạn" pages the same way (flat, upcoming deadlines first; these are all past,
    # so the most recent first), with the filter.
    _click(driver, driver.find_element(By.ID, "deadlines-button"))
    state = _wait_state(driver, lambda s: s["summary"].startswith("6 nhiệm vụ quá hạn"), "overdue deadlines")
    assert state["rows"] == state["overdue"] == PAGE_SIZE and state["more"]
    Select(driver.find_element(By.ID, "agency-filter")).select_by_value("all")
    dated = 2 * len(ROUTINE_MONTHS)
    with_deadline = 3 * len(ROUTINE_MONTHS)  # the recurring ones too, after the dated ones
    state = _wait_state(driver, lambda s: s["summary"].startswith(f"{with_deadline} nhiệm vụ có thời hạn"),
                        "all deadlines")
    assert f"{dated} quá hạn" in state["summary"] and state["rows"] == PAGE_SIZE
    _click(driver, driver.find_element(By.ID, "agency-more"))
    state = _wait_state(driver, partial(_has_rows, with_deadline), "all deadline rows")
    assert not state["more"] and state["overdue"] == dated
    deadlines = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#agency-result .deadline")]
    assert deadlines[0] == "Hạn: trước ngày 25/03/2024Quá hạn" and deadlines[-1].startswith("Hạn: hằng tháng")
    # each row names its notice
    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#agency-result .task-notice-label")]
    assert len(labels) == with_deadline and labels[0].endswith("ngày 05/03/2024")


def test_upload_then_script_text_is_shown_as_text(site: dict[str, Any]) -> None:
    driver = _open(site, "notices")
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".notice-row")) == 3, what="3 notices")
    script_file = site["tmp"] / "kiem-thu-script.txt"
    script_file.write_text(SCRIPT_NOTICE, encoding="utf-8")
    upload = driver.find_element(By.ID, "upload-input")
    upload.send_keys(str(site["remaining"][0]) + "\n" + str(script_file))
    _click(driver, driver.find_element(By.ID, "upload-button"))
    results = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#upload-results li.ok"), what="upload")
    assert len(results) == 2
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".notice-row")) == 5, what="5 notices")

    row = next(r for r in driver.find_elements(By.CSS_SELECTOR, ".notice-row") if "kiem-thu-script" in r.text)
    _click(driver, row.find_element(By.XPATH, ".//button[text()='Mở']"))
    text = wait_for(lambda: driver.find_element(By.ID, "viewer-text").text, what="notice text")
    assert "<script>window.__pwned = 1</script>" in text
    assert '<img src=x onerror="window.__pwned = 2">' in text
    assert driver.execute_script("return window.__pwned === undefined")
    assert not driver.find_elements(By.CSS_SELECTOR, "#viewer-text script, #viewer-text img, .notice-row img")


@pytest.fixture(scope="module")
def small_upload_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server of its own with a small per-file limit (the shared one's counts are asserted
    elsewhere): a request of a few hundred kB is then too large as a whole."""
    settings = Settings(index=tmp_path_factory.mktemp("small-upload-index"),
                        embedding={"backend": "fake"}, server={"max_upload_bytes": 300_000})
    with running_server(settings) as url:
        yield url


def test_upload_reports_each_file_and_one_bad_file_never_keeps_the_others_out(
    site: dict[str, Any], small_upload_url: str
) -> None:
    """Good file, corrupt .doc, wrong type and a file too large for the whole request, in one
    upload: the server answers per file, and the page sends the files one by one when the
    request as a whole is refused (413), so the good file still lands."""
    driver = site["driver"]
    folder = site["tmp"] / "mixed"
    folder.mkdir()
    good = folder / "thong-bao-tot.txt"
    good.write_bytes((SAMPLES / "notices" / "2024-03-15_tx-ben-van_thang-03.txt").read_bytes())
    corrupt = folder / "hong.doc"
    corrupt.write_bytes(bytes(range(256)) * 12)
    wrong = folder / "anh.exe"
    wrong.write_bytes(b"MZ")
    huge = folder / "qua-lon.txt"
    huge.write_bytes(b"a" * 3_000_000)
    driver.get(f"{small_upload_url}/#notices")
    wait_for(lambda: driver.find_element(By.ID, "view-notices").is_displayed(), what="notices view")
    upload = driver.find_element(By.ID, "upload-input")
    upload.send_keys("\n".join(str(p) for p in (good, corrupt, wrong, huge)))
    _click(driver, driver.find_element(By.ID, "upload-button"))
    rows = wait_for(lambda: [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#upload-results li")
                             if "Đang nạp" not in li.text] or None, what="per-file results")
    ok = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#upload-results li.ok")]
    failed = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#upload-results li.failed")]
    assert len(rows) == 4, rows
    assert len(ok) == 1 and "thong-bao-tot.txt" in ok[0]
    assert [next(n for n in ("hong.doc", "anh.exe", "qua-lon.txt") if n in t) for t in failed] == [
        "hong.doc", "anh.exe", "qua-lon.txt"]
    assert "không phải tệp Word" in failed[0] and "'.exe'" in failed[1]
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".notice-row")) == 1, what="1 notice")


def test_delete_a_notice(site: dict[str, Any]) -> None:
    driver = _open(site, "notices")
    rows = wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice-row"), what="rows")
    before = len(rows)
    row = next(r for r in rows if "kiem-thu-script" in r.text)
    _click(driver, row.find_element(By.XPATH, ".//button[text()='Xóa']"))
    driver.switch_to.alert.accept()
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".notice-row")) == before - 1, what="row removed")
    assert "kiem-thu-script" not in driver.find_element(By.ID, "notices-list").text


def _wait_rows(driver: Any, selector: str, count: int) -> None:
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, selector)) == count, what=f"{count} {selector}")


def test_notices_list_builds_a_page_of_rows_at_a_time(site: dict[str, Any]) -> None:
    driver = site["driver"]
    driver.get(f"{site['url']}/?page_size=2#notices")
    title = wait_for(lambda: re.search(r"\((\d+)\)", driver.find_element(By.ID, "notices-title").text),
                     what="notice count")
    stored = int(title.group(1))
    assert stored > 2  # more than a page
    wait_for(lambda: len(driver.find_elements(By.CSS_SELECTOR, ".notice-row")) == 2, what="first page")
    assert f"Đang hiển thị 2 trên {stored} thông báo" in driver.find_element(By.ID, "notices-count").text
    more = driver.find_element(By.ID, "notices-more")
    for shown in range(4, stored + 2, 2):
        _click(driver, more)
        _wait_rows(driver, ".notice-row", min(shown, stored))
    assert not more.is_displayed() and driver.find_element(By.ID, "notices-count").text == ""
    # The filter runs on the whole list, not only on the rows built.
    field = driver.find_element(By.ID, "notices-filter")
    field.send_keys("kiem-thu-khong-co")
    wait_for(lambda: "Không có thông báo nào khớp" in driver.find_element(By.ID, "notices-list").text, what="no match")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.BACKSPACE)
    _wait_rows(driver, ".notice-row", 2)  # first page again


def test_draft_preview_trace_and_docx_download(site: dict[str, Any]) -> None:
    import docx

    driver = _open(site, "draft")
    notes = next((SAMPLES / "notes").glob("*.txt")).read_text(encoding="utf-8")
    # Typing a whole page of notes key by key is slow; set the value as a paste would.
    driver.execute_script("document.getElementById('draft-notes').value = arguments[0];", notes)
    _click(driver, driver.find_element(By.ID, "draft-button"))
    wait_for(lambda: driver.find_element(By.ID, "draft-result").is_displayed(), what="draft")
    preview = driver.find_element(By.ID, "draft-preview").text
    assert "THÔNG BÁO" in preview and "Nơi nhận:" in preview
    rows = driver.find_elements(By.CSS_SELECTOR, "#draft-trace tbody tr")
    assert rows and "dòng" in rows[0].text
    driver.find_element(By.ID, "draft-warnings")  # shown, empty or not

    _click(driver, driver.find_element(By.ID, "draft-download"))
    downloads: Path = site["downloads"]
    path = wait_for(lambda: next(iter(downloads.glob("*.docx")), None), what="the .docx download")
    first_task = rows[0].find_elements(By.TAG_NAME, "td")[1].text
    text = "\n".join(p.text for p in docx.Document(str(path)).paragraphs)
    assert first_task[:30] in text


def test_phone_width_layout(site: dict[str, Any]) -> None:
    driver = site["driver"]
    driver.set_window_size(390, 844)
    try:
        driver = _open(site, "chat")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        inner = driver.execute_script("return window.innerWidth")
        assert width <= inner + 1  # nothing forces sideways scrolling
        tab = driver.find_element(By.ID, "tab-agency")
        assert tab.is_displayed()
    finally:
        driver.set_window_size(1280, 900)


def test_draft_review_form_edit_reaches_the_docx_and_flags_wrong_level(site: dict[str, Any]) -> None:
    """Notes -> the review form -> a task's agency and deadline edited -> the downloaded .docx
    has the edit; an agency of a level that no longer exists, typed into the form, is flagged."""
    import docx

    fixtures = Path(__file__).resolve().parent / "fixtures" / "drafting"
    driver = _open(site, "draft")
    driver.refresh()  # a page of its own: no form or download of an earlier test around
    wait_for(lambda: driver.find_element(By.ID, "view-draft").is_displayed(), what="view draft")
    notes = (fixtures / "01_xa-hoa-thinh_2026_viet-tat.txt").read_text(encoding="utf-8")
    driver.execute_script("document.getElementById('draft-notes').value = arguments[0];", notes)
    _click(driver, driver.find_element(By.ID, "draft-button"))
    # the page may still show an earlier draft's form: wait for this one's
    wait_for(lambda: driver.find_element(By.ID, "review-issuer").get_attribute("value") == "UBND xã Hòa Thịnh",
             what="the review form of these notes")
    agency = driver.find_element(By.ID, "review-agency-0")
    assert agency.get_attribute("value") == "Phòng Kinh tế"

    def retype(element: WebElement, text: str) -> None:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
        element.send_keys(Keys.CONTROL, "a")
        element.send_keys(Keys.BACKSPACE)
        element.send_keys(text)

    retype(agency, "Văn phòng HĐND và UBND xã")
    retype(driver.find_element(By.ID, "review-deadline-0"), "trước ngày 27/3/2026")
    review = driver.find_element(By.ID, "draft-review")
    wait_for(lambda: review.get_attribute("data-state") == "saved"
             and "27/3/2026" in driver.find_element(By.ID, "draft-preview").text, what="the preview updated")
    downloads: Path = site["downloads"]
    # the browser may write over an earlier download of the same name: a new or newer file
    before = {p: p.stat().st_mtime_ns for p in downloads.glob("*.docx")}
    _click(driver, driver.find_element(By.ID, "draft-download"))
    path = wait_for(lambda: next((p for p in downloads.glob("*.docx")
                                  if before.get(p) != p.stat().st_mtime_ns and p.stat().st_size), None),
                    what="the edited .docx")
    document = docx.Document(str(path))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "27/3/2026" in text and "20/3/2026" not in text
    assert "Văn phòng HĐND và UBND xã" in text

    retype(driver.find_element(By.ID, "review-agency-1"), "Công an huyện")
    flags = driver.find_element(By.ID, "review-flags-1")
    wait_for(lambda: "không còn tồn tại" in flags.text, what="the wrong-level agency flagged")
    row = driver.find_element(By.ID, "review-task-1")
    assert "flagged" in (row.get_attribute("class") or "")
    assert any("Công an huyện" in li.text for li in driver.find_elements(By.CSS_SELECTOR, "#draft-warnings li.error"))

    # on a phone the form and the download button fit the width (nothing scrolls sideways)
    driver.set_window_size(390, 844)
    try:
        button = driver.find_element(By.ID, "review-download")
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", button)
        box = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.right, r.top, r.bottom];", button)
        assert button.is_displayed() and box[0] >= 0 and box[1] <= 391 and 0 <= box[2] < box[3] <= 844
        width = driver.execute_script("return document.documentElement.scrollWidth")
        assert width <= driver.execute_script("return window.innerWidth") + 1
    finally:
        driver.set_window_size(1280, 900)
