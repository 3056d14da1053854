#!/bin/sh
# Install Debian's chromium + chromedriver for the browser test (tests/test_browser.py) when
# they are missing. Never fails the build: without a browser that test skips with a message.
exec sh "$(dirname "$0")/apt_install.sh" install_browser "the browser test will be skipped" \
    "command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1" \
    chromium chromium-driver
