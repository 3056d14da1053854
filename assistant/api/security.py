"""The optional API token and upload names.

The token is kept only as its SHA-256 digest and compared with ``hmac.compare_digest`` over
digests, so neither the comparison time nor a memory dump reveals it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from assistant.errors import AssistantError

MAX_NAME_CHARS = 120


class Unauthorized(AssistantError):
    http_status = 401


class Forbidden(AssistantError):
    http_status = 403


class InvalidUploadName(AssistantError):
    http_status = 400


class TokenGuard:
    def __init__(self, token: str | None) -> None:
        self._digest = _digest(token) if token else None

    @property
    def required(self) -> bool:
        return self._digest is not None

    def matches(self, given: str) -> bool:
        """Whether ``given`` is the machine token (always compared, in constant time)."""
        ok = hmac.compare_digest(_digest(given), self._digest or _digest(""))
        return self._digest is not None and ok

    def check(self, authorization: str | None) -> None:
        """Raise ``Unauthorized`` unless no token is configured or the bearer token matches."""
        if self._digest is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        # Always compare, even for a malformed header, so timing does not tell which case it was.
        ok = hmac.compare_digest(_digest(given.strip()), self._digest)
        if scheme.lower() != "bearer" or not ok:
            raise Unauthorized(
                "Thao tác này cần mã truy cập. Gửi tiêu đề 'Authorization: Bearer <mã>' "
                "(trên trang web: nhập mã ở mục 'Mã truy cập')."
            )


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


_UNSAFE = re.compile(r"[^\w.\- ()]+", re.UNICODE)


def safe_upload_name(name: str | None) -> str:
    """The file name alone (no folder part from any OS), without control or path characters.

    Vietnamese letters are kept; anything that could address another folder is dropped."""
    raw = unicodedata.normalize("NFC", name or "")
    base = re.split(r"[\\/]", raw)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE.sub("_", base).strip(" .")
    if len(base) > MAX_NAME_CHARS:
        stem, dot, suffix = base.rpartition(".")
        base = (stem[: MAX_NAME_CHARS - len(suffix) - 1] + dot + suffix) if dot else base[:MAX_NAME_CHARS]
    if not base or base in (".", "..") or base.startswith("."):
        raise InvalidUploadName(f"Tên tệp không hợp lệ: '{name}'.")
    return base
