"""Build the fast multilingual-e5-small folder in the data directory (a no-op when current).

    .venv/bin/python scripts/build_embedder.py [DATA_DIR]   # default: index
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main() -> None:
    from assistant.embed import prepare_default_embedder

    data_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "index"
    start = time.perf_counter()
    folder = prepare_default_embedder(data_dir)
    print(f"Mô hình nhúng sẵn sàng: {folder} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
