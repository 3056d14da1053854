"""Run one file's reading and parsing in a child process with a time and a memory limit.

A hostile file (a few kilobytes that expand into gigabytes of XML, a text stream repeated on
every page) must not cost the server minutes of CPU and gigabytes it never gives back: the
child is killed past ``load.worker_timeout_s``, its address space is capped at
``load.worker_memory_mb``, and whatever it allocated returns to the system when it exits.

Children are forked from a ``forkserver`` started once per process with the loader and the
parser already imported, so each file costs a fork (milliseconds), not a new interpreter; the
server's own threads (uvicorn, Chroma) are never forked.
"""

from __future__ import annotations

import logging
import multiprocessing
import resource
import sys
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from assistant.errors import AssistantError, LoadError
from assistant.settings import LoadSettings

log = logging.getLogger(__name__)

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("forkserver")
# Only these, not ``__main__`` (uvicorn's, pytest's): the server process imports them once.
_CONTEXT.set_forkserver_preload(["assistant.load", "assistant.parse", "docx", "pypdf", "lxml.etree"])


class WorkerBug(RuntimeError):
    """An unexpected exception inside the child: a bug, logged with the child's traceback."""


def run_isolated(
    function: Callable[..., T],
    *args: Any,
    name: str,
    settings: LoadSettings,
    progress: Callable[..., None] | None = None,
) -> T:
    """``function(*args)`` in a child process; its ``AssistantError`` is raised here again
    with its message and source, a time-out or memory exhaustion becomes a ``LoadError``
    naming ``name``. ``function`` and its arguments must be picklable. With ``progress``,
    ``function`` is called with ``progress=`` a function whose calls are relayed here."""
    receiver, sender = _CONTEXT.Pipe(duplex=False)
    memory = settings.worker_memory_mb * 1024 * 1024
    child = _CONTEXT.Process(
        target=_child, args=(sender, memory, function, args, progress is not None),
        name=f"assistant-doc-{name}"[:60], daemon=True,
    )
    child.start()
    sender.close()
    deadline = time.monotonic() + settings.worker_timeout_s
    try:
        while True:
            if not receiver.poll(max(0.0, deadline - time.monotonic())):
                raise LoadError(
                    f"Đọc và phân tích tệp mất quá {settings.worker_timeout_s:g} giây nên đã bị "
                    "dừng; tệp quá lớn hoặc có cấu trúc bất thường. Hãy kiểm tra lại hoặc tách "
                    "thành nhiều tệp.",
                    source=name,
                )
            try:
                outcome, value = receiver.recv()
            except EOFError:
                # Killed (the kernel's OOM killer, a crash in a C library) before it answered.
                raise LoadError(
                    "Tiến trình đọc tệp bị dừng bất thường (có thể do hết bộ nhớ); tệp không được "
                    "nạp.",
                    source=name,
                ) from None
            if outcome != "progress":
                break
            if progress is not None:
                progress(*value)
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if outcome == "ok":
        return value
    if outcome == "error":
        kind, message, source = value
        raise kind(message, source=source)
    if outcome == "memory":
        raise LoadError(
            f"Tệp cần quá nhiều bộ nhớ để đọc (giới hạn {settings.worker_memory_mb} MB cho mỗi "
            "tệp), không giống một thông báo; tệp không được nạp.",
            source=name,
        )
    raise WorkerBug(f"unexpected error while reading {name} in a worker process:\n{value}")


def _child(
    sender: Connection, memory: int, function: Callable[..., Any], args: tuple[Any, ...], relay: bool
) -> None:
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    # Pickling the result recurses a few frames per level of a section tree, and the parser
    # allows 200 levels; unpickling in the parent is not recursive.
    sys.setrecursionlimit(20_000)

    def progress(*values: Any) -> None:
        sender.send(("progress", values))

    try:
        result: tuple[str, Any] = ("ok", function(*args, progress=progress) if relay else function(*args))
    except AssistantError as exc:
        result = ("error", (type(exc), exc.message, exc.source))
    except MemoryError:
        result = ("memory", None)
    except Exception:  # sent back to be logged by the parent, which decides what users see
        result = ("bug", traceback.format_exc())
    try:
        sender.send(result)
    except MemoryError:
        sender.send(("memory", None))
    except Exception:
        sender.send(("bug", traceback.format_exc()))
    finally:
        sender.close()
