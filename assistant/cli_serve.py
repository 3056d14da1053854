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


def _has_admin(settings: Settings) -> bool:
    from assistant.accounts import ACCOUNTS_FILE, AccountStore

    path = settings.index / ACCOUNTS_FILE
    return path.is_file() and AccountStore(path, password_rounds=4).has_active_admin()


def serve(
    host: Annotated[str | None, typer.Option("--host", help="Địa chỉ lắng nghe (mặc định 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option("--port", help="Cổng (mặc định 8000).")] = None,
) -> None:
    """Chạy dịch vụ web: trang hỏi đáp tiếng Việt và API JSON (tài liệu API tại /docs)."""
    import uvicorn

    from assistant.api import create_app

    try:
        from assistant.cli import state

        settings = state.settings()
    except ImportError:  # pragma: no cover
        settings = Settings()
    host = host or settings.server.host
    port = port or settings.server.port
    if not _is_loopback(host) and not settings.api_token and not _has_admin(settings):
        # Anyone on the network could read, upload or delete notices: refuse to start.
        _err.print(
            f"[red]Lỗi:[/red] mở dịch vụ ra mạng ({escape(host)}) cần ít nhất một tài khoản quản "
            "trị (assistant users add TÊN --role quan-tri --password-stdin) hoặc mã truy cập "
            "cho máy (biến ASSISTANT_API_TOKEN).",
            highlight=False,
        )
        raise typer.Exit(3)
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"host": host, "port": port})}
    )
    _discard_crashing_vectors(settings)
    app = create_app(settings)
    _err.print(f"Trợ lý đang chạy tại http://{host}:{port}/ (Ctrl+C để dừng)", highlight=False)
    if not _is_loopback(host) and "*" not in settings.server.allowed_hosts:
        # A request naming the machine otherwise is refused (DNS rebinding): say which names pass.
        names = ", ".join([*settings.server.allowed_hosts,
                           *([host] if host not in ("0.0.0.0", "::") else [])])
        _err.print(f"Tên máy được chấp nhận: {escape(names)} (thêm tên khác bằng biến "
                   "ASSISTANT_SERVER_ALLOWED_HOSTS).", highlight=False)
    uvicorn.run(app, host=host, port=port, log_level="warning", proxy_headers=False)
