"""``assistant serve``: the JSON API and the web page (uvicorn)."""

from __future__ import annotations

import ipaddress
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from assistant.settings import Settings

_err = Console(stderr=True, soft_wrap=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _discard_crashing_vectors(settings: Settings) -> None:
    """A vector store that crashes whatever opens it would take every request's thread — the
    whole server — down: it is opened in a child process first, and removed when that fails
    (the first question rebuilds it from the store)."""
    from assistant.indexing import discard_crashing_vectors
    from assistant.locks import WriteBusy, write_lock

    try:
        with write_lock(settings.index, timeout_s=0):
            broken = discard_crashing_vectors(settings)
    except WriteBusy:
        return  # a writer is at work on it: it has opened the store itself
    if broken is not None:
        _err.print(f"Kho vector bị hỏng ({escape(broken)}): đã xóa, sẽ dựng lại từ kho thông báo.",
                   highlight=False)


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Địa chỉ lắng nghe (mặc định 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Cổng (mặc định 8000).")] = None,
    allow_no_token: Annotated[
        bool,
        typer.Option("--allow-no-token", help="Cho phép mở ra mạng mà không đặt mã truy cập (không khuyến nghị)."),
    ] = False,
) -> None:
    """Chạy dịch vụ web: trang hỏi đáp tiếng Việt và API JSON (tài liệu API tại /docs)."""
    import uvicorn

    from assistant.api import create_app

    try:
        from assistant.cli import state

        settings = state.settings()
    except ImportError:  # pragma: no cover
        from assistant.settings import Settings

        settings = Settings()
    host = host or settings.server.host
    port = port or settings.server.port
    if not _is_loopback(host) and not settings.api_token and not allow_no_token:
        # Anyone on the network could upload or delete notices: refuse the insecure default.
        _err.print(
            f"[red]Lỗi:[/red] mở dịch vụ ra mạng ({host}) cần mã truy cập. Đặt biến "
            "ASSISTANT_API_TOKEN, hoặc chạy với --allow-no-token nếu thật sự muốn.",
            highlight=False,
        )
        raise typer.Exit(3)
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"host": host, "port": port})}
    )
    _discard_crashing_vectors(settings)
    app = create_app(settings)
    _err.print(f"Trợ lý đang chạy tại http://{host}:{port}/ (Ctrl+C để dừng)", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
