#!/bin/sh
# Install LibreOffice Calc without a GUI (Debian's libreoffice-calc-nogui, beside the Writer of
# install_converter.sh) when it is missing: the task-export test converts the .xlsx the product
# writes with `soffice --headless`, as a second reader besides openpyxl. Never fails the build:
# without it that one check skips.
exec sh "$(dirname "$0")/apt_install.sh" install_spreadsheet \
    "the .xlsx export is not opened in LibreOffice by the tests" \
    "dpkg -s libreoffice-calc-nogui >/dev/null 2>&1 || dpkg -s libreoffice-calc >/dev/null 2>&1" \
    libreoffice-calc-nogui
