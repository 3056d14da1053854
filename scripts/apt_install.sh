#!/bin/sh
# Install Debian packages a feature needs, when they are missing; shared by install_browser.sh,
# install_converter.sh and install_ocr.sh. Never fails the build: without the packages the
# feature's tests skip (or its files fail to load with a message saying what to install).
#
#   sh scripts/apt_install.sh NAME "WHAT IT COSTS WITHOUT" CHECK_COMMAND PACKAGE...
#
# NAME prefixes the messages; CHECK_COMMAND is run by sh and says whether they are already there.
set -u
name=$1
without=$2
present=$3
shift 3

if sh -c "$present"; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "$name: no apt-get here; install $* yourself ($without)." >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "$name: not root and no passwordless sudo; $without (sudo apt-get install --no-install-recommends $*)." >&2
        exit 0
    fi
fi
echo "$name: installing $* (Debian packages)…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy "$1" 2>/dev/null | grep -q "Candidate: [0-9]"; then
    $SUDO apt-get update -qq || true
fi
$SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || echo "$name: installation failed; $without." >&2
exit 0
