"""cors-audit: browser-exact CORS verdicts and risky CORS configurations from captured traffic."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path

__version__ = "0.1.0"

# The per-entry core may be compiled by mypyc at install time (see setup.py): each compiled module
# is then a stub extension next to its source, loading the code from one library. The compiled
# modules are used only when all of them are there and none is older than its source, so an
# editable checkout edited since its last install runs what its sources say. CORS_AUDIT_PURE=1
# runs the sources whatever is built (to compare the two, or to debug).
_LIBRARY = "_compiled__mypyc"
_SUFFIX = importlib.machinery.EXTENSION_SUFFIXES[0]  # this interpreter's own extension tag


def _compiled_modules(package: Path) -> list[tuple[str, Path, Path]]:
    """(module name, source, stub) of each module compiled for this interpreter."""
    found = []
    for stub in package.rglob("*" + _SUFFIX):
        source = stub.with_name(stub.name[: -len(_SUFFIX)] + ".py")
        if source.exists():  # not the library itself
            found.append((".".join(source.relative_to(package.parent).with_suffix("").parts), source, stub))
    return found


class _Sources(importlib.abc.MetaPathFinder):
    """Finds the source of every compiled module, ahead of its stub."""

    def __init__(self, sources: dict[str, Path]) -> None:
        self.sources = sources

    def find_spec(
        self, name: str, path: object = None, target: object = None
    ) -> importlib.machinery.ModuleSpec | None:
        source = self.sources.get(name)
        return None if source is None else importlib.util.spec_from_file_location(name, source)


def _build_in_use(package: Path, pure: bool) -> tuple[bool, dict[str, Path]]:
    """Whether the compiled modules run, and the sources to load in their place when they do not."""
    modules = _compiled_modules(package)
    complete = (package / (_LIBRARY + _SUFFIX)).exists()
    # Only a source checkout (an editable install) can be edited after its build; installed files
    # carry their install time, whatever order pip wrote them in.
    checkout = (package.parent / "setup.py").exists()
    fresh = not checkout or all(stub.stat().st_mtime >= source.stat().st_mtime for _, source, stub in modules)
    if modules and complete and fresh and not pure:
        return True, {}
    return False, {name: source for name, source, _ in modules}


COMPILED, _sources = _build_in_use(Path(__file__).parent, pure=bool(os.environ.get("CORS_AUDIT_PURE")))
if _sources:
    sys.meta_path.insert(0, _Sources(_sources))
