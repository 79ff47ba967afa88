"""Captured text made visible: characters that render invisibly or reorder text are shown, not obeyed.

A URL or header from a capture may hold terminal escape sequences, bidi overrides (U+202E flips
the rest of a line) or zero-width characters. Every report surface (terminal, HTML) shows them as
`\\uXXXX` so what the reader sees is what was captured.
"""

from __future__ import annotations

import re

# C0/C1 controls (tab, newline and carriage return excepted), bidi marks and overrides, zero-width
# characters, line and paragraph separators, the byte order mark.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


LINE_BREAKS = re.compile("[\t\n\r]")


def visible(text: str, *, keep_lines: bool = True) -> str:
    """`text` with every invisible or reordering character written as `\\uXXXX`.

    `keep_lines=False` also escapes tab, newline and carriage return: a one-line terminal cell
    must not be split or overwritten by captured text.
    """
    text = INVISIBLE.sub(_escape, text)
    return text if keep_lines else LINE_BREAKS.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"
