#!/bin/sh
# Install Debian's chromium + chromedriver for the browser test (tests/test_browser.py) when
# they are missing. Never fails the build: without a browser that test skips with a message.
set -u

if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_browser: no apt-get here; install chromium and chromedriver yourself to run the browser test." >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_browser: not root and no passwordless sudo; the browser test will be skipped." >&2
        exit 0
    fi
fi
echo "install_browser: installing chromium and chromium-driver (Debian packages)…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy chromium 2>/dev/null | grep -q "Candidate: [0-9]"; then
    $SUDO apt-get update -qq || true
fi
$SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null \
    || echo "install_browser: installation failed; the browser test will be skipped." >&2
exit 0
