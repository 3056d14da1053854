"""The vector store against a real Chroma server (``chroma run``) on the loopback interface."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fictional_notice import ben_lau_notice

from assistant.chunk import chunk_notice
from assistant.errors import BackendError
from assistant.retrieve import Filters, VectorStore, vector_identity
from assistant.settings import Settings

_STARTUP_S = 60.0


def _chroma_executable() -> str | None:
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.exists() else shutil.which("chroma")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _heartbeat(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@pytest.fixture()
def chroma_url(tmp_path: Path) -> Iterator[str]:
    executable = _chroma_executable()
    if executable is None:
        pytest.skip("the 'chroma' command is not installed")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "chroma.log").open("wb")
    process = subprocess.Popen(
        [
            executable,
            "run",
            "--path",
            str(tmp_path / "db"),
            "--host",
            "127.0.0.1",
            "--port",
            f"{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
    )
    try:
        deadline = time.monotonic() + _STARTUP_S
        while not _heartbeat(url):
            if process.poll() is not None:
                log.flush()
                output = (tmp_path / "chroma.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"chroma run exited with {process.returncode}:\n{output}")
            if time.monotonic() > deadline:
                pytest.fail(f"chroma run did not answer within {_STARTUP_S:.0f} s")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


class _AxisEmbedder:
    """Two axes: chunks that mention 'sông Lau' vs. the rest; enough to check ranking."""

    identity = "axis-test-v1"
    dimension = 2

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        rows = [[1.0, 0.1] if "sông Lau" in t else [0.1, 1.0] for t in texts]
        matrix = np.asarray(rows, dtype=np.float32)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self.embed_passages(texts)


def test_vector_store_through_a_chroma_server(chroma_url: str) -> None:
    embedder = _AxisEmbedder()
    notice = ben_lau_notice()
    chunks = chunk_notice(notice)
    identity = vector_identity(embedder.identity, 1200)

    store = VectorStore.from_settings(Settings(chroma_url=chroma_url), embedder)
    assert not store.is_current(identity)
    store.reset(identity)
    store.add(chunks, embedder.embed_passages([c.text for c in chunks]))

    # A second client sees what the first wrote: the data lives in the server.
    other = VectorStore.from_settings(Settings(chroma_url=chroma_url), embedder)
    assert other.is_current(identity)
    assert other.count() == len(chunks)
    query = embedder.embed_queries(["dự án kè sông Lau"])[0]
    hits = other.search(query, 2, where=Filters(level=notice.level))
    river = {c.id for c in chunks if "sông Lau" in c.text}
    assert len(river) == 2 and {cid for cid, _ in hits} == river

    other.delete_notice(notice.id)
    assert store.count() == 0


def test_unreachable_server_is_a_backend_error() -> None:
    with pytest.raises(BackendError) as caught:
        VectorStore.from_settings(
            Settings(chroma_url=f"http://127.0.0.1:{_free_port()}"), _AxisEmbedder()
        )
    assert "Chroma" in caught.value.message
