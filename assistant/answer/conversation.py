"""Turns of a conversation, persisted in SQLite in the index directory, so that a follow-up
('còn phòng Nội vụ thì sao?') is resolved against the previous turn even across processes."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answer.route import RoutedQuestion

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversation_turns (
    conversation_id TEXT NOT NULL,
    turn INTEGER NOT NULL,
    question TEXT NOT NULL,
    routed TEXT NOT NULL,
    answer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (conversation_id, turn)
);
"""


@dataclass(frozen=True)
class Turn:
    conversation_id: str
    turn: int
    question: str
    routed: RoutedQuestion
    answer: dict[str, Any]


# Follow-ups read the last turn only; a few more are kept for context. Each turn holds its
# whole answer (≈17 KB), so without bounds every /api/ask grew the file for good.
MAX_TURNS_PER_CONVERSATION = 20
MAX_CONVERSATIONS = 2_000
MAX_AGE = dt.timedelta(days=7)


class ConversationStore:
    """``conversations.sqlite3`` beside the notice store; one row per answered question.

    Bounded: a conversation keeps its last ``max_turns`` turns, conversations idle longer than
    ``max_age`` are forgotten, and beyond ``max_conversations`` the least recently used go
    first (at most ≈ 20 × 2 000 × 17 KB ≈ 680 MB in the worst case, usually far less)."""

    def __init__(
        self,
        path: Path,
        *,
        max_turns: int = MAX_TURNS_PER_CONVERSATION,
        max_conversations: int = MAX_CONVERSATIONS,
        max_age: dt.timedelta = MAX_AGE,
    ) -> None:
        self.max_turns = max_turns
        self.max_conversations = max_conversations
        self.max_age = max_age
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, timeout=30.0, check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        self._conn.close()

    def last_turn(self, conversation_id: str) -> Turn | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT turn, question, routed, answer FROM conversation_turns"
                " WHERE conversation_id=? ORDER BY turn DESC LIMIT 1",
                (conversation_id,),
            ).fetchone()
        if row is None:
            return None
        return Turn(
            conversation_id,
            int(row[0]),
            row[1],
            RoutedQuestion.model_validate_json(row[2]),
            json.loads(row[3]),
        )

    def turns(self, conversation_id: str) -> list[Turn]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT turn, question, routed, answer FROM conversation_turns"
                " WHERE conversation_id=? ORDER BY turn",
                (conversation_id,),
            ).fetchall()
        return [
            Turn(conversation_id, int(r[0]), r[1], RoutedQuestion.model_validate_json(r[2]), json.loads(r[3]))
            for r in rows
        ]

    def append(self, conversation_id: str, routed: RoutedQuestion, answer: dict[str, Any]) -> int:
        with self._lock, self._conn:
            row = self._conn.execute(
                "SELECT COALESCE(MAX(turn), 0) FROM conversation_turns WHERE conversation_id=?",
                (conversation_id,),
            ).fetchone()
            turn = int(row[0]) + 1
            self._conn.execute(
                "INSERT INTO conversation_turns(conversation_id, turn, question, routed, answer,"
                " created_at) VALUES (?,?,?,?,?,?)",
                (
                    conversation_id,
                    turn,
                    routed.question,
                    routed.model_dump_json(),
                    json.dumps(answer, ensure_ascii=False),
                    dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                ),
            )
            self._prune(conversation_id, turn)
        return turn

    def _prune(self, conversation_id: str, turn: int) -> None:
        self._conn.execute(
            "DELETE FROM conversation_turns WHERE conversation_id=? AND turn<=?",
            (conversation_id, turn - self.max_turns),
        )
        cutoff = (dt.datetime.now(dt.UTC) - self.max_age).isoformat(timespec="seconds")
        self._conn.execute("DELETE FROM conversation_turns WHERE created_at<?", (cutoff,))
        self._conn.execute(
            "DELETE FROM conversation_turns WHERE conversation_id IN ("
            " SELECT conversation_id FROM conversation_turns GROUP BY conversation_id"
            " ORDER BY MAX(created_at) DESC, MAX(rowid) DESC LIMIT -1 OFFSET ?)",
            (self.max_conversations,),
        )
