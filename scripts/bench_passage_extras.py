"""Two measurements behind issue 16's notes, on the machine's converted model folder.

    .venv/bin/python scripts/bench_passage_extras.py [--rounds 3] [--json OUT]

* ``tokenizer``: resident memory (anonymous, ``/proc/self/status``) and load time of the
  passage tokenizer over the full 250k-piece vocabulary and over the cut one
  (``assistant/embed/passage_vocabulary.py``), each built in a fresh interpreter.
* ``int8``: ONNX Runtime's dynamic int8 quantization of the exported encoder against the fp32
  graph on the 32 calibration passages (``assistant/data/embed_calibration.json``), best of
  ``--rounds`` timed in turns, and the lowest cosine between their vectors. Not a runtime the
  product may choose (the exactness rule asks cosine ≥ 0.9999): it answers whether a quantized
  runtime would be much faster on this CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_common import REPO, loadavg, machine

_TOKENIZER_PROBE = """
import json, sys, time
from pathlib import Path
def anon():
    for line in open("/proc/self/status"):
        if line.startswith("RssAnon"):
            return int(line.split()[1]) / 1024
folder, cut = Path(sys.argv[1]), sys.argv[2] == "cut"
from assistant.embed import runtimes
if not cut:
    import assistant.embed.passage_vocabulary as pv
    pv.load_passage_vocabulary = lambda folder: None
    pv.write_passage_vocabulary = lambda folder: None
before, start = anon(), time.perf_counter()
tokenizer = runtimes.PassageTokenizer(folder)
print(json.dumps({"cut": tokenizer.cut, "anon_mib": round(anon() - before, 1),
                  "load_s": round(time.perf_counter() - start, 2)}))
"""


def tokenizer_memory(folder: Path) -> dict[str, object]:
    out: dict[str, object] = {}
    for form in ("full", "cut"):
        done = subprocess.run([sys.executable, "-c", _TOKENIZER_PROBE, str(folder), form],
                              capture_output=True, text=True, check=True, cwd=REPO)
        out[form] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def int8_speed(folder: Path, rounds: int) -> dict[str, object]:
    import numpy as np
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from assistant.embed.convert import ONNX_NAME, export_onnx
    from assistant.embed.runtimes import OnnxRuntime, PassageEncoder, calibration_set, cpu_count

    export_onnx(folder)
    with tempfile.TemporaryDirectory() as tmp:
        quantized = Path(tmp)
        for item in folder.iterdir():
            if item.is_file() and item.name != ONNX_NAME:
                (quantized / item.name).symlink_to(item.resolve())
        quantize_dynamic(str(folder / ONNX_NAME), str(quantized / ONNX_NAME),
                         weight_type=QuantType.QInt8)
        passages, _ = calibration_set()
        texts = ["passage: " + p for p in passages]
        encoders = {
            "fp32": PassageEncoder(folder, OnnxRuntime(folder, cpu_count())),
            "int8": PassageEncoder(quantized, OnnxRuntime(quantized, cpu_count())),
        }
        vectors = {name: encoder.encode(texts) for name, encoder in encoders.items()}  # warm-up
        best = dict.fromkeys(encoders, 0.0)
        for _ in range(rounds):
            for name, encoder in encoders.items():
                start = time.perf_counter()
                encoder.encode(texts)
                best[name] = max(best[name], len(texts) / (time.perf_counter() - start))
    return {
        "passages": len(texts),
        "passages_per_s": {name: round(value, 2) for name, value in best.items()},
        "min_cosine": round(float(np.min(np.sum(vectors["fp32"] * vectors["int8"], axis=1))), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    from assistant.embed.shared import default_model_folder
    from assistant.settings import Settings

    folder = default_model_folder(Settings().embedding)
    result = {"machine": machine(), "loadavg_start": loadavg(), "folder": str(folder),
              "tokenizer": tokenizer_memory(folder), "int8": int8_speed(folder, args.rounds),
              "loadavg_end": loadavg()}
    text = json.dumps(result, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()
