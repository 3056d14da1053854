"""OCR speed: seconds per page and pages per minute, by number of parallel pages.

    .venv/bin/python scripts/bench_ocr.py [--workers 1 2] [--dpi 200] [--json out.json]

The scans are the team's four sample notices printed by LibreOffice and rendered to image-only
PDFs (tests/scans.py, the same scans the OCR tests read; 3 pages each at 200 dpi). Each PDF is
loaded with ``load_bytes`` exactly as an upload would be: pages rendered by pypdfium2 and read by
Tesseract ``vie`` through tesserocr, ``ocr_workers`` pages at a time. Wall time is what a user
waits; CPU seconds (all threads of this process) are barely moved by other users' load, so they
are given too. Needs scripts/install_ocr.sh and LibreOffice.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine

from assistant.load import load_bytes
from assistant.settings import LoadSettings
from tests.scans import image_only_pdf, ocr_missing, page_images, print_to_pdf


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dpi", type=int, default=200)
    parser.add_argument("--json", type=Path, help="write the figures here too")
    args = parser.parse_args()
    missing = ocr_missing()
    if missing:
        sys.exit(missing)

    facts = machine()
    samples = sorted((REPO / "samples" / "notices").iterdir())
    scans = {path.name: image_only_pdf(page_images(print_to_pdf(path), args.dpi), args.dpi)
             for path in samples}
    rows = []
    for workers in args.workers:
        settings = LoadSettings(ocr_workers=workers, ocr_dpi=args.dpi)
        pages = 0
        confidences = []
        load_start = loadavg()
        wall = time.perf_counter()
        cpu = time.process_time()
        for name, data in scans.items():
            document = load_bytes(data, f"{name}.pdf", settings)
            assert document.ocr is not None
            pages += document.ocr.pages
            confidences.append(document.ocr.confidence)
        wall = time.perf_counter() - wall
        cpu = time.process_time() - cpu
        rows.append({
            "workers": workers, "files": len(scans), "pages": pages, "dpi": args.dpi,
            "wall_s": round(wall, 1), "s_per_page": round(wall / pages, 2),
            "pages_per_min": round(60 * pages / wall, 1), "cpu_s_per_page": round(cpu / pages, 2),
            "mean_confidence": round(sum(confidences) / len(confidences), 1),
            "loadavg": f"{load_start} → {loadavg()}",
        })

    print(f"Machine: {facts['cpu']}, {facts['nproc']} cores, {facts['ram_gib']} GiB, "
          f"Python {facts['python']}, {facts['date']}")
    print()
    print("| parallel pages | pages | wall s | s/page | pages/min | CPU s/page | mean conf. | load avg |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        print(f"| {row['workers']} | {row['pages']} | {row['wall_s']} | {row['s_per_page']} | "
              f"{row['pages_per_min']} | {row['cpu_s_per_page']} | {row['mean_confidence']} | "
              f"{row['loadavg']} |")
    if args.json:
        args.json.write_text(json.dumps({"machine": facts, "rows": rows}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
