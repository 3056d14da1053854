#!/bin/sh
# Install LibreOffice (Debian's libreoffice-writer-nogui: Writer without a GUI, about 50 packages)
# when it is missing: the loader converts .doc, .rtf and .odt files with `soffice --headless`.
# Idempotent and quick when it is already there. Never fails the build: without LibreOffice only
# those formats fail to load (with a message saying what to install), and their tests skip.
exec sh "$(dirname "$0")/apt_install.sh" install_converter \
    ".doc/.rtf/.odt files will not load and their tests skip" \
    "command -v soffice >/dev/null 2>&1 || command -v libreoffice >/dev/null 2>&1" \
    libreoffice-writer-nogui
