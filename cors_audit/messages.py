"""Chromium's console text for each CorsError (fetch-rules.md §8), as Chromium 156 prints it.

One table: error name (DevTools spelling, no leading `k`) -> (detail template, preflight prefix, tail kind).
Tail kinds: "f" gets " Have the server send the header with a valid value." when the initiator is fetch();
"x" gets the withCredentials sentence when the initiator is XMLHttpRequest.
"""

from __future__ import annotations

_WILDCARD = (
    "The value of the 'Access-Control-Allow-Origin' header in the response must not be the wildcard '*' "
    "when the request's credentials mode is 'include'."
)
_MISSING = "No 'Access-Control-Allow-Origin' header is present on the requested resource."
_MULTIPLE = "The 'Access-Control-Allow-Origin' header contains multiple values '{v}', but only one is allowed."
_INVALID = "The 'Access-Control-Allow-Origin' header contains the invalid value '{v}'."
_MISMATCH = "The 'Access-Control-Allow-Origin' header has a value '{v}' that is not equal to the supplied origin."
_CREDENTIALS = (
    "The value of the 'Access-Control-Allow-Credentials' header in the response is '{v}' which must be 'true' "
    "when the request's credentials mode is 'include'."
)

DETAILS: dict[str, tuple[str, bool, str | None]] = {
    "DisallowedByMode": ("Cross origin requests are not allowed by request mode.", False, None),
    "InvalidResponse": ("The response is invalid.", False, None),
    "WildcardOriginNotAllowed": (_WILDCARD, False, "x"),
    "MissingAllowOriginHeader": (_MISSING, False, None),
    "MultipleAllowOriginValues": (_MULTIPLE, False, "f"),
    "InvalidAllowOriginValue": (_INVALID, False, "f"),
    "AllowOriginMismatch": (_MISMATCH, False, "f"),
    "InvalidAllowCredentials": (_CREDENTIALS, False, "x"),
    "CorsDisabledScheme": (
        "Cross origin requests are only supported for protocol schemes: {v}.",
        False,
        None,
    ),
    "PreflightInvalidStatus": ("It does not have HTTP ok status.", True, None),
    "PreflightDisallowedRedirect": ("Redirect is not allowed for a preflight request.", True, None),
    "PreflightWildcardOriginNotAllowed": (_WILDCARD, True, "x"),
    "PreflightMissingAllowOriginHeader": (_MISSING, True, None),
    "PreflightMultipleAllowOriginValues": (_MULTIPLE, True, "f"),
    "PreflightInvalidAllowOriginValue": (_INVALID, True, "f"),
    "PreflightAllowOriginMismatch": (_MISMATCH, True, "f"),
    "PreflightInvalidAllowCredentials": (_CREDENTIALS, True, "x"),
    "InvalidAllowMethodsPreflightResponse": (
        "Cannot parse Access-Control-Allow-Methods response header field in preflight response.",
        False,
        None,
    ),
    "InvalidAllowHeadersPreflightResponse": (
        "Cannot parse Access-Control-Allow-Headers response header field in preflight response.",
        False,
        None,
    ),
    "MethodDisallowedByPreflightResponse": (
        "Method {v} is not allowed by Access-Control-Allow-Methods in preflight response.",
        False,
        None,
    ),
    "HeaderDisallowedByPreflightResponse": (
        "Request header field {v} is not allowed by Access-Control-Allow-Headers in preflight response.",
        False,
        None,
    ),
    "RedirectContainsCredentials": (
        "Redirect location '' contains a username and password, which is disallowed for cross-origin requests.",
        False,
        None,
    ),
    "InsecurePrivateNetwork": (
        "The request client is not a secure context and the resource is in more-private address space `{v}`.",
        False,
        None,
    ),
    "InvalidPrivateNetworkAccess": (
        "Request had a target IP address space of `{v}` yet the resource is in address space `{r}`.",
        False,
        None,
    ),
    "LocalNetworkAccessPermissionDenied": (
        "Permission was denied for this request to access the `{v}` address space.",
        False,
        None,
    ),
    "PreflightMissingAllowPrivateNetwork": (
        "No 'Access-Control-Allow-Private-Network' header was present in the preflight response for this "
        "private network request targeting the `{v}` address space.",
        True,
        None,
    ),
    "PreflightInvalidAllowPrivateNetwork": (
        "The 'Access-Control-Allow-Private-Network' header in the preflight response for this private network "
        "request targeting the `{r}` address space had a value of '{v}',  not 'true'.",
        True,
        None,
    ),
    # removed from the current enum, still in older builds' logs (fetch-rules.md §8)
    "UnexpectedPrivateNetworkAccess": (
        "Request had no target IP address space, yet the resource is in address space `{r}`.",
        False,
        None,
    ),
    "PreflightMissingPrivateNetworkAccessId": (
        "No 'Private-Network-Access-Id' header was present in the preflight response for this private "
        "network request targeting the `{v}` address space.",
        False,
        None,
    ),
    "PreflightMissingPrivateNetworkAccessName": (
        "No 'Private-Network-Access-Name' header was present in the preflight response for this private "
        "network request targeting the `{v}` address space.",
        False,
        None,
    ),
    "PrivateNetworkAccessPermissionUnavailable": (
        "Unable to ask for permission to access the `{v}` IP address space.",
        False,
        None,
    ),
    "PrivateNetworkAccessPermissionDenied": (
        "Permission was denied for this request to access the `{v}` address space.",
        False,
        None,
    ),
}

CORS_ERRORS = frozenset(DETAILS)
PREFLIGHT_PREFIX = "Response to preflight request doesn't pass access control check: "
FETCH_TAIL = " Have the server send the header with a valid value."
XHR_TAIL = (
    " The credentials mode of requests initiated by the XMLHttpRequest is controlled by the "
    "withCredentials attribute."
)

# DevTools `_resourceType` / Playwright resource types -> the {kind} word in the console message.
_KINDS = {
    "fetch": "fetch",
    "xhr": "XMLHttpRequest",
    "xmlhttprequest": "XMLHttpRequest",
    "script": "script",
    "image": "image",
    "img": "image",
    "font": "font",
    "stylesheet": "CSS stylesheet",
    "style": "CSS stylesheet",
    "audio": "audio",
    "video": "video",
    "media": "media",
    "eventsource": "resource",
    "texttrack": "text track",
    "track": "text track",
    "manifest": "manifest",
}


def escape_for_console(value: str) -> str:
    """Header bytes as Chromium prints them: each byte outside printable ASCII becomes `\\u00XX`.

    Chromium reads header bytes as Latin-1, so one UTF-8 character shows as two escapes.
    """
    if value.isascii() and value.isprintable():
        return value
    out = []
    for byte in value.encode("utf-8", "surrogateescape"):
        out.append(chr(byte) if 0x20 <= byte < 0x7F else f"\\u{byte:04X}")
    return "".join(out)


def initiator_kind(initiator: str | None) -> str:
    """The {kind} Chromium prints; fetch() unless the capture says otherwise."""
    if not initiator:
        return "fetch"
    return _KINDS.get(initiator.lower(), "fetch")


def console_message(
    error: str,
    *,
    url: str,
    origin: str,
    initiator: str | None = None,
    parameter: str | None = None,
    first_url: str | None = None,
    resource_space: str = "",
) -> str:
    """The exact text Chromium logs for `error` (a CorsError name without the `k`)."""
    template, preflight, tail_kind = DETAILS[error]
    kind = initiator_kind(initiator)
    detail = template.format(v=escape_for_console(parameter or ""), r=resource_space)
    if tail_kind == "f" and kind == "fetch":
        detail += FETCH_TAIL
    elif tail_kind == "x" and kind == "XMLHttpRequest":
        detail += XHR_TAIL
    redirected = f" (redirected from '{first_url}')" if first_url and first_url != url else ""
    prefix = PREFLIGHT_PREFIX if preflight else ""
    return (
        f"Access to {kind} at '{url}'{redirected} from origin '{origin}' has been blocked by CORS policy: "
        f"{prefix}{detail}"
    )
