"""Generate a large, realistic Chrome-style HAR for benchmarks (never commit the output).

The mix follows what a day of QA traffic looks like: same-origin documents and assets with
bodies of realistic sizes (HTML, JS, CSS, base64 images), cross-origin API calls (simple and
preflighted, with and without credentials), preflights listed after their actual request as
Chrome does, failures with `_error`, reflected-origin and wildcard responses, redirects,
HTTP/2 pseudo-headers, `_initiator` call stacks, 2-space indentation like DevTools.

    python benchmarks/gen_har.py big.har --entries 100000            # about 360 MB (--body-scale 1: 510 MB)
    python benchmarks/gen_har.py mid.har --entries 20000 --seed 7
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import IO, Any

PAGE = "https://app.example.com"
API_ORIGINS = ["https://api.example.com", "https://api.partner.test", "https://cdn.example.net"]
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
WORDS = [
    "alpha",
    "beta",
    "gamma",
    "delta",
    "epsilon",
    "zeta",
    "eta",
    "theta",
    "iota",
    "kappa",
    "lambda",
    "mu",
    "nu",
    "xi",
    "omicron",
    "pi",
    "rho",
]


# Scales every body size. Entries are about 3.4 KB without bodies (DevTools indentation, call stacks,
# timings); 0.15 makes 100,000 entries about 360 MB, near the performance issue's 300 MB capture and
# conservative: json.load pays for body bytes, cors-audit skips them. Set by --body-scale.
BODY_SCALE = 0.15


def _headers(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in pairs]


def _body(rng: random.Random, kind: str) -> dict[str, Any]:
    """Response content with a body of a realistic size for its kind (log-normal sizes)."""
    if kind == "none":
        return {"size": 0, "mimeType": "x-unknown"}
    median = {"html": 5_000, "js": 2_500, "css": 1_500, "json": 300, "image": 1_200}[kind] * BODY_SCALE
    size = int(min(400_000, max(40, rng.lognormvariate(0, 1.0) * median)))
    if kind == "image":
        raw = rng.randbytes(size * 3 // 4)
        return {
            "size": len(raw),
            "mimeType": "image/png",
            "text": base64.b64encode(raw).decode(),
            "encoding": "base64",
        }
    if kind == "json":
        items = []
        while sum(len(i) for i in items) < size:
            items.append(json.dumps({"id": rng.randrange(10**6), "name": " ".join(rng.choices(WORDS, k=4))}))
        text = "[" + ",".join(items) + "]"
        return {"size": len(text), "mimeType": "application/json", "text": text}
    chunk = {
        "html": '<div class="row"><a href="/x?q=1">"quoted" &amp; text</a></div>\n',
        "js": 'function f(a){return a.replace(/\\s+/g, "\\t")}\nconsole.log("x");\n',
        "css": '.a > .b { content: "\\201C"; color: #333; }\n',
    }[kind]
    text = (chunk * (size // len(chunk) + 1))[:size]
    mime = {"html": "text/html", "js": "text/javascript", "css": "text/css"}[kind]
    return {"size": len(text), "mimeType": mime, "text": text}


def _initiator(rng: random.Random, kind: str) -> dict[str, Any]:
    if kind == "parser":
        return {"type": "parser", "url": PAGE + "/", "lineNumber": rng.randrange(200)}
    frames = [
        {
            "functionName": rng.choice(WORDS),
            "scriptId": str(rng.randrange(10, 99)),
            "url": PAGE + "/static/app.js",
            "lineNumber": rng.randrange(5000),
            "columnNumber": rng.randrange(80),
        }
        for _ in range(rng.randrange(1, 4))
    ]
    return {"type": "script", "stack": {"callFrames": frames}}


def _timings(rng: random.Random) -> dict[str, float]:
    return {
        "blocked": rng.random() * 5,
        "dns": -1,
        "ssl": -1,
        "connect": -1,
        "send": 0.1,
        "wait": rng.random() * 80,
        "receive": rng.random() * 10,
        "_blocked_queueing": rng.random(),
    }


def _request_headers(url: str, method: str, extra: list[tuple[str, str]]) -> list[tuple[str, str]]:
    scheme, rest = url.split("://", 1)
    authority, _, path = rest.partition("/")
    return [
        (":authority", authority),
        (":method", method),
        (":path", "/" + path),
        (":scheme", scheme),
        ("accept", "*/*"),
        ("accept-encoding", "gzip, deflate, br, zstd"),
        ("accept-language", "en-US,en;q=0.9"),
        ("priority", "u=1, i"),
        ("sec-ch-ua", '"Chromium";v="156", "Not)A;Brand";v="24"'),
        ("sec-ch-ua-mobile", "?0"),
        ("sec-ch-ua-platform", '"Linux"'),
        ("user-agent", UA),
    ] + extra


def _response_headers(rng: random.Random, extra: list[tuple[str, str]], mime: str) -> list[tuple[str, str]]:
    return [
        ("date", "Wed, 01 May 2024 10:00:00 GMT"),
        ("content-type", mime),
        ("server", "nginx"),
        ("cache-control", rng.choice(["no-cache", "max-age=3600", "private, max-age=0"])),
        ("etag", f'"{rng.getrandbits(64):016x}"'),
        ("x-request-id", f"{rng.getrandbits(128):032x}"),
    ] + extra


def _entry(
    rng: random.Random,
    started: datetime,
    method: str,
    url: str,
    status: int,
    req_extra: list[tuple[str, str]],
    resp_extra: list[tuple[str, str]],
    body_kind: str,
    resource_type: str,
    initiator: dict[str, Any],
    error: str | None = None,
) -> dict[str, Any]:
    content = _body(rng, body_kind)
    query = url.partition("?")[2]
    return {
        "_connectionId": str(rng.randrange(1000, 99999)),
        "_initiator": initiator,
        "_priority": "High",
        "_resourceType": resource_type,
        "cache": {},
        "connection": "443",
        "pageref": "page_1",
        "request": {
            "method": method,
            "url": url,
            "httpVersion": "http/2.0",
            "headers": _headers(_request_headers(url, method, req_extra)),
            "queryString": [
                {"name": k, "value": v} for k, _, v in (p.partition("=") for p in query.split("&") if p)
            ],
            "cookies": [],
            "headersSize": -1,
            "bodySize": 0,
        },
        "response": {
            "status": status,
            "statusText": "",
            "httpVersion": "http/2.0",
            "headers": _headers(_response_headers(rng, resp_extra, content["mimeType"]) if status else []),
            "cookies": [],
            "content": content,
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": content["size"],
            "_transferSize": content["size"] + 300,
            "_error": error,
        },
        "serverIPAddress": f"203.0.113.{rng.randrange(1, 250)}",
        "startedDateTime": started.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "time": rng.random() * 100,
        "timings": _timings(rng),
    }


def generate(out: IO[str], entries: int, seed: int, body_scale: float | None = None) -> int:
    """Write a HAR with exactly `entries` entries; returns the count written."""
    global BODY_SCALE
    if body_scale is not None:
        BODY_SCALE = body_scale
    rng = random.Random(seed)
    now = datetime(2024, 5, 1, 10, 0, 0, tzinfo=UTC)
    out.write(
        '{\n  "log": {\n    "version": "1.2",\n    "creator": {"name": "WebInspector", "version": "537.36"},\n'
    )
    out.write(
        f'    "pages": [{{"startedDateTime": "2024-05-01T10:00:00.000Z", "id": "page_1", "title": "{PAGE}/", '
        '"pageTimings": {"onContentLoad": 300, "onLoad": 500}}],\n    "entries": ['
    )
    written = 0

    def emit(entry: dict[str, Any]) -> None:
        nonlocal written
        if written >= entries:
            return
        out.write(("\n" if written == 0 else ",\n") + json.dumps(entry, indent=2))
        written += 1

    n = 0
    while written < entries:
        n += 1
        now += timedelta(milliseconds=rng.randrange(1, 400))
        roll = rng.random()
        api = rng.choice(API_ORIGINS)
        cookie = [("cookie", f"sid={rng.getrandbits(128):032x}; theme=dark")] if rng.random() < 0.4 else []
        cors_req = [
            ("origin", PAGE),
            ("referer", PAGE + "/"),
            ("sec-fetch-dest", "empty"),
            ("sec-fetch-mode", "cors"),
            ("sec-fetch-site", "same-site"),
        ]
        if roll < 0.45:  # same-origin asset or document
            kind = rng.choice(["js", "css", "image", "image", "html"])
            rtype = {"js": "script", "css": "stylesheet", "image": "image", "html": "document"}[kind]
            url = f"{PAGE}/static/{rng.choice(WORDS)}{n}.{ {'js': 'js', 'css': 'css', 'image': 'png', 'html': 'html'}[kind] }"
            emit(
                _entry(
                    rng,
                    now,
                    "GET",
                    url,
                    200,
                    [("sec-fetch-mode", "no-cors" if kind != "html" else "navigate")] + cookie,
                    [],
                    kind,
                    rtype,
                    _initiator(rng, "parser"),
                )
            )
        elif roll < 0.75:  # simple cross-origin GET
            acao = rng.choice(
                [
                    [("access-control-allow-origin", PAGE), ("vary", "Origin")],
                    [("access-control-allow-origin", "*")],
                    [("access-control-allow-origin", PAGE), ("access-control-allow-credentials", "true")],
                    [],
                ]
            )
            error = None if acao else "net::ERR_FAILED"
            emit(
                _entry(
                    rng,
                    now,
                    "GET",
                    f"{api}/v1/items/{n}?page={n % 7}",
                    200,
                    cors_req + cookie,
                    acao,
                    "json",
                    "fetch",
                    _initiator(rng, "script"),
                    error,
                )
            )
        elif roll < 0.93:  # preflighted PUT: actual first, then its preflight (Chrome's order)
            url = f"{api}/v1/items/{n}"
            req = cors_req + [
                ("content-type", "application/json"),
                ("x-trace", f"{rng.getrandbits(64):016x}"),
            ]
            ok = rng.random() < 0.8
            allow = [
                ("access-control-allow-origin", PAGE),
                ("access-control-allow-credentials", "true"),
                ("access-control-allow-methods", "GET, PUT, DELETE"),
                ("access-control-allow-headers", "content-type, x-trace"),
                ("access-control-max-age", "600"),
            ]
            emit(
                _entry(
                    rng,
                    now,
                    "PUT",
                    url,
                    200 if ok else 0,
                    req,
                    allow[:2] if ok else [],
                    "json" if ok else "none",
                    "fetch",
                    _initiator(rng, "script"),
                    None if ok else "net::ERR_FAILED",
                )
            )
            pre = [
                ("origin", PAGE),
                ("access-control-request-method", "PUT"),
                ("access-control-request-headers", "content-type,x-trace"),
                ("sec-fetch-mode", "cors"),
            ]
            emit(
                _entry(
                    rng,
                    now + timedelta(milliseconds=1),
                    "OPTIONS",
                    url,
                    204,
                    pre,
                    allow if ok else [],
                    "none",
                    "preflight",
                    {"type": "preflight", "url": url, "requestId": str(n)},
                )
            )
        elif roll < 0.97:  # redirect hop
            emit(
                _entry(
                    rng,
                    now,
                    "GET",
                    f"{api}/old/{n}",
                    302,
                    cors_req,
                    [("location", f"{api}/new/{n}"), ("access-control-allow-origin", "*")],
                    "none",
                    "fetch",
                    _initiator(rng, "script"),
                )
            )
        else:  # network failure
            emit(
                _entry(
                    rng,
                    now,
                    "GET",
                    f"https://down.example.org/{n}",
                    0,
                    cors_req,
                    [],
                    "none",
                    "xhr",
                    _initiator(rng, "script"),
                    "net::ERR_CONNECTION_REFUSED",
                )
            )
    out.write("\n    ]\n  }\n}\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out")
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--body-scale", type=float, default=BODY_SCALE, help="multiply body sizes (default %(default)s)"
    )
    args = parser.parse_args(argv)
    with open(args.out, "w", encoding="utf-8") as f:
        count = generate(f, args.entries, args.seed, args.body_scale)
        size = f.tell()
    print(f"{args.out}: {count} entries, {size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
