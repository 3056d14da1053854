"""Per-client rate limit on ``/api``: a token bucket per client address (pure ASGI).

Only the API is limited: the page and its static files are cheap and a browser fetches them
in a burst. The client is the socket peer as uvicorn reports it (behind a reverse proxy, run
uvicorn with ``--proxy-headers --forwarded-allow-ips`` so that this is the real client);
``X-Forwarded-For`` is never read here, since any client could forge it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.api.middleware import ASGIApp, Receive, Scope, Send, send_json_error

LIMITED_PREFIX = "/api"
# Beyond this many remembered clients, full (idle) buckets are forgotten: they are equivalent
# to a new client, so forgetting them changes nothing but the memory used. Then, if need be,
# the fullest others, so the memory stays bounded even under a flood of distinct addresses.
MAX_TRACKED_CLIENTS = 10_000


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """``rate_per_minute`` requests per client, up to ``burst`` at once; thread-safe."""

    def __init__(
        self, rate_per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate_per_minute / 60.0
        self.burst = float(max(burst, 1))
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def acquire(self, client: str) -> float:
        """Take one request's token: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                if len(self._buckets) >= MAX_TRACKED_CLIENTS:
                    self._forget_idle(now)
                bucket = self._buckets[client] = _Bucket(self.burst, now)
            else:
                bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    def _forget_idle(self, now: float) -> None:
        level = {key: b.tokens + (now - b.updated) * self.rate for key, b in self._buckets.items()}
        for key, tokens in level.items():
            if tokens >= self.burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_TRACKED_CLIENTS:
            # Many distinct clients at once: forget those furthest from their limit first, so
            # that one held back keeps being held back.
            fullest = sorted(self._buckets, key=level.__getitem__, reverse=True)
            for key in fullest[: len(fullest) - MAX_TRACKED_CLIENTS // 2]:
                del self._buckets[key]


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, rate_per_minute: int, burst: int) -> None:
        self.app = app
        self.limiter = RateLimiter(rate_per_minute, burst) if rate_per_minute > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            self.limiter is None
            or scope["type"] != "http"
            or not str(scope.get("path", "")).startswith(LIMITED_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        wait = self.limiter.acquire(str(client[0]) if client else "unknown")
        if wait <= 0.0:
            await self.app(scope, receive, send)
            return
        retry_after = max(1, math.ceil(wait))
        await send_json_error(
            send, 429, "rate_limited",
            f"Quá nhiều yêu cầu trong thời gian ngắn. Vui lòng thử lại sau {retry_after} giây.",
            [(b"retry-after", str(retry_after).encode())],
            retry_after=retry_after,
        )
