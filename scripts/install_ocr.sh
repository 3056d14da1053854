#!/bin/sh
# Install Tesseract with its Vietnamese model (Debian's tesseract-ocr and tesseract-ocr-vie, about
# 15 MB) when it is missing: the loader reads scanned PDFs and images (.png, .jpg, .tif) with it.
# Idempotent and quick when it is already there. Never fails the build: without Tesseract only
# scans and images fail to load (with a message saying what to install), and their tests skip.
exec sh "$(dirname "$0")/apt_install.sh" install_ocr \
    "scanned PDFs and images will not load and the OCR tests skip" \
    "command -v tesseract >/dev/null 2>&1 && tesseract --list-langs 2>/dev/null | grep -qx vie" \
    tesseract-ocr tesseract-ocr-vie
