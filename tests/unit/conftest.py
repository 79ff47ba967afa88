"""Shared unit-test fixtures: mitmproxy's own test helpers (`taddons`, `tflow`) behind small factories.

mitmproxy is imported inside the fixtures, so the pure-core tests never pay for it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

HeaderLines = Sequence[tuple[str, str]]
STARTED = 1_700_000_000.0
"""Flow timestamps in these tests: a fixed, recent wall-clock time (epoch seconds)."""


@pytest.fixture
def make_flow() -> Callable[..., Any]:
    """Build an `HTTPFlow` the way the proxy would hand it to an addon.

    `make_flow("PUT", "http://api.test/x", [("Origin", "http://app.test")], 200, [...])`;
    `status=None` gives a flow without a response, `error="..."` one that failed.
    """
    from mitmproxy import http
    from mitmproxy.flow import Error
    from mitmproxy.test import tflow

    def build(
        method: str = "GET",
        url: str = "http://api.test/data",
        request_headers: HeaderLines = (),
        status: int | None = 200,
        response_headers: HeaderLines = (),
        *,
        error: str | None = None,
        started: float = STARTED,
    ) -> http.HTTPFlow:
        request = http.Request.make(method, url, b"", [(n.encode(), v.encode()) for n, v in request_headers])
        request.timestamp_start = started
        request.timestamp_end = started + 0.001
        response = None
        if status is not None:
            response = http.Response.make(
                status, b"", [(n.encode(), v.encode()) for n, v in response_headers]
            )
            response.timestamp_start = started + 0.002
            response.timestamp_end = started + 0.003
        failure = Error(error, timestamp=started + 0.004) if error is not None else False
        return tflow.tflow(req=request, resp=response or False, err=failure)

    return build


@pytest.fixture
def mitm_context() -> Iterator[Any]:
    """`taddons.context()`: a master with mitmproxy's core addon and the `ctx` module set up."""
    from mitmproxy.test import taddons

    with taddons.context() as tctx:
        yield tctx


@pytest.fixture
def addon_factory(mitm_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """A `CorsAudit` registered in `mitm_context`, run from `tmp_path` (so the default `reports/` is there).

    Keyword arguments are options without the `cors_audit_` prefix (`scope="api"`, `mark=False`);
    `judge_factory` replaces the core's LiveJudge.
    """
    from cors_audit.addon import CorsAudit

    monkeypatch.chdir(tmp_path)

    def build(judge_factory: Callable[[], Any] | None = None, **options: Any) -> CorsAudit:
        addon = CorsAudit(judge_factory) if judge_factory is not None else CorsAudit()
        mitm_context.master.addons.add(addon)
        if options:
            mitm_context.configure(addon, **{f"cors_audit_{k}": v for k, v in options.items()})
        return addon

    return build
