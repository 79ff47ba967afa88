"""Build hook: compile the per-entry core with mypyc, from the same typed sources; pure Python otherwise.

Every message of a capture goes through reading, pairing, the browser model and the rules. Those
modules, compiled by mypyc, run the whole `report` about a third faster; the sources stay the one
truth (mypyc compiles what mypy checks) and the package works identically without the build.

- `CORS_AUDIT_PURE=1` installs without compiling.
- A build that cannot compile (no C compiler, a mypyc that rejects the code) installs the pure
  package, with a warning.
- At run time `cors_audit/__init__.py` uses the compiled modules only when all of them are there and
  none is older than its source (an editable checkout edited since its last install runs the sources).
"""

from __future__ import annotations

import glob
import os
import sys

from setuptools import setup

# The modules every message passes through. Not here: package `__init__`s (a compiled one cannot
# import the package's other modules), classes with msgspec's metaclass (mypyc compiles plain
# classes only), the CLI and report rendering (run once), the addon and the probe.
COMPILED = [
    "cors_audit/model.py",
    "cors_audit/origin.py",
    "cors_audit/browser.py",
    "cors_audit/messages.py",
    "cors_audit/pairing.py",
    "cors_audit/audit.py",
    "cors_audit/redact.py",
    "cors_audit/fixes.py",
    *sorted(p for p in glob.glob("cors_audit/rules/*.py") if not p.endswith("__init__.py")),
    "cors_audit/report/json_out.py",
    "cors_audit/sources/har.py",
    "cors_audit/sources/lines.py",
    "cors_audit/sources/mitm.py",
]
# The library mypyc puts the compiled code in; the modules above become small stubs that load it.
GROUP = "cors_audit._compiled"


def extensions() -> list:
    if os.environ.get("CORS_AUDIT_PURE"):
        return []
    try:
        from mypyc.build import mypycify

        modules = mypycify(COMPILED, group_name=GROUP, opt_level="3")
    except (Exception, SystemExit) as error:  # mypyc exits on a compile error
        print(f"cors-audit: installing pure Python, mypyc could not compile: {error}", file=sys.stderr)
        return []
    for module in modules:
        module.optional = True  # no C compiler: warn and install the pure package
    return modules


setup(ext_modules=extensions())
