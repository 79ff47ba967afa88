"""What to change on the server for each way the browser blocks a request, and which header pair failed.

One table: CorsError name (DevTools spelling, no leading `k`) -> the request/response header pair
the check compares and one paragraph of fix. The HTML report shows the pair side by side with
the failing row marked, and the fix under Chromium's console message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# The pairs the browser compares: (key, what the browser sent, what the server must answer).
PAIRS: tuple[tuple[str, str, str], ...] = (
    ("status", "Request", "Status"),
    ("origin", "Origin", "Access-Control-Allow-Origin"),
    ("credentials", "Credentials mode", "Access-Control-Allow-Credentials"),
    ("method", "Access-Control-Request-Method", "Access-Control-Allow-Methods"),
    ("headers", "Access-Control-Request-Headers", "Access-Control-Allow-Headers"),
    ("private-network", "Access-Control-Request-Private-Network", "Access-Control-Allow-Private-Network"),
)

_ORIGIN_FIX = (
    "Send `Access-Control-Allow-Origin` with exactly the page's origin ({origin}) — scheme, host and "
    "port, no path, no trailing slash — from an exact-match allowlist, or `*` for public data that "
    "needs no credentials."
)


@dataclass(frozen=True, slots=True)
class Advice:
    """The failing header pair (a key of PAIRS, or None) and what to change."""

    pair: str | None
    fix: str


_ADVICE: dict[str, Advice] = {
    "MissingAllowOriginHeader": Advice(
        "origin",
        _ORIGIN_FIX + " Error responses need it too: add the CORS headers before routing, "
        "authentication and error handlers run (nginx: `add_header ... always`).",
    ),
    "AllowOriginMismatch": Advice(
        "origin",
        "The `Access-Control-Allow-Origin` value must equal the page's origin ({origin}) byte for byte: "
        "no trailing slash, no path, no default port, same scheme and case. A request redirected to "
        "another origin is checked against `null`.",
    ),
    "MultipleAllowOriginValues": Advice(
        "origin",
        "Send one origin per response, not a list: look the request's `Origin` up in your allowlist "
        "and echo that one value. Two `Access-Control-Allow-Origin` lines (app and proxy both adding "
        "it) count as a list too: set the header in one place only.",
    ),
    "InvalidAllowOriginValue": Advice(
        "origin",
        "`Access-Control-Allow-Origin` must be a serialized origin like `https://app.example.com`, `*` "
        "or `null`; patterns such as `*.example.com`, bare host names and quoted values are invalid.",
    ),
    "WildcardOriginNotAllowed": Advice(
        "origin",
        "A credentialed request (cookies, HTTP auth) cannot use `*`: answer with the page's exact "
        "origin ({origin}) from an allowlist plus `Access-Control-Allow-Credentials: true` and "
        "`Vary: Origin` — or, if the data is public, have the page send the request without credentials.",
    ),
    "InvalidAllowCredentials": Advice(
        "credentials",
        "The page sent credentials, so the response must carry `Access-Control-Allow-Credentials: true` "
        "(exactly `true`, once) together with the exact origin. If the endpoint should not be used "
        "with cookies, have the page use `credentials: 'omit'` / `withCredentials = false`.",
    ),
    "PreflightInvalidStatus": Advice(
        "status",
        "Answer the `OPTIONS` preflight with a 2xx status (204 is usual) and the CORS headers, before "
        "authentication, CSRF checks or routing reject it: preflights never carry cookies or tokens.",
    ),
    "PreflightDisallowedRedirect": Advice(
        "status",
        "Preflights cannot follow redirects: request the final URL directly (trailing slash, "
        "`http` → `https`, another host), or answer `OPTIONS` at this URL without redirecting.",
    ),
    "MethodDisallowedByPreflightResponse": Advice(
        "method",
        "List the method in `Access-Control-Allow-Methods` on the preflight response (methods compare "
        "case-sensitively: `PATCH`, not `patch`).",
    ),
    "HeaderDisallowedByPreflightResponse": Advice(
        "headers",
        "Add the request header to `Access-Control-Allow-Headers` on the preflight response, or stop "
        "sending it from the page (e.g. `X-Requested-With` added by a library).",
    ),
    "InvalidAllowMethodsPreflightResponse": Advice(
        "method",
        "`Access-Control-Allow-Methods` must be a comma-separated list of method tokens "
        "(`GET, POST, PUT`); spaces without commas or other punctuation make the whole header invalid.",
    ),
    "InvalidAllowHeadersPreflightResponse": Advice(
        "headers",
        "`Access-Control-Allow-Headers` must be a comma-separated list of header names "
        "(`Content-Type, Authorization`); spaces without commas make the whole header invalid.",
    ),
    "RedirectContainsCredentials": Advice(
        "status",
        "Redirects of cross-origin requests cannot carry a username or password in the `Location` URL: "
        "remove the userinfo from the redirect target.",
    ),
    "CorsDisabledScheme": Advice(
        None,
        "Cross-origin requests work only over `http` and `https`: serve the resource over HTTP(S).",
    ),
    "DisallowedByMode": Advice(
        None,
        "The page asked for `mode: 'same-origin'` but requested another origin: use `mode: 'cors'` (the "
        "default) or request the page's own origin.",
    ),
    "InvalidResponse": Advice(
        None, "The response could not be used at all; check the server and any proxy in between."
    ),
    "InsecurePrivateNetwork": Advice(
        "private-network",
        "A page served over plain HTTP may not reach a more private network: serve the page over HTTPS.",
    ),
    "PreflightMissingAllowPrivateNetwork": Advice(
        "private-network",
        "Answer the preflight with `Access-Control-Allow-Private-Network: true` for the trusted origins "
        "that need to reach this private-network service.",
    ),
    "PreflightInvalidAllowPrivateNetwork": Advice(
        "private-network",
        "`Access-Control-Allow-Private-Network` must be exactly `true`.",
    ),
}
_PRIVATE_NETWORK = Advice(
    "private-network",
    "The page reached a more private network (Private/Local Network Access): serve it over HTTPS and "
    "let the user grant the permission, or move the service to a public address.",
)
_NETWORK = Advice(
    None,
    "Not a CORS decision: the request failed on the network (connection refused, DNS, TLS, proxy), "
    "and the page sees the same `TypeError` as for a CORS error. Check the server is reachable from "
    "the browser.",
)
_UNKNOWN = Advice(None, "Compare the request and response headers below with Chromium's message.")


def advice_for(error: str | None, origin: str | None = None) -> Advice:
    """The failing pair and the fix for a CorsError name (`Preflight…` variants share the base advice)."""
    if not error:
        return _UNKNOWN
    if error.startswith("net::"):
        return _NETWORK
    found = _ADVICE.get(error)
    if found is None and error.startswith("Preflight"):
        found = _ADVICE.get(error.removeprefix("Preflight"))
    if found is None and ("PrivateNetwork" in error or "LocalNetwork" in error):
        found = _PRIVATE_NETWORK
    if found is None:
        return _UNKNOWN
    return Advice(found.pair, found.fix.replace("{origin}", origin or "the page's origin"))


def header_pairs(
    request: Sequence[tuple[str, str]],
    response: Sequence[tuple[str, str]],
    *,
    credentials: str,
    request_line: str,
    status: str,
    failing: str | None,
) -> list[dict[str, object]]:
    """Rows of (what the browser sent, what the server answered), one per compared pair.

    A pair is listed when either side has a value or it is the failing one; a missing header
    reads "(absent)". `request`/`response` are (name, value) header lines of the checked step.
    """
    sent = _by_name(request)
    answered = _by_name(response)
    rows: list[dict[str, object]] = []
    for key, ask, answer in PAIRS:
        left: str | None
        right: str | None
        if key == "status":
            left, right = request_line, status
        elif key == "credentials":
            left = f"{credentials}" + (" (Cookie sent)" if "cookie" in sent else "")
            right = answered.get(answer.lower())
        else:
            left, right = sent.get(ask.lower()), answered.get(answer.lower())
        if key != "status" and key != failing and left is None and right is None:
            continue
        if key == "credentials" and key != failing and credentials != "include" and right is None:
            continue
        rows.append(
            {
                "key": key,
                "request_name": ask,
                "request": left if left is not None else "(absent)",
                "response_name": answer,
                "response": right if right is not None else "(absent)",
                "failing": key == failing,
            }
        )
    return rows


def _by_name(lines: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Header values by lower-cased name, repeated lines joined with ", " as the browser does."""
    out: dict[str, str] = {}
    for name, value in lines:
        key = name.lower()
        out[key] = f"{out[key]}, {value.strip()}" if key in out else value.strip()
    return out
