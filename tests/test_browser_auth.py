"""Accounts in a real browser (Debian's chromium, headless, Selenium) against the real server:
a người xem signs in and cannot delete (no button, and the server refuses the request anyway),
a quản trị signs in, deletes and finds the deletion in the audit page. And a page from another
origin cannot upload with a no-cors multipart fetch. Skips when chromium is missing
(``scripts/install_browser.sh``)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant.accounts import Role
from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.settings import Settings
from tests._auth_helpers import NAMES, PASSWORDS, fictional_notice, served_site
from tests.test_browser import wait_for

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")
if find_chromium() is None and os.environ.get("CI"):
    raise RuntimeError("CI: chromium/chromedriver missing although make test installs them")
if find_chromium() is None:
    pytest.skip("chromium/chromedriver not found: run scripts/install_browser.sh",
                allow_module_level=True)

from selenium.webdriver.common.by import By


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    driver = chrome_driver(1280, 900)
    try:
        yield driver
    finally:
        driver.quit()


def _sign_in(driver: Any, url: str, role: Role) -> None:
    driver.delete_all_cookies()
    driver.get(f"{url}/#notices")
    wait_for(lambda: driver.find_element(By.ID, "login-screen").is_displayed(), what="sign-in form")
    assert not driver.find_element(By.ID, "view-notices").is_displayed()  # nothing before sign-in
    driver.find_element(By.ID, "login-username").send_keys(NAMES[role])
    driver.find_element(By.ID, "login-password").send_keys(PASSWORDS[role])
    driver.find_element(By.ID, "login-submit").click()
    wait_for(lambda: driver.find_element(By.ID, "auth-user").text.startswith(NAMES[role]),
             what="the signed-in user shown")
    wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, "#notices-list .notice-row"), what="notices")


def _row(driver: Any, notice_id: str) -> Any:
    return driver.find_element(By.CSS_SELECTOR, f'#notices-list .notice-row[data-id="{notice_id}"]')


def test_viewer_cannot_delete_admin_deletes_and_sees_it_in_the_audit_page(tmp_path: Path, driver: Any) -> None:
    with served_site(tmp_path) as site:
        notice_id = site.upload(fictional_notice("trinh-duyet"), name="trinh-duyet.txt")
        url = site.url

        # người xem: reads, no delete button, no upload, no draft, no admin; the server refuses anyway
        _sign_in(driver, url, Role.VIEWER)
        assert driver.find_element(By.ID, "auth-user").text == f"{NAMES[Role.VIEWER]} (người xem)"
        row = _row(driver, notice_id)
        assert row.find_element(By.CSS_SELECTOR, "button.danger-ghost").is_displayed() is False
        assert not driver.find_element(By.ID, "upload-form").is_displayed()
        assert not driver.find_element(By.ID, "tab-draft").is_displayed()
        assert not driver.find_element(By.ID, "tab-admin").is_displayed()
        status = driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch('/api/notices/' + arguments[0], {method: 'DELETE'}).then((r) => done(r.status));",
            notice_id,
        )
        assert status == 403
        assert httpx.get(f"{url}/api/notices/{notice_id}", headers=site.as_machine()).status_code == 200

        # sign out: the sign-in form again
        driver.find_element(By.ID, "auth-logout").click()
        wait_for(lambda: driver.find_element(By.ID, "login-screen").is_displayed(), what="signed out")

        # quản trị: deletes through the page
        _sign_in(driver, url, Role.ADMIN)
        delete = _row(driver, notice_id).find_element(By.CSS_SELECTOR, "button.danger-ghost")
        assert delete.is_displayed()
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", delete)
        delete.click()
        driver.switch_to.alert.accept()
        wait_for(lambda: not driver.find_elements(
            By.CSS_SELECTOR, f'#notices-list .notice-row[data-id="{notice_id}"]'), what="row gone")
        assert httpx.get(f"{url}/api/notices/{notice_id}", headers=site.as_machine()).status_code == 404

        # … and sees it in the audit page
        admin_tab = driver.find_element(By.ID, "tab-admin")
        assert admin_tab.is_displayed()
        admin_tab.click()
        row = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, '#audit-table tr[data-action="delete"]'),
                       what="the deletion in the audit log")
        cells = [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        assert cells[1].startswith(NAMES[Role.ADMIN]) and cells[2] == "xóa thông báo"
        assert cells[3] == notice_id and cells[4] == "127.0.0.1"
        assert "uploads/trinh-duyet.txt" in cells[5] and "sha256" in cells[5]
        users = driver.find_elements(By.CSS_SELECTOR, "#users-table tbody tr")
        assert {u.get_attribute("data-user") for u in users} >= set(NAMES.values())


class _AttackerPage(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<!doctype html><title>trang khac</title><p>trang cua nguoi khac</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


FORGE = """
const done = arguments[arguments.length - 1];
const form = new FormData();
form.append('files', new Blob([arguments[1]], {type: 'text/plain'}), 'gia-mao.txt');
fetch(arguments[0] + '/api/notices', {method: 'POST', mode: 'no-cors', body: form})
  .then(() => done('sent'), (e) => done('error: ' + e));
"""


def test_a_page_from_another_origin_cannot_upload_without_accounts(tmp_path: Path, driver: Any) -> None:
    """No account and no token (a clerk's PC): the forged upload is refused by the server."""
    settings = Settings(index=tmp_path, embedding={"backend": "fake"})
    attacker = ThreadingHTTPServer(("127.0.0.1", 0), _AttackerPage)
    threading.Thread(target=attacker.serve_forever, daemon=True).start()
    try:
        with running_server(settings) as url:
            driver.delete_all_cookies()
            # another origin: another site name (localhost) and port than the service's
            driver.get(f"http://localhost:{attacker.server_address[1]}/")
            assert driver.execute_async_script(FORGE, url, fictional_notice("gia-mao")) == "sent"
            assert httpx.get(f"{url}/api/notices").json()["count"] == 0
            # the same script from the service's own page does upload: the check is what refused it
            driver.get(f"{url}/#chat")
            assert driver.execute_async_script(FORGE, url, fictional_notice("that")) == "sent"
            wait_for(lambda: httpx.get(f"{url}/api/notices").json()["count"] == 1,
                     what="the page's own upload")
    finally:
        attacker.shutdown()
        attacker.server_close()
