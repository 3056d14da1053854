"""Render a FormalDocument (a draft notice) as plain text/Markdown or as a Word file (NĐ 30/2020)."""

from __future__ import annotations

from assistant.render.docx import render_docx
from assistant.render.markdown import QUOC_HIEU, TIEU_NGU, render_markdown

__all__ = ["QUOC_HIEU", "TIEU_NGU", "render_docx", "render_markdown"]
