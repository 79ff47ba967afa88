"""A hand-written server with one broken origin check per path, for `cors-audit probe`.

    python probe_lab.py LOG HTTP_PORT HTTPS_PORT CANARY_PORT CERT_DIR [TRUSTED_ORIGIN]

Every path grants (ACAO = the request's Origin, `Access-Control-Allow-Credentials: true`, `Vary: Origin`)
when its check accepts the Origin; TRUSTED_ORIGIN defaults to https://app.example.com.

http:
  /prefix/data     re.match(r"https://app\\.example\\.com", origin)        prefix regex (no `$`)
  /startswith/data origin.startswith(TRUSTED)
  /suffix/data     origin.endswith("example.com")                         no dot boundary
  /dot/data        re.fullmatch(r"https://app.example.com", origin)       unescaped dots
  /contains/data   "app.example.com" in origin                             substring anywhere
  /reverse/data    origin in "https://app.example.com https://admin.example.com"   the allowlist as one string
  /special/data    host = re.match(r"https?://([a-z0-9.-]+)", origin); host == "app.example.com"
  /subdomain/data  re.fullmatch(r"https://[a-z0-9-]+\\.example\\.com", origin)
  /null/data       origin in (TRUSTED, "null")
  /reflect/data    any origin
  /control/data    origin == TRUSTED                                         the correct allowlist
  /redirect/data   302 to http://localhost:CANARY_PORT/stolen (another host: out of scope)
https (self-signed certificate written to CERT_DIR):
  /insecure/data   origin in (TRUSTED, TRUSTED with http://)
CANARY_PORT: answers anything; it must never be contacted.

Every request is appended to LOG as one JSON line: server, method, path, Host, Origin, User-Agent, time.
"""

from __future__ import annotations

import http.server
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from lab import QuietHandler, use_tls

TRUSTED = "https://app.example.com"
LOG_LOCK = threading.Lock()
LOG_PATH = Path("probe_lab.jsonl")
CANARY_PORT = 0


def _special(origin: str) -> bool:
    match = re.match(r"https?://([a-z0-9.-]+)", origin)
    return match is not None and match.group(1) == "app.example.com"


CHECKS: dict[str, Callable[[str], bool]] = {
    "prefix": lambda o: re.match(r"https://app\.example\.com", o) is not None,
    "startswith": lambda o: o.startswith(TRUSTED),
    "suffix": lambda o: o.endswith("example.com"),
    "dot": lambda o: re.fullmatch(r"https://app.example.com", o) is not None,
    "contains": lambda o: "app.example.com" in o,
    "reverse": lambda o: o in "https://app.example.com https://admin.example.com",
    "special": _special,
    "subdomain": lambda o: re.fullmatch(r"https://[a-z0-9-]+\.example\.com", o) is not None,
    "null": lambda o: o in (TRUSTED, "null"),
    "reflect": lambda o: True,
    "control": lambda o: o == TRUSTED,
    "insecure": lambda o: o in (TRUSTED, "http://" + TRUSTED.split("://", 1)[1]),
}


class Handler(QuietHandler):
    server_name = "lab"

    def _log(self) -> None:
        line = {
            "server": self.server_name,
            "port": self.server.server_address[1],
            "method": self.command,
            "path": self.path,
            "host": self.headers.get("Host"),
            "origin": self.headers.get("Origin"),
            "user_agent": self.headers.get("User-Agent"),
            "time": time.time(),
        }
        with LOG_LOCK, open(LOG_PATH, "a", encoding="utf-8") as log:
            log.write(json.dumps(line) + "\n")

    def _handle(self) -> None:
        self._log()
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        if self.server_name == "canary":
            self.reply(200, [("Content-Type", "text/plain")], b"canary")
            return
        parts = self.path.split("/")
        name = parts[1] if len(parts) > 2 else ""
        if name == "redirect":
            self.reply(302, [("Location", f"http://localhost:{CANARY_PORT}/stolen")])
            return
        check = CHECKS.get(name)
        if check is None:
            self.reply(404, [("Content-Type", "text/plain")], b"not found")
            return
        origin = self.headers.get("Origin")
        headers = [("Vary", "Origin")]
        if origin is not None and check(origin):
            headers += [("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true")]
        if self.command == "OPTIONS":
            headers.append(("Access-Control-Allow-Methods", "GET, POST"))
            self.reply(204, headers)
        else:
            self.reply(200, [("Content-Type", "application/json"), *headers], b'{"user": "alice"}')

    do_GET = do_HEAD = do_OPTIONS = do_POST = do_PUT = do_DELETE = _handle


def _server(port: int, name: str) -> http.server.ThreadingHTTPServer:
    handler = type(f"{name.title()}Handler", (Handler,), {"server_name": name})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    return server


def main() -> None:
    global LOG_PATH, CANARY_PORT, TRUSTED
    LOG_PATH = Path(sys.argv[1])
    http_port, https_port, CANARY_PORT = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    cert_dir = Path(sys.argv[5])
    if len(sys.argv) > 6:
        TRUSTED = sys.argv[6]
    plain, secure, canary = (
        _server(http_port, "lab"),
        _server(https_port, "lab-tls"),
        _server(CANARY_PORT, "canary"),
    )
    use_tls(secure, cert_dir)
    for server in (secure, canary):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"probe lab on {http_port} (http), {https_port} (https), canary {CANARY_PORT}", flush=True)
    plain.serve_forever()


if __name__ == "__main__":
    main()
