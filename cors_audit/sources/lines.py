"""Header lines shared across a capture: readers call this once per message, so it is compiled."""

from __future__ import annotations

from collections.abc import Iterable


class SharedLines:
    """One str object per header name, and per value repeated under the same name, across a capture.

    A capture repeats the same header lines (user-agent, accept, CORS headers...) entry after entry;
    sharing them keeps a long capture's messages small. A value is shared when it equals the last
    value seen under its name, which costs one comparison instead of a hash.
    """

    def __init__(self) -> None:
        self._names: dict[str, str] = {}
        self._last: dict[str, str] = {}

    def lines(self, pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        """`pairs` as shared lines (one call per message: readers call this per entry)."""
        names, last = self._names, self._last
        out = []
        for name, value in pairs:
            name = names.setdefault(name, name)
            previous = last.get(name)
            if previous == value:
                value = previous
            else:
                last[name] = value
            out.append((name, value))
        return out
