from __future__ import annotations

import importlib.util
import json
import os
import sys
import unicodedata
from pathlib import Path
from types import ModuleType

import pytest

# Starlette's TestClient calls the app as http://testserver; the service answers only the host
# names it is told (DNS rebinding, assistant/api/origin.py), so the tests name that one too.
os.environ.setdefault(
    "ASSISTANT_SERVER_ALLOWED_HOSTS", json.dumps(["localhost", "127.0.0.1", "::1", "testserver"])
)

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "samples"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"real corpus not found at {CORPUS} (expected ../shared/corpus beside the repo)")
    return CORPUS


def seed_corpus_files(corpus: Path) -> set[str]:
    """The seed corpus's documents (top level and extra/), relative to ``corpus``: the dev corpus
    (dev/) has its own gold, and the .tsv files are their sources."""
    return {
        p.relative_to(corpus).as_posix()
        for p in corpus.rglob("*")
        if p.is_file() and p.suffix != ".tsv" and "dev" not in p.relative_to(corpus).parts
    }


def encode_windows_1258(text: str) -> bytes:
    """Windows-1258 stores tone marks as combining characters after a (shaped) base letter."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
            shape = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += shape.encode("cp1258") + tones.encode("cp1258")
    return out


@pytest.fixture(scope="session")
def scale_generator() -> ModuleType:
    """``scripts/make_scale_corpus.py`` imported as a module (it is a script, not a package)."""
    script = REPO / "scripts" / "make_scale_corpus.py"
    spec = importlib.util.spec_from_file_location("make_scale_corpus", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module
