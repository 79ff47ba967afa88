"""What `mitmdump -s addons/cors_audit.py` loads: live CORS verdicts, a durable capture, a report at exit.

mitmproxy runs this file with its own folder first on `sys.path`, so a plain `import cors_audit` would
import this script again instead of the package ("'cors_audit' is not a package"). Take the folder off
the path and forget any half-imported `cors_audit` module first; when the package is not installed,
import it from the repository this script lives in.
"""

from __future__ import annotations

import importlib.util
import os
import sys


def _load_package() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    loaded = sys.modules.get("cors_audit")
    if loaded is not None and not hasattr(loaded, "__path__"):
        del sys.modules["cors_audit"]  # this script, imported under the package's name
    if importlib.util.find_spec("cors_audit") is None:
        sys.path.insert(0, os.path.dirname(here))


_load_package()

from cors_audit.addon import CorsAudit

addons = [CorsAudit()]
