"""Office accounts: users with a role, sign-in sessions and personal API tokens.

Kept in ``<index>/accounts.sqlite3``, apart from the notices: an account change never touches the
canonical store and a store rebuilt from its files keeps its accounts. Passwords are hashed with
bcrypt (the maintained ``bcrypt`` package); session and API tokens are random and only their
SHA-256 digest is stored (a stolen database opens nothing). Nothing here logs or returns a
password, a hash or a token, except the new token itself, once, to whoever created it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import bcrypt

from assistant.errors import AssistantError, NotFound

ACCOUNTS_FILE = "accounts.sqlite3"
MIN_PASSWORD_CHARS = 8
MAX_PASSWORD_BYTES = 72  # bcrypt reads no further; longer is refused rather than cut silently
MAX_TOKEN_NAME_CHARS = 80
TOKEN_PREFIX = "tbkl_"
_USER_NAME = re.compile(r"^[\w.@-]{1,64}$")


class Role(StrEnum):
    """Roles from least to most: each may do everything the previous one may."""

    VIEWER = "nguoi-xem"
    OFFICER = "chuyen-vien"
    ADMIN = "quan-tri"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


ROLE_LABELS = {Role.VIEWER: "người xem", Role.OFFICER: "chuyên viên", Role.ADMIN: "quản trị"}


class AccountError(AssistantError):
    """A refused account operation (name taken, weak password, …)."""

    http_status = 400


class LoginRefused(AssistantError):
    http_status = 401


class AccountLocked(LoginRefused):
    http_status = 423


@dataclass(frozen=True)
class User:
    id: int
    name: str
    role: Role
    active: bool
    created_at: str
    locked_until: str | None = None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "role": self.role.value, "role_label": self.role.label,
                "active": self.active, "created_at": self.created_at,
                "locked_until": self.locked_until}


@dataclass(frozen=True)
class ApiToken:
    id: int
    user: str
    name: str
    prefix: str
    created_at: str
    last_used_at: str | None
    revoked: bool

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "user": self.user, "name": self.name, "prefix": self.prefix,
                "created_at": self.created_at, "last_used_at": self.last_used_at,
                "revoked": self.revoked}


@dataclass(frozen=True)
class LoginResult:
    """What ``check_login`` found; ``locked_now`` is set by the failure that locked the account."""

    user: User | None
    failed: bool
    locked_now: bool = False


SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    digest TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    digest TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
"""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalize_name(name: str) -> str:
    return unicodedata.normalize("NFC", name.strip())


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_CHARS:
        raise AccountError(f"Mật khẩu cần ít nhất {MIN_PASSWORD_CHARS} ký tự.")
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise AccountError(
            f"Mật khẩu quá dài (tối đa {MAX_PASSWORD_BYTES} byte, khoảng 24-70 ký tự tùy dấu)."
        )


class AccountStore:
    """Users, sessions and API tokens; one short connection per call (safe across threads)."""

    def __init__(self, path: Path, *, password_rounds: int = 12,
                 clock: Callable[[], dt.datetime] = _now) -> None:
        self.path = path
        self.rounds = password_rounds
        self.clock = clock
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._db() as db:
            db.executescript(SCHEMA)
        # A hash to check unknown names against, so a wrong name costs as long as a wrong password.
        self._dummy_hash = bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(self.rounds))

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30)
        db.row_factory = sqlite3.Row
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA foreign_keys=ON")
            with db:  # one transaction: committed on success, rolled back on error
                yield db
        finally:
            db.close()

    # --- users -------------------------------------------------------------------------------

    def has_users(self) -> bool:
        with self._db() as db:
            return db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None

    def has_active_admin(self) -> bool:
        with self._db() as db:
            row = db.execute("SELECT 1 FROM users WHERE role = ? AND active = 1 LIMIT 1",
                             (Role.ADMIN.value,)).fetchone()
            return row is not None

    def _hash(self, password: str) -> str:
        check_password_rules(password)
        return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(self.rounds)).decode("ascii")

    def add(self, name: str, role: Role, password: str) -> User:
        name = normalize_name(name)
        if not _USER_NAME.match(name):
            raise AccountError(
                "Tên đăng nhập chỉ gồm chữ, số và . _ - @ (1-64 ký tự, không có dấu cách)."
            )
        password_hash = self._hash(password)
        try:
            with self._db() as db:
                db.execute(
                    "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                    (name, role.value, password_hash, _iso(self.clock())),
                )
        except sqlite3.IntegrityError:
            raise AccountError(f"Tên đăng nhập '{name}' đã có.") from None
        return self.get(name)

    def add_first_admin(self, name: str, password: str) -> User:
        """The first-run form's account: refused once any account exists (checked in the same
        transaction as the insert, so two forms sent at once make one account)."""
        name = normalize_name(name)
        if not _USER_NAME.match(name):
            raise AccountError(
                "Tên đăng nhập chỉ gồm chữ, số và . _ - @ (1-64 ký tự, không có dấu cách)."
            )
        password_hash = self._hash(password)
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            if db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None:
                raise AccountError("Đã có tài khoản: hãy đăng nhập.")
            db.execute(
                "INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)",
                (name, Role.ADMIN.value, password_hash, _iso(self.clock())),
            )
        return self.get(name)

    def _user(self, row: sqlite3.Row) -> User:
        return User(row["id"], row["name"], Role(row["role"]), bool(row["active"]),
                    row["created_at"], row["locked_until"])

    def get(self, name: str) -> User:
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (normalize_name(name),)).fetchone()
        if row is None:
            raise NotFound(f"Không có tài khoản '{name}'.")
        return self._user(row)

    def users(self) -> list[User]:
        with self._db() as db:
            return [self._user(r) for r in db.execute("SELECT * FROM users ORDER BY name")]

    def set_active(self, name: str, active: bool) -> User:
        user = self.get(name)
        with self._db() as db:
            db.execute("UPDATE users SET active = ?, failed_logins = 0, locked_until = NULL "
                       "WHERE id = ?", (int(active), user.id))
            if not active:
                db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return self.get(name)

    def set_role(self, name: str, role: Role) -> User:
        user = self.get(name)
        with self._db() as db:
            db.execute("UPDATE users SET role = ? WHERE id = ?", (role.value, user.id))
        return self.get(name)

    def reset_password(self, name: str, password: str) -> User:
        """New password; unlocks the account and signs out its open sessions."""
        user = self.get(name)
        password_hash = self._hash(password)
        with self._db() as db:
            db.execute("UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL "
                       "WHERE id = ?", (password_hash, user.id))
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return self.get(name)

    # --- sign-in -----------------------------------------------------------------------------

    def check_login(self, name: str, password: str, max_failures: int,
                    lockout: dt.timedelta) -> LoginResult:
        """The user when the password is right; raises ``AccountLocked`` while locked.

        Every path runs one bcrypt check, so the time taken does not tell whether a name exists.
        """
        now = self.clock()
        with self._db() as db:
            row = db.execute("SELECT * FROM users WHERE name = ?", (normalize_name(name),)).fetchone()
        stored = row["password_hash"].encode("ascii") if row is not None else self._dummy_hash
        ok = bcrypt.checkpw(password.encode("utf-8")[:MAX_PASSWORD_BYTES], stored)
        if row is None:
            return LoginResult(None, failed=True)
        user = self._user(row)
        if user.locked_until and dt.datetime.fromisoformat(user.locked_until) > now:
            raise AccountLocked(_locked_message(user.locked_until, now))
        if ok and user.active:
            with self._db() as db:
                db.execute("UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?",
                           (user.id,))
            return LoginResult(user, failed=False)
        if not user.active:
            return LoginResult(user, failed=True)
        with self._db() as db:
            failures = row["failed_logins"] + 1
            locked_until = _iso(now + lockout) if failures >= max_failures else None
            db.execute("UPDATE users SET failed_logins = ?, locked_until = ? WHERE id = ?",
                       (0 if locked_until else failures, locked_until, user.id))
        return LoginResult(user, failed=True, locked_now=locked_until is not None)

    def open_session(self, user: User, lifetime: dt.timedelta) -> str:
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (_iso(now),))
            db.execute("INSERT INTO sessions (digest, user_id, created_at, expires_at) "
                       "VALUES (?, ?, ?, ?)", (digest(token), user.id, _iso(now), _iso(now + lifetime)))
        return token

    def session_user(self, token: str) -> User | None:
        with self._db() as db:
            row = db.execute(
                "SELECT users.* FROM sessions JOIN users ON users.id = sessions.user_id "
                "WHERE sessions.digest = ? AND sessions.expires_at > ? AND users.active = 1",
                (digest(token), _iso(self.clock())),
            ).fetchone()
        return self._user(row) if row is not None else None

    def close_session(self, token: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM sessions WHERE digest = ?", (digest(token),))

    # --- personal API tokens -----------------------------------------------------------------

    def create_token(self, user: User, name: str) -> tuple[ApiToken, str]:
        """A new token for ``user``; the secret is returned here only and never stored."""
        name = normalize_name(name)
        if not name or len(name) > MAX_TOKEN_NAME_CHARS:
            raise AccountError(f"Tên mã truy cập cần 1-{MAX_TOKEN_NAME_CHARS} ký tự.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._db() as db:
            cursor = db.execute(
                "INSERT INTO api_tokens (user_id, name, prefix, digest, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (user.id, name, secret[: len(TOKEN_PREFIX) + 4], digest(secret), _iso(self.clock())),
            )
            token_id = cursor.lastrowid
        assert token_id is not None
        return self._token(token_id), secret

    def _token(self, token_id: int) -> ApiToken:
        with self._db() as db:
            row = db.execute(
                "SELECT api_tokens.*, users.name AS user_name FROM api_tokens "
                "JOIN users ON users.id = api_tokens.user_id WHERE api_tokens.id = ?", (token_id,),
            ).fetchone()
        if row is None:
            raise NotFound("Không có mã truy cập này.")
        return ApiToken(row["id"], row["user_name"], row["name"], row["prefix"], row["created_at"],
                        row["last_used_at"], row["revoked_at"] is not None)

    def tokens(self, user: User | None = None) -> list[ApiToken]:
        query = "SELECT id FROM api_tokens"
        args: tuple[object, ...] = ()
        if user is not None:
            query, args = query + " WHERE user_id = ?", (user.id,)
        with self._db() as db:
            ids = [r["id"] for r in db.execute(query + " ORDER BY id", args)]
        return [self._token(token_id) for token_id in ids]

    def revoke_token(self, token_id: int, owner: User | None = None) -> ApiToken:
        """Revoke a token (of ``owner`` only, when given: a user cannot revoke another's)."""
        token = self._token(token_id)
        if owner is not None and token.user.casefold() != owner.name.casefold():
            raise NotFound("Không có mã truy cập này.")
        with self._db() as db:
            db.execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                       (_iso(self.clock()), token_id))
        return self._token(token_id)

    def token_user(self, secret: str) -> User | None:
        """The active owner of a live token, or None."""
        with self._db() as db:
            row = db.execute(
                "SELECT users.*, api_tokens.id AS token_id FROM api_tokens "
                "JOIN users ON users.id = api_tokens.user_id "
                "WHERE api_tokens.digest = ? AND api_tokens.revoked_at IS NULL AND users.active = 1",
                (digest(secret),),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?",
                       (_iso(self.clock()), row["token_id"]))
        return self._user(row)


def _locked_message(locked_until: str, now: dt.datetime) -> str:
    minutes = max(1, round((dt.datetime.fromisoformat(locked_until) - now).total_seconds() / 60))
    return (f"Tài khoản tạm khóa do đăng nhập sai nhiều lần; thử lại sau khoảng {minutes} phút "
            "hoặc nhờ quản trị đặt lại mật khẩu.")
