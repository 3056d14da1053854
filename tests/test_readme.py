"""The README's command examples run as written (docs that cannot drift)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LONG_RUNNING = {"serve"}


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            if line.startswith(".venv/bin/assistant "):
                commands.append(line.split("  #")[0].strip())
    return commands


def test_readme_lists_the_main_commands() -> None:
    verbs = {shlex.split(c)[1] for c in readme_commands()}
    assert {"ingest", "notices", "show", "assignments", "deadlines", "ask", "draft", "check"} <= verbs


@pytest.mark.corpus
def test_readme_examples_run(tmp_path: Path, corpus_dir: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "samples").symlink_to(REPO / "samples")
    (tmp_path / "shared").symlink_to(corpus_dir.parent)
    (work / "questions.txt").write_text("Ai chủ trì cuộc họp ngày 01/3/2024?\nphong tnmt duoc giao viec gi\n", encoding="utf-8")
    env = {**os.environ, "ASSISTANT_EMBEDDING_BACKEND": "fake", "ASSISTANT_INDEX": str(tmp_path / "index")}
    for command in readme_commands():
        args = shlex.split(command)
        if args[1] in LONG_RUNNING:
            continue
        result = subprocess.run(
            [sys.executable, "-m", "assistant.cli", *args[1:]],
            cwd=work, env=env, capture_output=True, text=True, timeout=300,
        )
        assert result.returncode == 0, f"{command}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr
