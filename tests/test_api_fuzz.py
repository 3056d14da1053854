"""API limits: the per-client rate limit (429, Vietnamese JSON, Retry-After), and a bounded
schemathesis run over the OpenAPI schema: no request it makes gets a 5xx, and every refusal is
the service's JSON error."""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings

from assistant.api import create_app
from assistant.api.ratelimit import RateLimiter
from assistant.settings import Settings
from tests.conftest import SAMPLES

NOTICES = sorted((SAMPLES / "notices").iterdir())
# Per operation and mode (valid / invalid requests): bounded so the run stays short.
MAX_EXAMPLES = 8
# Sent with every fuzzed request: once the fuzzer has made an account (POST /api/users), every
# request needs a user or a token, and without one only the sign-in check would be exercised.
FUZZ_TOKEN = "fuzz-machine-token"


# --- rate limit --------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_a_burst_then_the_rate() -> None:
    clock = _Clock()
    limiter = RateLimiter(rate_per_minute=60, burst=3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.acquire("a")
    assert wait == pytest.approx(1.0)
    assert limiter.acquire("b") == 0.0  # clients are counted apart
    clock.now += 1.0
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0.0
    clock.now += 3600.0  # a long pause refills the burst, no more
    assert [limiter.acquire("a") for _ in range(4)][-1] > 0.0


def test_idle_clients_are_forgotten_when_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.api.ratelimit as ratelimit

    monkeypatch.setattr(ratelimit, "MAX_TRACKED_CLIENTS", 10)
    clock = _Clock()
    limiter = RateLimiter(rate_per_minute=60, burst=2, clock=clock)
    limiter.acquire("busy")
    limiter.acquire("busy")
    for n in range(20):
        limiter.acquire(f"c{n}")
        clock.now += 0.01
    assert len(limiter._buckets) <= 11
    assert limiter.acquire("busy") > 0.0  # a client over its limit is not forgotten


def test_over_the_limit_is_429_in_vietnamese_with_retry_after(tmp_path: Path) -> None:
    from assistant.api.testing import running_server

    limited = Settings(index=tmp_path, embedding={"backend": "fake"},
                       server={"rate_limit_per_minute": 6, "rate_limit_burst": 3})
    with running_server(limited) as url, httpx.Client(base_url=url, timeout=30) as client:
        statuses = [client.get("/api/notices").status_code for _ in range(3)]
        refused = client.get("/api/notices")
        # The page, its files and /health are not counted.
        others = [client.get(path).status_code for path in ("/", "/health", "/static/app.js")]
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "rate_limited" and "thử lại sau" in error["message"]
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= 10 and error["retry_after"] == retry_after
    assert refused.headers["X-Content-Type-Options"] == "nosniff"
    assert others[:2] == [200, 200]


def test_the_limit_can_be_turned_off(tmp_path: Path) -> None:
    off = Settings(index=tmp_path, embedding={"backend": "fake"},
                   server={"rate_limit_per_minute": 0, "rate_limit_burst": 1})
    with TestClient(create_app(off)) as client:
        assert {client.get("/api/agencies").status_code for _ in range(30)} == {200}


def test_default_limit_is_on_and_generous() -> None:
    server = Settings().server
    assert server.rate_limit_per_minute >= 300 and server.rate_limit_burst >= 60


# --- schemathesis --------------------------------------------------------------------------------------

schemathesis = pytest.importorskip("schemathesis")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    index = tmp_path_factory.mktemp("fuzz-index")
    app = create_app(Settings(index=index, embedding={"backend": "fake"}, api_token=FUZZ_TOKEN,
                              server={"rate_limit_per_minute": 0}, auth={"password_rounds": 4}))
    with TestClient(app) as client:
        files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in NOTICES]
        assert client.post("/api/notices", files=files,
                           headers={"Authorization": f"Bearer {FUZZ_TOKEN}"}).status_code == 200
        yield app
    shutil.rmtree(index, ignore_errors=True)


def _check(case: Any, seen: Counter[int]) -> None:
    response = case.call(headers={"Authorization": f"Bearer {FUZZ_TOKEN}"})
    seen[response.status_code] += 1
    assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
    if response.status_code >= 400:
        body = response.json()
        assert set(body) == {"error"} and body["error"]["message"], response.text[:500]
        assert "Traceback" not in response.text


def test_no_request_from_the_schema_gets_a_server_error(fuzz_app: FastAPI) -> None:
    """Valid and invalid requests for every operation. Driven through hypothesis directly:
    schemathesis's own pytest plugin does not run under this pytest version."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    seen: Counter[int] = Counter()
    api = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    operations = [result.ok() for result in api.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /api/ask", "POST /api/notices", "GET /health"}
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck))
            def run(case: Any) -> None:
                _check(case, seen)

            try:
                run()
            except Unsatisfiable:
                # No invalid request exists for an operation without parameters (GET /health).
                assert mode is GenerationMode.NEGATIVE, operation.label
    print("schemathesis statuses:", dict(sorted(seen.items())))
    assert sum(seen.values()) >= 10 * len(operations)
    assert any(200 <= code < 300 for code in seen) and any(400 <= code < 500 for code in seen)
