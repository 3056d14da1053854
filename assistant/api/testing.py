"""Run the real app on a loopback port in a thread, and drive Debian's chromium headless.

Used by the browser test and by ``scripts/screenshots.py``; nothing here is imported by the
service itself."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from assistant.settings import Settings

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
DRIVER_NAMES = ("chromedriver",)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(settings: Settings, startup_timeout_s: float = 30.0) -> Iterator[str]:
    """Serve ``create_app(settings)`` with uvicorn on 127.0.0.1; yields the base URL."""
    import uvicorn

    from assistant.api import create_app

    port = free_port()
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="assistant-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def find_chromium() -> tuple[str, str] | None:
    """(browser, chromedriver) paths, or None when either is missing."""
    browser = next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)
    driver = next((p for p in map(shutil.which, DRIVER_NAMES) if p), None)
    return (browser, driver) if browser and driver else None


def chrome_driver(width: int = 1366, height: int = 900, download_dir: str | None = None) -> Any:
    """A headless Selenium Chrome driver on Debian's chromium (no browser download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    found = find_chromium()
    if found is None:
        raise RuntimeError("chromium/chromedriver not found (run scripts/install_browser.sh)")
    browser, driver = found
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={width},{height}", "--lang=vi-VN", "--no-first-run",
                "--disable-extensions", "--disable-background-networking"):
        options.add_argument(arg)
    if download_dir:
        options.add_experimental_option(
            "prefs",
            {"download.default_directory": download_dir, "download.prompt_for_download": False,
             "safebrowsing.enabled": False},
        )
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)
