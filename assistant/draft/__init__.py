"""Meeting notes -> a draft Thông báo kết luận, with every assignment traced to its note lines."""

from __future__ import annotations

from assistant.draft.compose import (
    DraftOptions,
    DraftResult,
    GroupBy,
    draft_from_form,
    draft_from_notes,
)
from assistant.draft.form import DraftForm, FormTask
from assistant.draft.notes import notes_text_from_bytes, read_notes_file
from assistant.draft.validate import DraftWarning, TraceEntry

__all__ = [
    "DraftForm",
    "DraftOptions",
    "DraftResult",
    "DraftWarning",
    "FormTask",
    "GroupBy",
    "TraceEntry",
    "draft_from_form",
    "draft_from_notes",
    "notes_text_from_bytes",
    "read_notes_file",
]
