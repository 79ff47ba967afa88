"""The one list of every rule id, with what reports and SARIF show about it.

Severity here is the default (the typical case); each finding carries its own, raised or
lowered by credentials (ACAC exactly `true`) and status (error responses rank lower).
"""

from __future__ import annotations

from dataclasses import dataclass

from cors_audit.model import Severity

CWE = "CWE-942"
CWE_URL = "https://cwe.mitre.org/data/definitions/942.html"


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """A rule's identity and documentation. `active` rules need a forged-Origin probe to fire."""

    id: str
    severity: Severity
    title: str
    description: str
    help: str
    impact: str
    active: bool = False
    cwe: str = CWE

    @property
    def name(self) -> str:
        """CamelCase name for SARIF `reportingDescriptor.name`."""
        return "".join(part.capitalize() for part in self.id.split("-"))


_RULES = (
    RuleInfo(
        "reflected-origin-credentials",
        Severity.CRITICAL,
        "Any origin can read credentialed responses (Origin reflected with credentials)",
        "Access-Control-Allow-Origin repeats whatever Origin the request carries and "
        "Access-Control-Allow-Credentials is `true`.",
        "The server copies the request's Origin into Access-Control-Allow-Origin and allows credentials, so "
        "every website the user visits can send cookie-authenticated requests and read the answers. Passive "
        "proof: one endpoint echoed two or more distinct cross-site origins, or an origin outside the "
        "declared trusted origins. Replace the reflection with an exact-match allowlist.",
        "Any website the victim visits can read this endpoint's responses with the victim's cookies or HTTP "
        "credentials, e.g. account data, API keys or CSRF tokens.",
    ),
    RuleInfo(
        "reflected-origin",
        Severity.INFO,
        "Any origin can read responses (Origin reflected)",
        "Access-Control-Allow-Origin repeats whatever Origin the request carries, without "
        "`Access-Control-Allow-Credentials: true`.",
        "The server copies the request's Origin into Access-Control-Allow-Origin. Without credentials this "
        "grants exactly what `*` grants, so it is ranked like wildcard-origin: info, medium on "
        "private-network hosts, where access is gated by network position and any website the user visits "
        "can read the responses through the user's browser. Use an exact-match allowlist, or `*` if the data"
        " is public; never add credentials to a reflecting policy.",
        "Any website the victim visits can read this endpoint's responses from the victim's network position"
        " (intranet, VPN, IP allowlist), bypassing network-based access control.",
    ),
    RuleInfo(
        "null-origin-trusted",
        Severity.HIGH,
        "The `null` origin is trusted",
        "Access-Control-Allow-Origin is `null`.",
        "Sandboxed iframes, `data:` and `file:` documents and cross-origin redirects all send `Origin: "
        "null`, and any attacker can create one. Never allow `null`; list real origins instead.",
        "Any attacker page can read this endpoint's responses from a sandboxed iframe (Origin: null).",
    ),
    RuleInfo(
        "wildcard-with-credentials",
        Severity.LOW,
        "Wildcard origin combined with credentials",
        "Access-Control-Allow-Origin is `*` and Access-Control-Allow-Credentials is `true`.",
        "Browsers refuse `*` for credentialed requests, so credentialed calls fail today; the usual 'fix' is"
        " to reflect the Origin, which opens the endpoint to every site. Decide: public data (`*`, no "
        "credentials) or an exact-match allowlist with credentials.",
        "Credentialed requests fail today; the common workaround (reflecting Origin) would let any site read"
        " the endpoint with the user's credentials.",
    ),
    RuleInfo(
        "wildcard-origin",
        Severity.INFO,
        "Wildcard origin (public read access)",
        "Access-Control-Allow-Origin is `*`.",
        "`*` without credentials is correct for public data. It is a risk when the server is reachable only "
        "from a private network or gates data by IP: then any website can read it through the user's "
        "browser.",
        "Any website can read these responses without credentials; on a private-network host this exposes "
        "intranet data to the public web.",
    ),
    RuleInfo(
        "insecure-origin-trusted",
        Severity.MEDIUM,
        "Unencrypted (http://) origin trusted by an https resource",
        "An https resource allows an `http://` origin.",
        "A network attacker (public Wi-Fi, compromised router) can inject script into the plain-http page "
        "and use its trust to read the https API, undoing TLS. Allow only https origins.",
        "A network attacker who injects script into the http:// origin can read this https resource.",
    ),
    RuleInfo(
        "subdomains-trusted",
        Severity.LOW,
        "Many subdomains trusted",
        "One endpoint echoes origins from several different subdomains of one domain.",
        "Trusting every subdomain means one XSS or subdomain takeover anywhere under the domain reads this "
        "API. List the few origins that need access.",
        "An XSS or a dangling DNS record on any subdomain lets an attacker read this endpoint.",
    ),
    RuleInfo(
        "third-party-origin-trusted",
        Severity.MEDIUM,
        "Shared-hosting or code-sandbox origin trusted",
        "Access-Control-Allow-Origin names a shared hosting or sandbox origin (github.io, codepen.io, "
        "jsfiddle.net, repl.it, ...).",
        "Anyone can publish script on shared hosting and code-playground domains, so trusting such an origin"
        " trusts strangers. Remove it from the allowlist.",
        "Anyone who can publish a page on that hosting service can read this endpoint.",
    ),
    RuleInfo(
        "localhost-origin-trusted",
        Severity.LOW,
        "localhost origin trusted by a non-local server",
        "A non-local server allows a localhost / loopback origin.",
        "Usually a development leftover. Any program on the user's machine that serves a page on that port "
        "can read the API. Keep development origins out of production configuration.",
        "Any local program or page served on that loopback port can read this endpoint.",
    ),
    RuleInfo(
        "missing-vary-origin",
        Severity.MEDIUM,
        "Origin-dependent Access-Control-Allow-Origin without `Vary: Origin`",
        "Access-Control-Allow-Origin changes with the request's Origin but the response has no `Vary: "
        "Origin`.",
        "Without `Vary: Origin`, a browser or shared cache can serve a response built for one origin to "
        "another: CORS failures for legitimate users, and cache poisoning when combined with reflection. Add"
        " `Vary: Origin` to every response whose CORS headers depend on Origin.",
        "Caches may serve a response built for one origin to another: broken pages for legitimate users, or "
        "cache poisoning combined with a permissive policy.",
    ),
    RuleInfo(
        "invalid-allow-origin",
        Severity.INFO,
        "Malformed Access-Control-Allow-Origin",
        "Access-Control-Allow-Origin is a list, a pattern (`*.example.com`), several header lines, or not a "
        "serialized origin.",
        "Browsers accept exactly one serialized origin, `*` or `null`; anything else fails the CORS check. "
        "It also hints at hand-written CORS logic worth reviewing. Send exactly one origin, chosen by exact "
        "match against an allowlist.",
        "Browsers reject the response (the CORS check fails); hand-written origin handling like this often "
        "hides other matching bugs.",
    ),
    RuleInfo(
        "permissive-preflight",
        Severity.LOW,
        "Preflight allows any method or header",
        "The preflight response echoes the requested method or headers, or allows `*` methods.",
        "A preflight that grants whatever is asked defeats the point of the preflight: cross-origin pages "
        "can send state-changing methods and custom headers (often used as CSRF defence). List the methods "
        "and headers the API needs.",
        "Cross-origin pages allowed by the origin policy can send any method or header, including "
        "state-changing ones the API never meant to expose.",
    ),
    RuleInfo(
        "long-preflight-max-age",
        Severity.INFO,
        "Preflight max-age longer than browsers honour",
        "Access-Control-Max-Age exceeds what browsers keep (Chromium 7200 s, Firefox 86400 s).",
        "Browsers cap the value (Chromium at 2 h), so it buys nothing; a long cache delays policy changes "
        "and hides preflights from captures. Use 7200 or less.",
        "A tightened CORS policy takes effect only when cached preflights expire; captures miss preflights.",
    ),
    RuleInfo(
        "private-network-any-origin",
        Severity.MEDIUM,
        "Private-network access granted to untrusted origins",
        "`Access-Control-Allow-Private-Network: true` is sent together with `*`, `null` or a reflected "
        "origin.",
        "Private Network Access preflights exist so that public websites cannot reach intranet and localhost"
        " services. Granting it to any origin lets every public page drive this device from the user's "
        "browser. Grant it only to listed origins.",
        "Any public website can reach this private-network service through the user's browser.",
    ),
    # Active rules: they need a forged Origin (the probe command); listed here so every id has one home.
    RuleInfo(
        "prefix-match",
        Severity.HIGH,
        "Origin allowlist matches by prefix",
        "An origin that starts with a trusted origin (e.g. `https://app.example.com.evil.net`) is allowed.",
        "The allowlist check uses startsWith or an unanchored regex. Compare the whole origin exactly.",
        "An attacker who registers a domain starting with a trusted host name can read this endpoint.",
        active=True,
    ),
    RuleInfo(
        "suffix-match",
        Severity.HIGH,
        "Origin allowlist matches by suffix",
        "An origin that ends with a trusted domain (e.g. `https://evilexample.com`) is allowed.",
        "The allowlist check uses endsWith without a dot boundary. Compare the whole origin exactly.",
        "An attacker who registers a domain ending with the trusted domain can read this endpoint.",
        active=True,
    ),
    RuleInfo(
        "unescaped-dot",
        Severity.HIGH,
        "Origin regex with an unescaped dot",
        "An origin with a dot replaced by another character (e.g. `https://wwwxexample.com`) is allowed.",
        "An unescaped `.` in the origin regex matches any character. Escape dots and anchor the pattern.",
        "An attacker who registers the look-alike domain can read this endpoint.",
        active=True,
    ),
    RuleInfo(
        "substring-match",
        Severity.HIGH,
        "Origin allowlist matches by substring",
        "An origin merely containing part of a trusted domain is allowed.",
        "The allowlist check uses `contains` or an unanchored regex. Compare the whole origin exactly.",
        "An attacker who registers a domain containing the trusted name can read this endpoint.",
        active=True,
    ),
    RuleInfo(
        "special-char-bypass",
        Severity.HIGH,
        "Origin parser confused by special characters",
        "An origin such as ``https://app.example.com_.evil.net`` or with a backtick is allowed.",
        "The server parses Origin differently from the browser. Parse the origin strictly and compare "
        "exactly.",
        "An attacker-controlled host name that the server misparses as trusted can read this endpoint.",
        active=True,
    ),
    RuleInfo(
        "arbitrary-subdomain",
        Severity.HIGH,
        "Any subdomain trusted",
        "A made-up subdomain of the trusted domain is allowed.",
        "Every subdomain is trusted; one XSS or takeover anywhere under the domain reads this API. List "
        "origins explicitly.",
        "An XSS or takeover on any subdomain lets an attacker read this endpoint.",
        active=True,
    ),
)

REGISTRY: dict[str, RuleInfo] = {rule.id: rule for rule in _RULES}
RULE_ORDER: dict[str, int] = {rule.id: index for index, rule in enumerate(_RULES)}
PASSIVE_RULES: tuple[str, ...] = tuple(rule.id for rule in _RULES if not rule.active)


def rule_info(rule_id: str) -> RuleInfo:
    """Registry entry for `rule_id` (KeyError for an unknown id: every rule must be registered)."""
    return REGISTRY[rule_id]
