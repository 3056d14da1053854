"""Screenshots of each view of the web page for the README (docs/screenshots/*.png).

Ingests the team's fictional sample notices into a temporary index (fake embedder: no model
needed), serves the real app on a loopback port and drives Debian's chromium headless.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from assistant.api import create_app
from assistant.api.testing import chrome_driver, find_chromium, running_server
from assistant.settings import Settings

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"


def _wait(check: Callable[[], Any], timeout_s: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception:  # not rendered yet
            pass
        time.sleep(0.1)
    raise RuntimeError("the page did not reach the expected state")


def _ingest(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream"))
                 for p in sorted((SAMPLES / "notices").iterdir())]
        client.post("/api/notices", files=files).raise_for_status()


def take(out: Path) -> list[Path]:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    out.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index=Path(tmp), embedding={"backend": "fake"})
        _ingest(settings)
        with running_server(settings) as url:
            driver = chrome_driver(1366, 860)
            try:
                def shot(name: str) -> None:
                    time.sleep(0.3)  # let smooth scrolling settle
                    path = out / f"{name}.png"
                    driver.save_screenshot(str(path))
                    saved.append(path)

                def click(element: Any) -> None:
                    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
                    element.click()

                # Chat: an answer with citations, one opened at its passage.
                driver.get(url + "/#chat")
                box = _wait(lambda: driver.find_element(By.ID, "chat-input"))
                box.send_keys("phòng TNMT được giao những việc gì?", Keys.ENTER)
                cites = _wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".msg.assistant button.cite"))
                click(cites[3] if len(cites) > 3 else cites[0])
                _wait(lambda: driver.find_element(By.CSS_SELECTOR, "#viewer mark.quote"))
                shot("chat")

                # Agency view with overdue tasks. The samples give an agency only a few tasks,
                # so a page of 2 (instead of 100) shows the total and the "Xem thêm" button;
                # a taller window fits both in the picture.
                driver.set_window_size(1366, 1000)
                driver.get(url + "/?page_size=2#agency")
                field = _wait(lambda: driver.find_element(By.ID, "agency-input"))
                field.send_keys("phong tai chinh ke hoach", Keys.ENTER)
                _wait(lambda: driver.find_element(By.ID, "agency-more").is_displayed())
                # no caret or suggestion list in the picture
                driver.execute_script("document.activeElement.blur()")
                driver.execute_script("window.scrollTo(0, 0)")
                shot("agency")
                driver.set_window_size(1366, 860)

                # Notices list.
                driver.get(url + "/#notices")
                _wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".notice-row"))
                shot("notices")

                # Drafting: preview, warnings and trace.
                driver.get(url + "/#draft")
                notes = next((SAMPLES / "notes").glob("*.txt")).read_text(encoding="utf-8")
                _wait(lambda: driver.find_element(By.ID, "draft-notes"))
                driver.execute_script("document.getElementById('draft-notes').value = arguments[0];", notes)
                click(driver.find_element(By.ID, "draft-button"))
                _wait(lambda: driver.find_element(By.ID, "draft-result").is_displayed())
                shot("draft")

                # Phone: the chat view.
                driver.set_window_size(390, 844)
                driver.get(url + "/?phone#chat")  # a fresh page: a new conversation
                box = _wait(lambda: driver.find_element(By.ID, "chat-input"))
                box.send_keys("hạn hoàn thành cấp giấy chứng nhận 640 hồ sơ?", Keys.ENTER)
                _wait(lambda: driver.find_elements(By.CSS_SELECTOR, ".msg.assistant button.cite"))
                shot("phone-chat")
            finally:
                driver.quit()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    if find_chromium() is None:
        print("chromium/chromedriver not found: run scripts/install_browser.sh", file=sys.stderr)
        return 1
    for path in take(args.out):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
