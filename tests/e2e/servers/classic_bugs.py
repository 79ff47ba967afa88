"""A hand-written CORS server with the classic bugs, over http and https.

    python classic_bugs.py HTTP_PORT HTTPS_PORT ALLOWED_ORIGIN CERT_DIR

http:
  /vary/data        echoes any Origin, no `Vary: Origin`, `Cache-Control: public, max-age=600`
  /null/data        trusts ALLOWED_ORIGIN and `null`, with credentials
  /preflight/items  preflights echo the requested method and headers, `Access-Control-Max-Age: 86400`
                    (the origin itself is checked against ALLOWED_ORIGIN)
https (self-signed certificate written to CERT_DIR):
  /insecure/data    trusts ALLOWED_ORIGIN, an http:// origin, with credentials
"""

from __future__ import annotations

import http.server
import sys
import threading
from pathlib import Path

from lab import QuietHandler, use_tls

ALLOWED = ""


class Handler(QuietHandler):

    def do_OPTIONS(self) -> None:
        origin = self.headers.get("Origin", "")
        if self.path.startswith("/preflight/"):
            headers = [
                ("Access-Control-Allow-Methods", self.headers.get("Access-Control-Request-Method", "")),
                ("Access-Control-Allow-Headers", self.headers.get("Access-Control-Request-Headers", "")),
                ("Access-Control-Max-Age", "86400"),
                ("Access-Control-Allow-Credentials", "true"),
                ("Vary", "Origin"),
            ]
            if origin == ALLOWED:
                headers.insert(0, ("Access-Control-Allow-Origin", origin))
            self.reply(204, headers)
            return
        self.reply(404, [("Content-Type", "text/plain")], b"no preflight here")

    def do_GET(self) -> None:
        self.actual()

    def do_PUT(self) -> None:
        self.actual()

    def do_DELETE(self) -> None:
        self.actual()

    def actual(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        origin = self.headers.get("Origin")
        body = b'{"user": "alice"}'
        headers = [("Content-Type", "application/json")]
        if self.path.startswith("/vary/"):
            headers += [("Cache-Control", "public, max-age=600")]
            if origin:
                headers.append(("Access-Control-Allow-Origin", origin))
        elif self.path.startswith(("/null/", "/insecure/", "/preflight/")):
            headers.append(("Vary", "Origin"))
            trusted = (ALLOWED, "null") if self.path.startswith("/null/") else (ALLOWED,)
            if origin in trusted:
                headers += [
                    ("Access-Control-Allow-Origin", origin),
                    ("Access-Control-Allow-Credentials", "true"),
                ]
        else:
            self.reply(404, [("Content-Type", "text/plain")], b"not found")
            return
        self.reply(200, headers, body)


def main() -> None:
    global ALLOWED
    http_port, https_port, ALLOWED, cert_dir = (
        int(sys.argv[1]),
        int(sys.argv[2]),
        sys.argv[3],
        Path(sys.argv[4]),
    )
    plain = http.server.ThreadingHTTPServer(("127.0.0.1", http_port), Handler)
    secure = http.server.ThreadingHTTPServer(("127.0.0.1", https_port), Handler)
    use_tls(secure, cert_dir)
    threading.Thread(target=secure.serve_forever, daemon=True).start()
    print(f"classic bugs on http://127.0.0.1:{http_port} and https://127.0.0.1:{https_port}", flush=True)
    plain.serve_forever()


if __name__ == "__main__":
    main()
