"""Sending probes: stdlib `http.client`, a token bucket per host, timeouts, an optional HTTP proxy, and
never a redirect followed.

Redirects: none is followed, same-origin ones included. A browser runs the CORS check on every
redirect hop, so the 3xx response's own headers are what is judged, and the target's scope can never
be left through a `Location` header. To probe where a redirect leads, name that URL.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time
from collections.abc import Callable
from urllib.parse import unquote, urlsplit

from cors_audit.model import Headers
from cors_audit.probe.model import ProbeRequest, ProbeResult, Settings

MAX_BODY = 64 * 1024
"""Bytes of a response body read (and discarded) before the connection is closed."""

Transport = Callable[[ProbeRequest, Settings], ProbeResult]


class Stopped(Exception):
    """The run was told to stop (the addon is shutting down)."""


class TokenBucket:
    """`rate` requests per second with at most `burst` saved up; a fresh bucket allows one request now.

    With the default burst of 1 this spaces requests at least 1/rate seconds apart: the gentlest reading
    of "N per second".
    """

    def __init__(self, rate: float, burst: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, burst)
        self.tokens = self.capacity
        self.clock = clock
        self.updated = clock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def take(self) -> bool:
        """Spend a token if one is there."""
        self._refill()
        if self.tokens >= 1.0 - 1e-9:
            self.tokens = max(0.0, self.tokens - 1.0)
            return True
        return False

    def wait_time(self) -> float:
        """Seconds until a token is there."""
        self._refill()
        return max(0.0, (1.0 - self.tokens) / self.rate)


class RateLimiter:
    """One token bucket per host name (ports share it: they are usually the same machine)."""

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        stop: threading.Event | None = None,
        wait: Callable[[float], bool] | None = None,
    ) -> None:
        self.rate = rate
        self.clock = clock
        self.stop = stop or threading.Event()
        # sleeps `delay` seconds; True when the run was stopped meanwhile (tests pass a fake clock's)
        self.wait = wait or self.stop.wait
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def acquire(self, host: str) -> None:
        """Block until `host` may get one more request; Stopped when the run is stopped meanwhile."""
        while True:
            with self._lock:
                bucket = self._buckets.get(host.lower())
                if bucket is None:
                    bucket = self._buckets[host.lower()] = TokenBucket(self.rate, clock=self.clock)
                if bucket.take():
                    return
                delay = bucket.wait_time()
            if self.wait(delay):
                raise Stopped


def send(request: ProbeRequest, settings: Settings) -> ProbeResult:
    """Send one request exactly as described and return the answer, or the network error as `error`."""
    started = time.time()
    parts = urlsplit(request.url)
    https = parts.scheme.lower() == "https"
    host = parts.hostname or ""
    port = parts.port or (443 if https else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    context = _tls_context(settings.insecure) if https else None
    headers = list(request.headers)
    connection: http.client.HTTPConnection
    try:
        if settings.proxy:
            proxy = urlsplit(settings.proxy)
            proxy_port = proxy.port or (443 if proxy.scheme == "https" else 8080)
            auth = _proxy_authorization(settings.proxy)
            if https:
                connection = http.client.HTTPSConnection(
                    proxy.hostname or "", proxy_port, timeout=settings.timeout, context=context
                )
                connection.set_tunnel(host, port, headers={"Proxy-Authorization": auth} if auth else None)
            else:
                connection = http.client.HTTPConnection(
                    proxy.hostname or "", proxy_port, timeout=settings.timeout
                )
                path = request.url.split("#", 1)[0]  # absolute-form for a forward proxy
                if auth:
                    headers.append(("Proxy-Authorization", auth))
        elif https:
            connection = http.client.HTTPSConnection(host, port, timeout=settings.timeout, context=context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=settings.timeout)
        try:
            connection.putrequest(request.method, path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            if request.method not in ("HEAD", "OPTIONS"):
                response.read(MAX_BODY)
            return ProbeResult(
                request,
                status=response.status,
                reason=response.reason,
                headers=Headers(response.getheaders()),
                started=started,
            )
        finally:
            connection.close()
    except TimeoutError:
        return ProbeResult(request, error=f"timed out after {settings.timeout:g} s", started=started)
    except (OSError, http.client.HTTPException, ValueError) as error:
        return ProbeResult(request, error=_describe(error), started=started)


def _tls_context(insecure: bool) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _proxy_authorization(proxy: str) -> str | None:
    parts = urlsplit(proxy)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _describe(error: BaseException) -> str:
    text = str(error) or type(error).__name__
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({error.verify_message or text}; --insecure skips the check)"
    return " ".join(f"{type(error).__name__}: {text}".split())
