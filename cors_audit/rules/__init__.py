"""Risky CORS configurations: one module per family, one registry of every rule id.

(Stub: the security-review issue fills this in.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cors_audit.model import Exchange, Finding


@dataclass(frozen=True, slots=True)
class RuleContext:
    trusted_origins: tuple[str, ...] = ()
    redact: bool = True


def evaluate(exchanges: Sequence[Exchange], context: RuleContext) -> list[Finding]:
    return []
