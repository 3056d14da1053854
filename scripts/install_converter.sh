#!/bin/sh
# Install LibreOffice (Debian's libreoffice-writer-nogui: Writer without a GUI, about 50 packages)
# when it is missing: the loader converts .doc, .rtf and .odt files with `soffice --headless`.
# Idempotent and quick when it is already there. Never fails the build: without LibreOffice only
# those formats fail to load (with a message saying what to install), and their tests skip.
set -u

if command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install_converter: no apt-get here; install LibreOffice (soffice) yourself to load .doc/.rtf/.odt files." >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install_converter: not root and no passwordless sudo; .doc/.rtf/.odt files will not load (sudo apt-get install --no-install-recommends libreoffice-writer-nogui)." >&2
        exit 0
    fi
fi
echo "install_converter: installing libreoffice-writer-nogui (Debian packages)…" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache policy libreoffice-writer-nogui 2>/dev/null | grep -q "Candidate: [0-9]"; then
    $SUDO apt-get update -qq || true
fi
$SUDO apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null \
    || echo "install_converter: installation failed; .doc/.rtf/.odt files will not load and their tests skip." >&2
exit 0
