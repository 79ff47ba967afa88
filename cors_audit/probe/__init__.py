"""Opt-in active confirmation: forged-Origin probes that prove reflection, null trust and origin-matching
flaws a capture cannot show.

`catalogue` (pure) says which Origin values to send; `send` sends them (rate-limited, no redirects);
`judge` (pure) says which flaw the granted probes prove; `merge` (pure) puts the findings into an Audit,
upgrading passive findings they confirm. `run_probes` runs a batch (the CLI); `Prober` runs in a
background thread (the mitmproxy addon).
"""

from __future__ import annotations

from cors_audit.probe.catalogue import (
    KINDS,
    SPECIAL_CHARACTERS,
    catalogue,
    label,
    plan,
    requests_for,
    target_from_url,
    targets_from_audit,
    targets_from_exchanges,
)
from cors_audit.probe.judge import ProbeStats, explain, granted, judge, merge
from cors_audit.probe.model import (
    DEFAULT_RATE,
    DEFAULT_TIMEOUT,
    USER_AGENT_TOKEN,
    Probe,
    ProbeRequest,
    ProbeResult,
    Settings,
    Target,
)
from cors_audit.probe.run import Prober, ProbeRun, Runner, TargetRun, run_probes
from cors_audit.probe.send import RateLimiter, Stopped, TokenBucket, send

__all__ = [
    "DEFAULT_RATE",
    "DEFAULT_TIMEOUT",
    "KINDS",
    "SPECIAL_CHARACTERS",
    "USER_AGENT_TOKEN",
    "Probe",
    "ProbeRequest",
    "ProbeResult",
    "ProbeRun",
    "ProbeStats",
    "Prober",
    "RateLimiter",
    "Runner",
    "Settings",
    "Stopped",
    "Target",
    "TargetRun",
    "TokenBucket",
    "catalogue",
    "explain",
    "granted",
    "judge",
    "label",
    "merge",
    "plan",
    "requests_for",
    "run_probes",
    "send",
    "target_from_url",
    "targets_from_audit",
    "targets_from_exchanges",
]
