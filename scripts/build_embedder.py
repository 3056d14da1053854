"""Build the machine's multilingual-e5-small folder and measure the passage runtimes (what
`assistant setup` does), or regenerate the bundled calibration set.

    .venv/bin/python scripts/build_embedder.py [--cache-dir DIR] [--measure]
    .venv/bin/python scripts/build_embedder.py --calibration   # rewrite assistant/data/embed_calibration.json

Without --cache-dir the folder goes where every index finds it: ASSISTANT_EMBEDDING_CACHE_DIR,
else the per-user cache directory (~/.cache/assistant/models on Linux).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

CALIBRATION = REPO / "assistant" / "data" / "embed_calibration.json"
CALIBRATION_PASSAGES = 32


def write_calibration() -> None:
    """Chunks of the team's own sample notices (never the shared corpus) and the team's
    evaluation questions: the set `assistant setup` times and compares runtimes on."""
    from assistant.chunk import chunk_notice
    from assistant.load import load_path
    from assistant.parse import parse_document

    passages: list[str] = []
    for path in sorted((REPO / "samples" / "notices").iterdir()):
        if path.suffix in (".txt", ".md", ".docx"):
            passages += [c.embed_text for c in chunk_notice(parse_document(load_path(path)))]
    step = max(1, len(passages) // CALIBRATION_PASSAGES)
    questions = [
        json.loads(line)["question"]
        for line in (REPO / "eval" / "questions.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    data = {
        "about": "Calibration set for choosing the passage runtime (assistant.embed.runtimes): "
        "passages are chunks of the team's fictional sample notices (samples/notices, written "
        "for this project), questions are the team's evaluation questions "
        "(eval/questions.jsonl). Regenerate with scripts/build_embedder.py --calibration.",
        "passages": passages[::step][:CALIBRATION_PASSAGES],
        "questions": questions,
    }
    CALIBRATION.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", "utf-8")
    print(f"{CALIBRATION}: {len(data['passages'])} passages, {len(questions)} questions")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--measure", action="store_true", help="measure the runtimes again")
    parser.add_argument("--calibration", action="store_true", help="rewrite the calibration set")
    args = parser.parse_args()
    if args.calibration:
        write_calibration()
        return
    from assistant.embed import embedder_status, prepare_default_embedder
    from assistant.settings import Settings

    settings = Settings().embedding
    if args.cache_dir is not None:
        settings = settings.model_copy(update={"cache_dir": args.cache_dir})
    start = time.perf_counter()
    folder = prepare_default_embedder(settings, remeasure=args.measure, report=print)
    print(f"Mô hình nhúng sẵn sàng: {folder} ({time.perf_counter() - start:.1f} s)")
    print("\n".join(embedder_status(settings).lines()))


if __name__ == "__main__":
    main()
