"""End-to-end harness: real loopback servers, a real `mitmdump`, real headless Chromium.

Three pieces, each a context manager, composable by any e2e test:

- `CaseServer`: three origins on 127.0.0.1 (the page and two APIs, told apart by port) that
  answer data-driven `Route`s: per path, a status and ordered header lines for OPTIONS and for
  every other method, with placeholders such as `{origin}` and `{api2}` (see `Reply`).
- `Mitmdump`: the venv's `mitmdump` binary on a free port, writing a HAR (`hardump`) when it
  is stopped with SIGINT.
- `ChromiumDriver`: Playwright + CDP. It runs one request spec at a time in the page and returns
  what Chromium itself decided (`Truth`): allowed / blocked / not-cors, the CDP `corsError`
  name, the failed parameter and the console text.

The server side is standard library only; Playwright is imported when a driver starts.
"""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, Self
from urllib.parse import urlsplit

HOST = "127.0.0.1"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
COOKIE = "sid=oracle-cookie"
LOOPBACK_ONLY = "~d 127.0.0.1"  # mitmproxy filter expression: flows to 127.0.0.1
Target = Literal["page", "api1", "api2"]
Api = Literal[
    "fetch",
    "xhr",
    "beacon",
    "img",
    "script",
    "module",
    "link",
    "font",
    "video",
    "audio",
    "eventsource",
    "iframe",
    "form",
]
BodyKind = Literal["text", "blob", "formdata", "urlsearchparams", "arraybuffer"]
Abort = Literal["", "close", "reset"]
Frame = Literal["main", "sandbox"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 30.0, alive: Any = None) -> None:
    """Block until something accepts connections on 127.0.0.1:`port`.

    `alive` is an optional zero-argument callable; when it returns False the wait gives up early
    (the process that should listen has died).
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"process meant to listen on port {port} exited")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout:.0f}s")


SERVERS = Path(__file__).parent / "servers"


@contextlib.contextmanager
def serve(command: list[str], ports: Sequence[int], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """One lab server process started from tests/e2e/servers, waited for on every port it listens
    on, and stopped by its own handle (SIGTERM, then SIGKILL). Its output goes to `log`, whose tail
    is the error when it does not come up."""
    with open(log, "wb") as out:
        process = subprocess.Popen(
            command, cwd=SERVERS, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        try:
            for port in ports:
                wait_for_port(port, timeout=60, alive=lambda: process.poll() is None)
            yield process
        except (RuntimeError, TimeoutError) as exc:
            raise RuntimeError(
                f"{command[1]} did not start: {log.read_text(errors='replace')[-800:]}"
            ) from exc
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=15)


# --------------------------------------------------------------------------------------------
# Server behaviour, as data


@dataclass(frozen=True, slots=True)
class Reply:
    """One response: status, ordered header lines (duplicates kept, sent exactly), body.

    `abort` makes the server send nothing at all: "close" shuts the connection (FIN), "reset"
    drops it with a TCP RST (SO_LINGER 0), for the §5 P1 "no response" cases. Beware: through
    mitmdump, Chromium never sees the drop itself; mitmproxy answers it with its own 502.

    Header values (and the body, when `template_body` is set) are `str.format_map` templates
    over: `{origin}` (the request's Origin, or ""), `{page}`, `{api1}`, `{api2}` (origins),
    `{self}` (the answering origin), `{host}`, `{page_port}`, `{api1_port}`, `{api2_port}`,
    `{path}` (the route's base path, e.g. "/c/some-case"), `{acrm}`, `{acrh}` (the request's
    Access-Control-Request-* values). Write `{{` / `}}` for literal braces in a template.
    """

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()
    body: str = ""
    template_body: bool = False
    abort: Abort = ""


@dataclass(frozen=True, slots=True)
class Route:
    """What one path answers. The n-th OPTIONS gets `options[n]` (the last one repeats), and
    likewise every other method gets `actual[n]`; so a route can change its answer between a
    first and a second preflight (how the preflight-cache cases make the cache observable)."""

    options: tuple[Reply, ...] = (Reply(404, (("Content-Type", "text/plain"),), "no preflight here"),)
    actual: tuple[Reply, ...] = (Reply(200, (("Content-Type", "text/plain"),), "ok"),)


@dataclass(frozen=True, slots=True)
class Hit:
    """One request a CaseServer received (for debugging and for server-side assertions)."""

    role: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]


# The in-page runner. `runCase(spec)` issues exactly one request and settles when the page
# would know the outcome; it never throws.
RUNNER_JS = r"""
function makeBody(s) {
  const text = s.body === null ? '' : s.body;
  if (s.body_kind === 'blob') {
    return s.body_type === null ? new Blob([text]) : new Blob([text], {type: s.body_type});
  }
  if (s.body_kind === 'formdata') { const f = new FormData(); f.append('q', text); return f; }
  if (s.body_kind === 'urlsearchparams') return new URLSearchParams({q: text});
  if (s.body_kind === 'arraybuffer') return new TextEncoder().encode(text).buffer;
  return s.body;
}
window.runCase = async function (s) {
  const out = {ok: false, status: null, error: null, type: null};
  const done = (extra) => Object.assign(out, extra);
  try {
    if (s.api === 'fetch') {
      const init = {method: s.method};
      if (s.mode) init.mode = s.mode;
      if (s.credentials) init.credentials = s.credentials;
      if (s.redirect) init.redirect = s.redirect;
      if (s.headers.length) {
        const h = new Headers();
        for (const [n, v] of s.headers) h.append(n, v);
        init.headers = h;
      }
      if (s.body !== null) init.body = makeBody(s);
      if (s.keepalive) init.keepalive = true;
      const r = await fetch(s.url, init);
      done({ok: true, status: r.status, type: r.type});
      try { await r.text(); } catch (e) {}
    } else if (s.api === 'xhr') {
      await new Promise((resolve) => {
        const x = new XMLHttpRequest();
        x.open(s.method, s.url);
        if (s.credentials === 'include') x.withCredentials = true;
        for (const [n, v] of s.headers) x.setRequestHeader(n, v);
        if (s.upload_listener) x.upload.onprogress = function () {};
        x.onload = () => { done({ok: true, status: x.status}); resolve(); };
        x.onerror = () => { done({error: 'XMLHttpRequest error event'}); resolve(); };
        x.send(s.body === null ? null : makeBody(s));
      });
    } else if (s.api === 'beacon') {
      // sendBeacon only queues the request; the driver waits for it in CDP.
      done({ok: navigator.sendBeacon(s.url, s.body === null ? null : makeBody(s))});
    } else if (s.api === 'img' || s.api === 'script' || s.api === 'module' || s.api === 'link') {
      await new Promise((resolve) => {
        const el = document.createElement(s.api === 'module' ? 'script' : s.api);
        if (s.api === 'module') el.type = 'module';  // module scripts are always cors mode
        if (s.crossorigin !== null) el.setAttribute('crossorigin', s.crossorigin);
        el.onload = () => { done({ok: true}); resolve(); };
        el.onerror = () => { done({error: s.api + ' error event'}); resolve(); };
        if (s.api === 'link') { el.rel = 'stylesheet'; el.href = s.url; } else { el.src = s.url; }
        (s.api === 'link' ? document.head : document.body).appendChild(el);
      });
    } else if (s.api === 'video' || s.api === 'audio') {
      await new Promise((resolve) => {
        const el = document.createElement(s.api);
        if (s.crossorigin !== null) el.setAttribute('crossorigin', s.crossorigin);
        el.preload = 'auto';
        el.muted = true;
        el.onloadeddata = () => { done({ok: true}); resolve(); };
        el.onerror = () => { done({error: 'video error ' + (el.error && el.error.code)}); resolve(); };
        el.src = s.url;
        document.body.appendChild(el);
      });
    } else if (s.api === 'font') {
      // @font-face loads are always cors mode (credentials same-origin).
      const family = 'oracle-' + Math.random().toString(36).slice(2);
      const style = document.createElement('style');
      style.textContent = '@font-face { font-family: "' + family + '"; src: url("' + s.url + '"); }';
      document.head.appendChild(style);
      try {
        const faces = await document.fonts.load('16px "' + family + '"');
        done({ok: faces.length > 0});
      } catch (e) {
        done({error: String(e)});
      }
    } else if (s.api === 'eventsource') {
      await new Promise((resolve) => {
        const es = new EventSource(s.url, {withCredentials: s.credentials === 'include'});
        es.onmessage = () => { done({ok: true}); };
        // The end of the stream and a CORS failure both fire 'error'; close so it never reconnects.
        es.onerror = () => { es.close(); if (!out.ok) done({error: 'EventSource error event'}); resolve(); };
      });
    } else if (s.api === 'iframe') {
      await new Promise((resolve) => {
        const f = document.createElement('iframe');
        f.onload = () => { done({ok: true}); resolve(); };
        f.src = s.url;
        document.body.appendChild(f);
      });
    } else if (s.api === 'form') {
      await new Promise((resolve) => {
        const name = 'form-target-' + Math.random().toString(36).slice(2);
        const f = document.createElement('iframe');
        f.name = name;
        document.body.appendChild(f);
        f.onload = () => { done({ok: true}); resolve(); };
        const form = document.createElement('form');
        form.method = s.method;
        form.action = s.url;
        form.target = name;
        const input = document.createElement('input');
        input.name = 'q';
        input.value = s.body || 'x';
        form.appendChild(input);
        document.body.appendChild(form);
        form.submit();
      });
    } else {
      done({error: 'unknown api ' + s.api});
    }
  } catch (e) {
    done({error: String(e)});
  }
  return out;
};
"""


# The runner is inlined, so the only requests a page makes are its own load and the cases: a
# sandboxed frame's <script src> would otherwise add a no-cors GET carrying `Origin: null`.
DEFAULT_PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8"><title>cors-audit oracle</title>\n'
    '<link rel="icon" href="data:,"></head>\n<body><h1>cors-audit oracle page</h1>\n'
    '<iframe name="sandbox" sandbox="allow-scripts" src="/sandbox.html"></iframe>\n'
    f"<script>{RUNNER_JS}</script>\n</body></html>\n"
)
SANDBOX_PAGE = (
    '<!doctype html>\n<html><head><meta charset="utf-8"><link rel="icon" href="data:,"></head>\n'
    f"<body>sandbox<script>{RUNNER_JS}</script></body></html>\n"
)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Answers every method (including `patch`, `Foo`) from the owning CaseServer's routes."""

    protocol_version = "HTTP/1.1"
    server: _RoleServer

    def __getattr__(self, name: str) -> Any:
        # BaseHTTPRequestHandler dispatches on `do_<METHOD>`; accept any method spelling.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.command == "CONNECT":
            # mitmproxy tunnels to a server it was told to use as an upstream proxy
            # (`flow.server_conn.via`); carry on serving plain HTTP inside the tunnel.
            self.send_response_only(200, "Connection established")
            self.end_headers()
            return
        owner = self.server.owner
        role = self.server.role
        path = urlsplit(self.path).path
        owner.record(Hit(role, self.command, path, tuple(self.headers.items())))
        reply, base = owner.reply_for(role, self.command, path)
        values = owner.placeholders(role, base, self.headers)
        self._send(reply, values)

    def _send(self, reply: Reply, values: Mapping[str, str]) -> None:
        if reply.abort:
            self._abort(reply.abort)
            return
        body = (reply.body.format_map(values) if reply.template_body else reply.body).encode()
        self.send_response_only(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value.format_map(values))
        no_body = reply.status in (204, 304) or 100 <= reply.status < 200 or self.command == "HEAD"
        if not no_body:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not no_body:
            self.wfile.write(body)

    def _abort(self, how: Abort) -> None:
        """Answer nothing: close the connection (FIN) or reset it (RST)."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            if how == "reset":
                # SO_LINGER on, 0 seconds: close() sends RST instead of FIN.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)


class _RoleServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, role: str, owner: CaseServer) -> None:
        super().__init__((HOST, 0), _Handler)
        self.role = role
        self.owner = owner


class CaseServer:
    """The page origin and two API origins on 127.0.0.1, answering data-driven routes.

    Every origin serves the same route table (so a redirect can go to any origin with the same
    data); the page origin also serves the runner page at `/`, which sets the cookie `COOKIE`
    for host 127.0.0.1 (cookies ignore ports, so `credentials: 'include'` requests to the API
    ports carry it and others don't).
    """

    ROLES: tuple[Target, ...] = ("page", "api1", "api2")

    def __init__(
        self, routes: Mapping[str, Route] | None = None, *, cookie: str = f"{COOKIE}; Path=/"
    ) -> None:
        self._routes: dict[str, Route] = dict(routes or {})
        self.cookie = cookie
        self._counts: dict[tuple[str, str, str], int] = {}
        self._lock = threading.Lock()
        self.hits: list[Hit] = []
        self._servers: dict[str, _RoleServer] = {}
        self._threads: list[threading.Thread] = []

    # lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        for role in self.ROLES:
            server = _RoleServer(role, self)
            thread = threading.Thread(target=server.serve_forever, name=f"case-{role}", daemon=True)
            thread.start()
            self._servers[role] = server
            self._threads.append(thread)

    def stop(self) -> None:
        for server in self._servers.values():
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    # addresses -----------------------------------------------------------------------------
    def port(self, role: str) -> int:
        return int(self._servers[role].server_address[1])

    def origin(self, role: str) -> str:
        return f"http://{HOST}:{self.port(role)}"

    @property
    def page(self) -> str:
        return self.origin("page")

    def url(self, role: str, path: str) -> str:
        return self.origin(role) + path

    # routes ------------------------------------------------------------------------------
    def add_routes(self, routes: Mapping[str, Route]) -> None:
        with self._lock:
            self._routes.update(routes)

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)

    def reply_for(self, role: str, method: str, path: str) -> tuple[Reply, str]:
        """The reply for one request and the base path its placeholders see."""
        if role == "page" and method in ("GET", "HEAD"):
            builtin = self._builtin(path)
            if builtin is not None:
                return builtin, path
        with self._lock:
            route = self._routes.get(path)
            if route is None:
                return Reply(404, (("Content-Type", "text/plain"),), f"no route {path}"), path
            kind = "options" if method == "OPTIONS" else "actual"
            key = (role, path, kind)
            n = self._counts.get(key, 0)
            self._counts[key] = n + 1
        replies = route.options if kind == "options" else route.actual
        return replies[min(n, len(replies) - 1)], _base_path(path)

    def _builtin(self, path: str) -> Reply | None:
        html = (("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"))
        if path == "/":
            return Reply(200, (*html, ("Set-Cookie", self.cookie)), DEFAULT_PAGE)
        if path == "/sandbox.html":
            return Reply(200, html, SANDBOX_PAGE)
        if path == "/runner.js":
            js = (("Content-Type", "text/javascript"), ("Cache-Control", "no-store"))
            return Reply(200, js, RUNNER_JS)
        if path == "/favicon.ico":
            return Reply(204)
        return None

    def placeholders(self, role: str, base: str, headers: Any) -> dict[str, str]:
        values: dict[str, str] = {r: self.origin(r) for r in self.ROLES}
        values.update({f"{r}_port": str(self.port(r)) for r in self.ROLES})
        values.update(
            origin=headers.get("Origin", ""),
            self=self.origin(role),
            host=HOST,
            path=base,
            acrm=headers.get("Access-Control-Request-Method", ""),
            acrh=headers.get("Access-Control-Request-Headers", ""),
        )
        return values


def _base_path(path: str) -> str:
    """`/c/<name>/<hop>` -> `/c/<name>`: the part `{path}` placeholders refer to."""
    parts = path.split("/")
    return "/".join(parts[:3]) if len(parts) > 3 and parts[1] == "c" else path


# --------------------------------------------------------------------------------------------
# mitmdump


def venv_bin(name: str) -> str:
    """A console script next to the running interpreter (the venv's `mitmdump`)."""
    return str(Path(sys.executable).parent / name)


class Mitmdump:
    """The real `mitmdump` on a free loopback port, recording a HAR via `--set hardump=PATH`.

    Leaving the block (or `stop()`) sends SIGINT, which makes mitmproxy run its `done` hooks,
    so the HAR (and any addon report) is written; `kill()` sends SIGKILL to test crash paths.
    `extra_args` go to the command line as they are (e.g. `["-s", "addons/cors_audit.py"]`);
    `options` become `--set key=value`. `save_filter` (mitmproxy's `save_stream_filter`) keeps
    the HAR to loopback traffic by default: Chromium 156 still calls update.googleapis.com
    despite `--disable-component-update`, and that flow is noise in an oracle corpus.

    Beware: mitmproxy's `Request.method` is upper-cased on read, so a HAR (or any addon that
    reads `flow.request.method`) shows `PATCH` where Chromium sent `patch`; the raw bytes are in
    `flow.request.data.method`.
    """

    def __init__(
        self,
        har: str | os.PathLike[str] | None = None,
        *,
        extra_args: Sequence[str] = (),
        options: Mapping[str, str] | None = None,
        log: str | os.PathLike[str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        binary: str | None = None,
        save_filter: str | None = LOOPBACK_ONLY,
    ) -> None:
        self.har = Path(har) if har is not None else None
        self.save_filter = save_filter
        self.extra_args = list(extra_args)
        self.options = dict(options or {})
        self.log = Path(log) if log is not None else None
        self.cwd = cwd
        self.binary = binary or venv_bin("mitmdump")
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self._log_file: Any = None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def command(self) -> list[str]:
        cmd = [self.binary, "--listen-host", HOST, "--listen-port", str(self.port)]
        cmd += ["--set", "connection_strategy=lazy", "--set", "termlog_verbosity=info"]
        # Never intercept TLS: the cases are plain http, and Chromium's own background
        # connections (accounts.google.com, ...) should pass through untouched, not fail a handshake.
        cmd += ["--set", "ignore_hosts=.*"]
        if self.har is not None:
            cmd += ["--set", f"hardump={self.har}"]
        if self.save_filter:
            cmd += ["--set", f"save_stream_filter={self.save_filter}"]
        for key, value in self.options.items():
            cmd += ["--set", f"{key}={value}"]
        return cmd + self.extra_args

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, attempts: int = 3) -> None:
        for attempt in range(attempts):
            self.port = free_port()
            out = open(self.log, "ab") if self.log else subprocess.DEVNULL  # noqa: SIM115
            self._log_file = out if self.log else None
            self.process = subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=self.cwd
            )
            try:
                wait_for_port(self.port, timeout=60, alive=lambda: self.process.poll() is None)  # type: ignore[union-attr]
                return
            except (RuntimeError, TimeoutError):
                self._reap(signal.SIGKILL, 10)
                if attempt == attempts - 1:
                    raise

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGINT and wait: mitmproxy shuts down cleanly and writes the HAR. Returns the exit code."""
        return self._reap(signal.SIGINT, timeout)

    def kill(self) -> int | None:
        """SIGKILL: no shutdown hooks run (for crash-safety tests)."""
        return self._reap(signal.SIGKILL, 30)

    def _reap(self, sig: int, timeout: float) -> int | None:
        proc = self.process
        if proc is None:
            return None
        code = proc.poll()
        if code is None:
            proc.send_signal(sig)
            try:
                code = proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(timeout=30)
        self.process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return code


# --------------------------------------------------------------------------------------------
# Chromium


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """One request the page makes. `api` picks the initiator; the rest are its options.

    `credentials`: for fetch, the RequestInit value (None = default, i.e. same-origin); for XHR,
    "include" sets `withCredentials`. `target` is the origin it goes to; `frame` "sandbox" runs it
    from a sandboxed iframe (opaque origin, `Origin: null`). `upload_listener` makes an XHR
    cors-with-forced-preflight. `crossorigin` is the element attribute for img/script/link/video/
    audio (None: absent, so no-cors; "" or "anonymous"; "use-credentials"); "module" is a
    `<script type=module>` (always cors), "beacon" is `navigator.sendBeacon(url, body)`.
    `body_kind` builds the body from `body` as a string, Blob (of `body_type`), FormData,
    URLSearchParams or ArrayBuffer; `keepalive` sets fetch's keepalive flag.
    """

    api: Api = "fetch"
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    credentials: str | None = None
    mode: str | None = None
    body: str | None = None
    target: Target = "api1"
    frame: Frame = "main"
    redirect: str | None = None
    upload_listener: bool = False
    crossorigin: str | None = None
    body_kind: BodyKind = "text"
    body_type: str | None = None
    keepalive: bool = False

    def to_js(self, url: str) -> dict[str, Any]:
        return {
            "api": self.api,
            "method": self.method,
            "headers": [list(h) for h in self.headers],
            "credentials": self.credentials,
            "mode": self.mode,
            "body": self.body,
            "redirect": self.redirect,
            "upload_listener": self.upload_listener,
            "crossorigin": self.crossorigin,
            "body_kind": self.body_kind,
            "body_type": self.body_type,
            "keepalive": self.keepalive,
            "url": url,
        }


@dataclass(slots=True)
class CdpRequest:
    """What CDP said about one requestId."""

    request_id: str
    url: str
    method: str
    type: str | None
    initiator: dict[str, Any]
    hops: list[str] = field(default_factory=list)
    wire_headers: list[dict[str, str]] = field(default_factory=list)
    status: int | None = None
    finished: bool = False
    failed: dict[str, Any] | None = None

    @property
    def done(self) -> bool:
        return self.finished or self.failed is not None

    @property
    def is_preflight(self) -> bool:
        # requestWillBeSent says type "Other" + initiator.type "preflight"; responseReceived says "Preflight".
        return self.type == "Preflight" or self.initiator.get("type") == "preflight"

    @property
    def preflight_of(self) -> str | None:
        return self.initiator.get("requestId") if self.is_preflight else None


@dataclass(slots=True)
class Truth:
    """Chromium's own decision for one case, keyed on the main (non-preflight) request."""

    case: str
    url: str
    final_url: str
    method: str
    initiator: str
    frame_origin: str
    credentials: str | None
    outcome: str  # allowed | blocked | not-cors | error | absent
    error: str | None = None
    net_error: str | None = None  # outcome "error" from a plain network error (net::ERR_...), no CorsError
    failed_parameter: str | None = None
    message: str | None = None
    error_text: str | None = None
    status: int | None = None
    preflight_sent: bool = False
    preflights: int = 0
    cookie_sent: bool = False
    origin_header: str | None = None
    hops: list[str] = field(default_factory=list)
    js: dict[str, Any] = field(default_factory=dict)
    console: list[str] = field(default_factory=list)
    request_type: str | None = None
    preflight_statuses: list[int | None] = field(default_factory=list)
    preflight_headers: list[dict[str, str]] = field(default_factory=list)
    wire_headers: list[dict[str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = parts.port
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}" + ("" if port in (None, default) else f":{port}")


CORS_CONSOLE_PREFIX = "Access to "


class ChromiumDriver:
    """Headless Chromium (Playwright, sync API) with a CDP `Network` recorder on one page.

    `run(case_id, spec, url)` issues the request from the page (or its sandboxed iframe), waits
    until CDP reports the main request finished or failed (and, if CORS blocked it, until the
    console message arrived), and returns a `Truth`. Cases run strictly one after another, so
    every CDP event and console line seen in between belongs to that case.

    How requests appear in CDP (observed in Chromium 156):
    - The page's request has its own requestId and resource `type` ("Fetch", "XHR", "Document",
      "Image", ...); a redirect reuses the requestId (another `requestWillBeSent` carrying
      `redirectResponse`).
    - A CORS preflight has a requestId of its own (a long hex id, not "<pid>.<n>"). Its
      `requestWillBeSent` says `type: "Other"` with `initiator: {"type": "preflight", "requestId":
      <main id>}` and usually arrives BEFORE the main request's; only its `responseReceived`
      says `type: "Preflight"`. A failed preflight still ends in `loadingFinished`.
    - A CORS failure is `loadingFailed` on the main requestId (`errorText: "net::ERR_FAILED"`,
      `corsErrorStatus: {corsError, failedParameter}`); the main request then has no
      `responseReceived`, and no `requestWillBeSentExtraInfo` when it never went on the wire.
    - The console line ("Access to fetch at ...") comes through `Log.entryAdded` and Playwright's
      console event, followed by "Failed to load resource: net::ERR_FAILED".
    - A sandboxed iframe is an out-of-process frame: it needs its own CDP session.
    """

    def __init__(
        self,
        proxy: str | None = None,
        *,
        executable: str = CHROMIUM,
        extra_args: Sequence[str] = (),
        settle_timeout: float = 10.0,
        absent_after: float = 2.0,
    ) -> None:
        self.proxy = proxy
        self.executable = executable
        self.extra_args = list(extra_args)
        self.settle_timeout = settle_timeout
        self.absent_after = absent_after
        self._pw: Any = None
        self.browser: Any = None
        self.context: Any = None
        self.page: Any = None
        self.cdp: Any = None
        self.version = ""
        self._requests: dict[str, CdpRequest] = {}
        self._extra: dict[str, list[dict[str, str]]] = {}
        self._console: list[str] = []
        self._sessions: list[Any] = []

    def __enter__(self) -> Self:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        launch: dict[str, Any] = {
            "executable_path": self.executable,
            "headless": True,
            "args": [*CHROMIUM_FLAGS, *self.extra_args],
        }
        if self.proxy:
            launch["proxy"] = {"server": self.proxy, "bypass": "<-loopback>"}
        try:
            self.browser = self._pw.chromium.launch(**launch)
            self.version = self.browser.version
            self.context = self.browser.new_context()
            self.page = self.context.new_page()
            self.cdp = self._listen(self.page)
            self.page.on("console", self._on_console)
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        for closer in (self.context, self.browser):
            if closer is not None:
                with contextlib.suppress(Exception):
                    closer.close()
        if self._pw is not None:
            with contextlib.suppress(Exception):
                self._pw.stop()
        self._pw = self.browser = self.context = self.page = self.cdp = None
        self._sessions.clear()

    def _listen(self, target: Any) -> Any:
        """A CDP session on a page or an out-of-process frame, feeding this driver's recorder."""
        cdp = self.context.new_cdp_session(target)
        cdp.on("Network.requestWillBeSent", self._on_will_be_sent)
        cdp.on("Network.requestWillBeSentExtraInfo", self._on_extra_info)
        cdp.on("Network.responseReceived", self._on_response)
        cdp.on("Network.loadingFinished", self._on_finished)
        cdp.on("Network.loadingFailed", self._on_failed)
        cdp.on("Log.entryAdded", self._on_log)
        cdp.send("Network.enable")
        cdp.send("Log.enable")
        self._sessions.append(cdp)
        return cdp

    # CDP listeners ----------------------------------------------------------------------------
    def _on_will_be_sent(self, ev: dict[str, Any]) -> None:
        rid = ev["requestId"]
        req = ev["request"]
        url = req["url"]
        known = self._requests.get(rid)
        if known is not None and ev.get("redirectResponse"):
            known.status = ev["redirectResponse"].get("status")
            known.hops.append(url)
            return
        self._requests[rid] = CdpRequest(
            request_id=rid,
            url=url,
            method=req["method"],
            type=ev.get("type"),
            initiator=ev.get("initiator") or {},
            hops=[url],
            wire_headers=self._extra.pop(rid, []),
        )

    def _on_extra_info(self, ev: dict[str, Any]) -> None:
        headers = {k.lower(): v for k, v in (ev.get("headers") or {}).items()}
        req = self._requests.get(ev["requestId"])
        if req is None:  # ExtraInfo may arrive before requestWillBeSent
            self._extra.setdefault(ev["requestId"], []).append(headers)
        else:
            req.wire_headers.append(headers)

    def _on_response(self, ev: dict[str, Any]) -> None:
        req = self._requests.get(ev["requestId"])
        if req is not None:
            req.status = ev["response"].get("status")
            if ev.get("type") == "Preflight":
                req.type = "Preflight"

    def _on_finished(self, ev: dict[str, Any]) -> None:
        req = self._requests.get(ev["requestId"])
        if req is not None:
            req.finished = True

    def _on_failed(self, ev: dict[str, Any]) -> None:
        req = self._requests.get(ev["requestId"])
        if req is not None:
            req.failed = ev

    def _on_log(self, ev: dict[str, Any]) -> None:
        text = (ev.get("entry") or {}).get("text") or ""
        if text and text not in self._console:
            self._console.append(text)

    def _on_console(self, msg: Any) -> None:
        text = msg.text
        if text and text not in self._console:
            self._console.append(text)

    # driving ---------------------------------------------------------------------------------
    def open(self, url: str) -> None:
        """Load the runner page (sets the cookie) and wait for the sandboxed frame."""
        self.page.goto(url, wait_until="load")
        self.page.wait_for_function("() => typeof window.runCase === 'function'")
        sandbox = self._frame("sandbox")
        sandbox.wait_for_function("() => typeof window.runCase === 'function'")
        # Chromium 156 isolates sandboxed iframes in their own process (an OOPIF): the page's CDP
        # session does not see their network events, so the frame gets a session of its own.
        with contextlib.suppress(Exception):  # "not a separate CDP session" when in-process
            self._listen(sandbox)
        self.pump(0.2)

    def pump(self, seconds: float) -> None:
        """Let Playwright deliver pending events (the sync API only dispatches while waiting)."""
        self.page.wait_for_timeout(int(seconds * 1000))

    def _frame(self, name: Frame) -> Any:
        if name == "main":
            return self.page.main_frame
        frame = self.page.frame(name=name)
        if frame is None:
            raise RuntimeError(f"no frame named {name!r}")
        return frame

    def run(self, case_id: str, spec: RequestSpec, url: str, page_origin: str) -> Truth:
        """Issue one request and return what Chromium decided about it."""
        self._requests.clear()
        self._extra.clear()
        self._console.clear()
        frame = self._frame(spec.frame)
        js = frame.evaluate("s => window.runCase(s)", spec.to_js(url))
        main = self._settle(url)
        frame_origin = "null" if spec.frame == "sandbox" else page_origin
        return self._truth(case_id, spec, url, frame_origin, main, js)

    def _main_request(self, url: str) -> CdpRequest | None:
        for req in self._requests.values():
            if not req.is_preflight and req.url == url:
                return req
        return None

    def _settle(self, url: str) -> CdpRequest | None:
        start = time.monotonic()
        deadline = start + self.settle_timeout
        while True:
            main = self._main_request(url)
            if main is None and time.monotonic() - start > self.absent_after:
                return None  # the script already settled and nothing reached the network layer
            if main is not None and main.done:
                blocked = bool(main.failed and main.failed.get("corsErrorStatus"))
                if not blocked or self._cors_console(main) is not None:
                    # one more short pump so late events of this case do not leak into the next
                    self.pump(0.05)
                    return main
            if time.monotonic() > deadline:
                return main
            self.pump(0.02)

    def _cors_console(self, main: CdpRequest) -> str | None:
        for text in self._console:
            if text.startswith(CORS_CONSOLE_PREFIX) and any(
                f" at '{hop}'" in text or f"'{hop}')" in text for hop in main.hops
            ):
                return text
        return None

    def _truth(
        self,
        case_id: str,
        spec: RequestSpec,
        url: str,
        frame_origin: str,
        main: CdpRequest | None,
        js: dict[str, Any],
    ) -> Truth:
        console = list(self._console)
        initiator = {"fetch": "fetch", "xhr": "xmlhttprequest"}.get(spec.api, spec.api)
        truth = Truth(
            case=case_id,
            url=url,
            final_url=url,
            method=spec.method,
            initiator=initiator,
            frame_origin=frame_origin,
            credentials=spec.credentials,
            outcome="absent",
            js=js,
            console=console,
        )
        if main is None:
            # Never became a network request (e.g. mode same-origin to another origin).
            truth.message = next((t for t in console if t.startswith(CORS_CONSOLE_PREFIX)), None)
            truth.error_text = js.get("error")
            return truth
        preflights = [r for r in self._requests.values() if r.preflight_of == main.request_id]
        first_headers = main.wire_headers[0] if main.wire_headers else {}
        truth.method = main.method
        truth.final_url = main.hops[-1]
        truth.hops = list(main.hops)
        truth.status = main.status
        truth.request_type = main.type
        truth.preflights = len(preflights)
        truth.preflight_sent = bool(preflights)
        truth.preflight_statuses = [p.status for p in preflights]
        truth.preflight_headers = [h for p in preflights for h in p.wire_headers[:1]]
        truth.cookie_sent = any("cookie" in h for h in main.wire_headers)
        truth.origin_header = first_headers.get("origin")
        truth.wire_headers = list(main.wire_headers)
        if main.failed is not None and not _opaque_redirect(main, js):
            cors = main.failed.get("corsErrorStatus") or {}
            truth.error_text = main.failed.get("errorText")
            if cors:
                truth.outcome = "blocked"
                truth.error = cors.get("corsError")
                truth.failed_parameter = cors.get("failedParameter")
                truth.message = self._cors_console(main)
            else:
                truth.outcome = "error"
                truth.net_error = truth.error_text
            return truth
        if not main.finished and not _opaque_redirect(main, js):
            truth.outcome = "error"
            truth.error_text = "no loadingFinished/loadingFailed within the settle timeout"
            return truth
        cross = frame_origin == "null" or any(origin_of(hop) != frame_origin for hop in main.hops)
        truth.outcome = "allowed" if _request_mode(spec, main, js) == "cors" and cross else "not-cors"
        return truth


def _opaque_redirect(main: CdpRequest, js: Mapping[str, Any]) -> bool:
    """fetch(redirect: 'manual') passed the redirect's CORS check and handed the page an
    opaque-redirect response; Chromium then cancels the load (`net::ERR_ABORTED`, no CorsError)."""
    failed = main.failed or {}
    return js.get("type") == "opaqueredirect" and not failed.get("corsErrorStatus")


def _request_mode(spec: RequestSpec, main: CdpRequest, js: Mapping[str, Any]) -> str:
    """The request's mode as Chromium ran it.

    `Sec-Fetch-Mode` says it, but Chromium sends Sec-Fetch-* only to potentially trustworthy
    origins (https, 127.0.0.1, localhost): a request to `http://api.example.test` has none. Then
    the script's view decides: fetch()'s `response.type` ("cors", "opaque", "basic"); an XHR is
    always cors mode; <img>/<script> without `crossorigin` are no-cors; frames navigate.
    """
    for headers in main.wire_headers:
        if headers.get("sec-fetch-mode"):
            return headers["sec-fetch-mode"]
    if spec.api == "fetch":
        return {"cors": "cors", "opaque": "no-cors", "basic": "same-origin"}.get(
            js.get("type") or "", "unknown"
        )
    if spec.api in ("img", "script", "link", "video", "audio"):
        return "no-cors" if spec.crossorigin is None else "cors"
    modes = {
        "xhr": "cors",
        "module": "cors",
        "font": "cors",
        "eventsource": "cors",
        "iframe": "navigate",
        "form": "navigate",
    }
    return modes.get(spec.api, "unknown")  # sendBeacon: no-cors or cors by body type; Sec-Fetch-Mode says


def write_json(path: str | os.PathLike[str], data: object) -> None:
    """Write JSON atomically (temp file + rename)."""
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(target)


@contextlib.contextmanager
def recording(
    har: str | os.PathLike[str], routes: Mapping[str, Route], **mitm: Any
) -> Iterator[tuple[CaseServer, Mitmdump, ChromiumDriver]]:
    """Servers + mitmdump (writing `har`) + Chromium through it, torn down in the right order
    (browser first, so the proxy sees every connection close, then SIGINT to the proxy)."""
    with CaseServer(routes) as server, Mitmdump(har, **mitm) as proxy, ChromiumDriver(proxy.url) as driver:
        driver.open(server.page + "/")
        yield server, proxy, driver
