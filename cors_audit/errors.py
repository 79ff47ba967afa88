"""Errors that map to exit statuses: bad input (2) is the user's to fix; anything else is ours (3)."""

from __future__ import annotations


class InputError(Exception):
    """An input file cannot be read as a capture. `str()` is the one line the CLI prints.

    `place` says where in the file (e.g. "line 3 column 7", "entry 12", "byte 4096").
    """

    def __init__(self, file: str, problem: str, place: str | None = None, *, partial: bool = False) -> None:
        self.file = file
        self.problem = problem
        self.place = place
        self.partial = partial  # raised at the end: every good entry before or around it was read
        super().__init__(f"{file}: {place}: {problem}" if place else f"{file}: {problem}")


class UsageError(Exception):
    """The command line is wrong (exit status 2)."""
