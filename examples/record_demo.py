"""Record `examples/demo.har`: a small shop app whose page calls its API, through real Chromium
and a real `mitmdump` (`hardump`). `make demo` runs `cors-audit report examples/demo.har`.

    python examples/record_demo.py [--out examples/demo.har]

The app: the page `http://app.example.test` calls `http://api.example.test`. Some calls work
(a public wildcard catalogue, a profile endpoint that reflects any Origin with credentials, a
preflighted PUT and its cached repeat), some are blocked, each differently. A partner site, a
developer's `http://localhost:3000` and a sandboxed iframe (Origin `null`) also call the
reflecting endpoint, which is what turns reflection into a finding.

Everything runs on 127.0.0.1: Chromium sends every request to mitmdump, and this file, loaded
into mitmdump with `-s`, forwards each demo host to the local server (as if that server were an
upstream proxy), so the capture keeps the real-looking host names.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

DEMO_HOSTS = ("app.example.test", "api.example.test", "partner.example.org", "localhost")
APP = "http://app.example.test"
API = "http://api.example.test"


class DemoHosts:
    """mitmdump addon: send requests for the demo hosts to one local server, keeping the URL."""

    def load(self, loader: Any) -> None:
        loader.add_option("demo_server", str, "", "host:port of the local demo server")

    def request(self, flow: Any) -> None:
        from mitmproxy import ctx

        if not ctx.options.demo_server or flow.request.pretty_host not in DEMO_HOSTS:
            return
        host, port = ctx.options.demo_server.rsplit(":", 1)
        flow.server_conn.via = ("http", (host, int(port)))


addons = [DemoHosts()]


def _routes() -> dict[str, Any]:
    from tests.e2e.harness import Reply, Route

    json_type = ("Content-Type", "application/json")
    none = Route(options=(Reply(404, (("Content-Type", "text/plain"),), "Not Found"),))

    def api(*headers: tuple[str, str], body: str = '{"ok": true}', status: int = 200) -> tuple[Reply, ...]:
        return (Reply(status, (json_type, *headers), body),)

    reflect = (("Access-Control-Allow-Origin", "{origin}"), ("Access-Control-Allow-Credentials", "true"))
    cart_preflight = Reply(
        204,
        (
            ("Access-Control-Allow-Origin", "{origin}"),
            ("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE"),
            ("Access-Control-Allow-Headers", "Content-Type"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
        ),
    )
    return {
        "/api/products": Route(
            actual=api(("Access-Control-Allow-Origin", "*"), body='[{"id": 42, "name": "Teapot"}]')
        ),
        "/api/profile": Route(
            options=(
                Reply(
                    204,
                    (
                        *reflect,
                        ("Access-Control-Allow-Methods", "GET, PATCH"),
                        ("Access-Control-Allow-Headers", "Content-Type"),
                    ),
                ),
            ),
            actual=api(*reflect, body='{"name": "Ada", "email": "ada@example.test"}'),
        ),
        "/api/cart/items/42": Route(
            options=(cart_preflight,),
            actual=api(("Access-Control-Allow-Origin", APP), ("Vary", "Origin"), body='{"qty": 2}'),
        ),
        "/api/orders": Route(
            actual=api(
                ("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Credentials", "true"), body="[]"
            )
        ),
        "/api/legacy/report": Route(actual=api(body='{"rows": []}')),
        "/api/search": none,
        "/api/settings": Route(actual=api(("Access-Control-Allow-Origin", APP + "/"))),
        "/api/notifications": Route(
            actual=api(("Access-Control-Allow-Origin", f"{APP}, http://admin.example.test"), body="[]")
        ),
        "/static/logo.png": Route(
            actual=(
                Reply(200, (("Content-Type", "image/svg+xml"),), '<svg xmlns="http://www.w3.org/2000/svg"/>'),
            )
        ),
    }


def _calls() -> list[tuple[str, str, str, Any]]:
    """(page origin, API path, label, request) in the order the demo makes them."""
    from tests.e2e.harness import RequestSpec as R

    json_type = ("Content-Type", "application/json")
    partner, laptop = "http://partner.example.org", "http://localhost:3000"
    patch_headers = (json_type, ("X-Requested-With", "XMLHttpRequest"))
    return [
        (APP, "/api/products", "catalogue (wildcard)", R()),
        (APP, "/api/profile", "profile (reflected, credentials)", R(credentials="include")),
        (
            APP,
            "/api/cart/items/42",
            "cart PUT (preflighted)",
            R(method="PUT", headers=(json_type,), body='{"qty": 2}'),
        ),
        (
            APP,
            "/api/cart/items/42",
            "cart PUT again (cached preflight)",
            R(method="PUT", headers=(json_type,), body="{}"),
        ),
        (APP, "/api/orders", "orders (wildcard + credentials)", R(credentials="include")),
        (APP, "/api/legacy/report", "legacy report (no ACAO)", R()),
        (
            APP,
            "/api/search",
            "search (OPTIONS not handled)",
            R(method="POST", headers=(json_type,), body='{"q": 1}'),
        ),
        (APP, "/api/settings", "settings (trailing slash)", R()),
        (
            APP,
            "/api/profile",
            "profile PATCH",
            R(method="PATCH", headers=patch_headers, body="{}", credentials="include"),
        ),
        (APP, "/api/notifications", "notifications (XHR, two origins)", R(api="xhr")),
        (APP, "/static/logo.png", "logo (img, no-cors)", R(api="img")),
        (APP, "/api/profile", "profile from a sandboxed iframe", R(frame="sandbox", credentials="include")),
        (partner, "/api/profile", "profile from a partner site", R(credentials="include")),
        (laptop, "/api/profile", "profile from a developer's machine", R(credentials="include")),
    ]


def record(out: Path) -> list[str]:
    """Run the demo once; write the HAR to `out`; return one line per call with Chromium's verdict."""
    root = Path(__file__).resolve().parents[1]
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from tests.e2e.harness import CaseServer, ChromiumDriver, Mitmdump

    lines = []
    hosts = " | ".join(f"~d {h}" for h in DEMO_HOSTS)
    with CaseServer(_routes(), cookie="session=3f9a; Path=/; Domain=example.test; HttpOnly") as server:
        upstream = f"127.0.0.1:{server.port('page')}"
        tmp = out.with_suffix(".tmp.har")
        proxy = Mitmdump(
            tmp,
            extra_args=["-s", str(Path(__file__).resolve())],
            options={"demo_server": upstream},
            save_filter=hosts,
            log=out.with_suffix(".mitmdump.log"),
        )
        with proxy, ChromiumDriver(proxy.url) as driver:
            page = None
            for origin, path, label, spec in _calls():
                if origin != page:
                    driver.open(origin + "/")
                    page = origin
                target = API + path
                truth = driver.run(label, spec, target, origin)
                verdict = f"blocked {truth.error}" if truth.outcome == "blocked" else truth.outcome
                lines.append(f"{spec.method:6} {target:42} from {truth.frame_origin:27} {verdict}  ({label})")
        tmp.replace(out)
    out.with_suffix(".mitmdump.log").unlink(missing_ok=True)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Record examples/demo.har with real Chromium and mitmdump.")
    parser.add_argument("--out", default=str(Path(__file__).with_name("demo.har")))
    args = parser.parse_args(argv)
    out = Path(args.out)
    for line in record(out):
        print(line)
    print(f"wrote {out} ({out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
