"""The fix for each rule: one sentence of what to change, and working snippets per framework.

Snippets target the configurations people actually run: Express with the `cors` package,
FastAPI/Starlette `CORSMiddleware`, Flask-CORS, and nginx. The allowlist is filled with the
user's trusted origins when they declared some, else with a placeholder to replace.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PLACEHOLDER = "https://app.example.com"
FRAMEWORKS = ("express", "fastapi", "flask", "nginx")


@dataclass(frozen=True, slots=True)
class Fix:
    text: str
    snippets: dict[str, str]


def _js_list(origins: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{o}"' for o in origins) + "]"


def _py_list(origins: Sequence[str]) -> str:
    return "[" + ", ".join(f'"{o}"' for o in origins) + "]"


def _nginx_map(origins: Sequence[str]) -> str:
    return "\n".join(f'    "{o}" $http_origin;' for o in origins)


def _allowlist(origins: Sequence[str], credentials: bool) -> dict[str, str]:
    creds_js = "\n  credentials: true," if credentials else ""
    creds_py = "\n    allow_credentials=True," if credentials else ""
    creds_flask = ", supports_credentials=True" if credentials else ""
    creds_nginx = '\nadd_header Access-Control-Allow-Credentials "true" always;' if credentials else ""
    return {
        "express": (
            'const cors = require("cors");\n'
            f"const allowed = new Set({_js_list(origins)});\n"
            "app.use(cors({\n"
            '  // exact match only: never `origin: true`, a RegExp without anchors, or "null"\n'
            "  origin: (origin, callback) => callback(null, allowed.has(origin)),"
            f"{creds_js}\n"
            "}));"
        ),
        "fastapi": (
            "from fastapi.middleware.cors import CORSMiddleware\n\n"
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            f'    allow_origins={_py_list(origins)},  # never ["*"] together with credentials'
            f"{creds_py}\n"
            ")"
        ),
        "flask": (
            "from flask_cors import CORS\n\n"
            "# flask-cors matches string origins exactly, but regexes with re.match (prefix): prefer "
            "strings\n"
            f"CORS(app, origins={_py_list(origins)}{creds_flask})"
        ),
        "nginx": (
            "map $http_origin $cors_allow_origin {\n"
            '    default "";\n'
            f"{_nginx_map(origins)}\n"
            "}\n"
            "add_header Access-Control-Allow-Origin $cors_allow_origin always;"
            f"{creds_nginx}\n"
            "add_header Vary Origin always;"
        ),
    }


def _vary() -> dict[str, str]:
    return {
        "express": (
            "// the cors package adds Vary: Origin whenever the origin option is not a fixed string;\n"
            "// hand-written middleware must do it itself, on every response (also when refusing):\n"
            'app.use((req, res, next) => { res.vary("Origin"); next(); });'
        ),
        "fastapi": (
            "# CORSMiddleware adds Vary: Origin itself; in hand-written middleware:\n"
            "from starlette.datastructures import MutableHeaders\n"
            'MutableHeaders(scope=message).add_vary_header("Origin")'
        ),
        "flask": (
            "from flask_cors import CORS\n"
            "CORS(app, origins=[...], vary_header=True)  # the default; or in hand-written code:\n"
            "@app.after_request\n"
            "def vary_origin(response):\n"
            '    response.vary.add("Origin")\n'
            "    return response"
        ),
        "nginx": "add_header Vary Origin always;",
    }


def _preflight_lists() -> dict[str, str]:
    return {
        "express": (
            "app.use(cors({\n"
            "  origin: (origin, callback) => callback(null, allowed.has(origin)),\n"
            '  methods: ["GET", "POST"],\n'
            '  allowedHeaders: ["Content-Type", "Authorization"],  // default reflects the request\n'
            "}));"
        ),
        "fastapi": (
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            "    allow_origins=[...],\n"
            '    allow_methods=["GET", "POST"],\n'
            '    allow_headers=["Content-Type", "Authorization"],  # "*" echoes whatever is asked\n'
            ")"
        ),
        "flask": (
            'CORS(app, origins=[...], methods=["GET", "POST"],\n'
            '     allow_headers=["Content-Type", "Authorization"])  # default "*" echoes the request'
        ),
        "nginx": (
            'add_header Access-Control-Allow-Methods "GET, POST" always;\n'
            'add_header Access-Control-Allow-Headers "Content-Type, Authorization" always;\n'
            "# never: add_header Access-Control-Allow-Methods $http_access_control_request_method;"
        ),
    }


def _max_age() -> dict[str, str]:
    return {
        "express": "app.use(cors({ origin: ..., maxAge: 7200 }));",
        "fastapi": "app.add_middleware(CORSMiddleware, allow_origins=[...], max_age=7200)",
        "flask": "CORS(app, origins=[...], max_age=7200)",
        "nginx": "add_header Access-Control-Max-Age 7200 always;",
    }


def _public(origins: Sequence[str]) -> dict[str, str]:
    return {
        "express": (
            "// public, non-credentialed data: `*` is fine\n"
            "app.use(cors());\n"
            "// private-network or IP-gated data: allow only your own origins\n"
            f"app.use(cors({{ origin: (o, cb) => cb(null, new Set({_js_list(origins)}).has(o)) }}));"
        ),
        "fastapi": (
            "# private-network or IP-gated data: allow only your own origins, and require authentication\n"
            f"app.add_middleware(CORSMiddleware, allow_origins={_py_list(origins)})"
        ),
        "flask": f'CORS(app, origins={_py_list(origins)})  # instead of the default "*"',
        "nginx": (
            "# instead of: add_header Access-Control-Allow-Origin *;\n"
            "map $http_origin $cors_allow_origin {\n"
            '    default "";\n'
            f"{_nginx_map(origins)}\n"
            "}\n"
            "add_header Access-Control-Allow-Origin $cors_allow_origin always;\n"
            "add_header Vary Origin always;"
        ),
    }


def _private_network(origins: Sequence[str]) -> dict[str, str]:
    return {
        "express": (
            "// the cors package does not handle Private Network Access: add the header only for allowed "
            "origins\n"
            f"const allowed = new Set({_js_list(origins)});\n"
            'app.options("*", (req, res, next) => {\n'
            '  if (allowed.has(req.get("Origin")) && req.get("Access-Control-Request-Private-Network") === '
            '"true")\n'
            '    res.set("Access-Control-Allow-Private-Network", "true");\n'
            "  next();\n"
            "});"
        ),
        "fastapi": (
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            f'    allow_origins={_py_list(origins)},  # not ["*"]\n'
            "    allow_private_network=True,  # granted only to the listed origins\n"
            ")"
        ),
        "flask": f"CORS(app, origins={_py_list(origins)}, allow_private_network=True)",
        "nginx": (
            "map $http_origin $cors_private_network {\n"
            '    default "";\n' + "\n".join(f'    "{o}" "true";' for o in origins) + "\n}\n"
            "add_header Access-Control-Allow-Private-Network $cors_private_network always;"
        ),
    }


def _single_origin(origins: Sequence[str]) -> dict[str, str]:
    snippets = _allowlist(origins, credentials=False)
    snippets["nginx"] = (
        "# one header line, one origin: no lists, no *.example.com patterns, no duplicate add_header\n"
        + snippets["nginx"]
    )
    return snippets


_TEXT = {
    "reflected-origin-credentials": (
        "Stop copying the Origin header into Access-Control-Allow-Origin; allow only an exact-match list "
        "of origins that need credentialed access."
    ),
    "reflected-origin": (
        "Stop copying the Origin header into Access-Control-Allow-Origin: use an exact-match allowlist, "
        "or `*` if the data is public and not gated by network position."
    ),
    "null-origin-trusted": (
        "Remove `null` from the allowed origins (and from any reflection logic); list real origins."
    ),
    "wildcard-with-credentials": (
        "Choose one: public data with `Access-Control-Allow-Origin: *` and no credentials, or an "
        "exact-match allowlist with `Access-Control-Allow-Credentials: true`; never reflect Origin to "
        "make `*` work."
    ),
    "wildcard-origin": (
        "Keep `*` only for public data; for private-network or IP-gated services allow only your own "
        "origins and require authentication."
    ),
    "insecure-origin-trusted": (
        "Allow only https:// origins on https resources (and serve the http site over https with HSTS)."
    ),
    "subdomains-trusted": "Replace the subdomain pattern with the explicit list of origins that need access.",
    "third-party-origin-trusted": "Remove shared-hosting and sandbox origins from the allowlist.",
    "localhost-origin-trusted": (
        "Keep localhost origins out of production configuration (enable them only in development builds)."
    ),
    "missing-vary-origin": (
        "Send `Vary: Origin` on every response whose CORS headers depend on the request's Origin, "
        "including responses to refused origins."
    ),
    "invalid-allow-origin": (
        "Send exactly one Access-Control-Allow-Origin line with one serialized origin (scheme, host, "
        "port; no path, no trailing slash), `*`, or nothing."
    ),
    "permissive-preflight": (
        "Answer preflights with fixed lists of the methods and headers the API needs instead of echoing "
        "the request or `*`."
    ),
    "long-preflight-max-age": "Set Access-Control-Max-Age to 7200 seconds or less (Chromium's cap).",
    "private-network-any-origin": (
        "Send `Access-Control-Allow-Private-Network: true` only to origins on an exact allowlist, never "
        "with `*`, `null` or a reflected origin."
    ),
}
_ALLOWLIST_RULES = frozenset(
    {
        "reflected-origin-credentials",
        "null-origin-trusted",
        "wildcard-with-credentials",
        "insecure-origin-trusted",
        "subdomains-trusted",
        "third-party-origin-trusted",
        "localhost-origin-trusted",
        "prefix-match",
        "suffix-match",
        "unescaped-dot",
        "substring-match",
        "special-char-bypass",
        "arbitrary-subdomain",
    }
)
_ACTIVE_TEXT = (
    "Compare the whole Origin exactly against a list of trusted origins; no prefix, suffix, substring "
    "or unanchored regex matching."
)


def fix_for(rule: str, trusted_origins: Sequence[str] = (), credentials: bool = True) -> Fix:
    """The fix for `rule`; snippets allow `trusted_origins` (or a placeholder when none were declared)."""
    origins = list(trusted_origins) or [PLACEHOLDER]
    text = _TEXT.get(rule, _ACTIVE_TEXT)
    if rule in _ALLOWLIST_RULES:
        snippets = _allowlist(origins, credentials=credentials)
    elif rule == "reflected-origin":
        snippets = _allowlist(origins, credentials=False)
    elif rule == "wildcard-origin":
        snippets = _public(origins)
    elif rule == "missing-vary-origin":
        snippets = _vary()
    elif rule == "invalid-allow-origin":
        snippets = _single_origin(origins)
    elif rule == "permissive-preflight":
        snippets = _preflight_lists()
    elif rule == "long-preflight-max-age":
        snippets = _max_age()
    elif rule == "private-network-any-origin":
        snippets = _private_network(origins)
    else:
        snippets = _allowlist(origins, credentials=credentials)
    return Fix(text, snippets)
