"""Starlette's CORSMiddleware with `allow_origin_regex` (matched with re.fullmatch), for `cors-audit probe`.

    python probe_starlette.py PORT LOG

  /subdomain/data  allow_origin_regex=r"https://[a-z0-9-]+\\.example\\.com"   any subdomain: arbitrary-subdomain
  /dot/data        allow_origin_regex=r"https://app.example.com"            unescaped dots: unescaped-dot
  /suffix/data     allow_origin_regex=r"https://.*example\\.com"             no dot boundary: suffix-match
  /control/data    allow_origins=["https://app.example.com"]                exact: nothing to find

All with allow_credentials=True. Every request is appended to LOG as one JSON line.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

CONFIGURATIONS: dict[str, dict[str, Any]] = {
    "subdomain": {"allow_origin_regex": r"https://[a-z0-9-]+\.example\.com"},
    "dot": {"allow_origin_regex": r"https://app.example.com"},
    "suffix": {"allow_origin_regex": r"https://.*example\.com"},
    "control": {"allow_origins": ["https://app.example.com"]},
}


async def data(request: Request) -> JSONResponse:
    return JSONResponse({"user": "alice"})


def sub_app(options: dict[str, Any]) -> Starlette:
    return Starlette(
        routes=[Route("/data", data)],
        middleware=[Middleware(CORSMiddleware, allow_credentials=True, **options)],
    )


class RequestLog:
    """Pure ASGI middleware: one JSON line per request, before anything else sees it."""

    def __init__(self, app: Any, path: str, port: int) -> None:
        self.app, self.path, self.port = app, path, port

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            path = scope["path"] + ("?" + scope["query_string"].decode() if scope["query_string"] else "")
            line = {
                "server": "starlette",
                "port": self.port,
                "method": scope["method"],
                "path": path,
                "host": headers.get("host"),
                "origin": headers.get("origin"),
                "user_agent": headers.get("user-agent"),
                "time": time.time(),
            }
            with open(self.path, "a", encoding="utf-8") as log:
                log.write(json.dumps(line) + "\n")
        await self.app(scope, receive, send)


def main() -> None:
    port, log = int(sys.argv[1]), sys.argv[2]
    app = Starlette(routes=[Mount(f"/{name}", app=sub_app(opts)) for name, opts in CONFIGURATIONS.items()])
    uvicorn.run(RequestLog(app, log, port), host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
