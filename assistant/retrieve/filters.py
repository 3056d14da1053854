"""Metadata filters applied identically to both retrievers (Chroma ``where`` and BM25 masks)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from assistant.chunk import MetadataValue, date_int
from assistant.model import Level
from assistant.text import match_key


class Filters(BaseModel):
    """Restrict retrieval to some notices. Every field left ``None`` does not filter."""

    issuer: str | None = Field(
        default=None, description="Issuing body; compared accent- and case-insensitively."
    )
    level: Level | None = Field(default=None, description="Administrative level of the issuer.")
    date_from: date | None = Field(default=None, description="Meeting date on or after.")
    date_to: date | None = Field(default=None, description="Meeting date on or before.")
    notice_ids: list[str] | None = Field(default=None, description="Only these notices.")

    def is_empty(self) -> bool:
        return all(value is None for value in self.model_dump().values())

    def to_where(self) -> dict[str, Any] | None:
        """The equivalent Chroma ``where`` clause, or ``None`` when nothing filters."""
        clauses: list[dict[str, Any]] = []
        if self.issuer is not None:
            clauses.append({"issuer_key": match_key(self.issuer)})
        if self.level is not None:
            clauses.append({"level": self.level.value})
        if self.date_from is not None:
            clauses.append({"meeting_date_int": {"$gte": date_int(self.date_from)}})
        if self.date_to is not None:
            clauses.append({"meeting_date_int": {"$lte": date_int(self.date_to)}})
        if self.notice_ids is not None:
            clauses.append({"notice_id": {"$in": list(self.notice_ids)}})
        if not clauses:
            return None
        # Chroma rejects ``$and`` with fewer than two operands.
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, metadata: Mapping[str, MetadataValue]) -> bool:
        """Same decision as ``to_where`` on one chunk's metadata (a missing key never matches)."""
        if self.issuer is not None and metadata.get("issuer_key") != match_key(self.issuer):
            return False
        if self.level is not None and metadata.get("level") != self.level.value:
            return False
        if self.date_from is not None or self.date_to is not None:
            when = metadata.get("meeting_date_int")
            if not isinstance(when, int) or isinstance(when, bool):
                return False
            if self.date_from is not None and when < date_int(self.date_from):
                return False
            if self.date_to is not None and when > date_int(self.date_to):
                return False
        return self.notice_ids is None or metadata.get("notice_id") in self.notice_ids
