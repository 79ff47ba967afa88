"""Fixtures for the end-to-end tests: real servers, a real mitmdump, real headless Chromium.

The oracle corpus is recorded once per pytest session (`oracle_run`): every case in
`cases.py` through one browser and one proxy. Set `CORS_AUDIT_ORACLE_DIR=/path/to/corpus` (a
folder written by `python -m tests.e2e.record --out DIR`) to reuse a recording instead of
running Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `tests.e2e.*` must import however pytest was started
    sys.path.insert(0, str(ROOT))

from tests.e2e.expectations import Corpus
from tests.e2e.harness import CHROMIUM, CaseServer, venv_bin

ORACLE_DIR_ENV = "CORS_AUDIT_ORACLE_DIR"


def _missing_tools() -> list[str]:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(CHROMIUM)
    if not Path(venv_bin("mitmdump")).exists() and shutil.which("mitmdump") is None:
        missing.append("mitmdump")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright")
    return missing


@pytest.fixture(scope="session")
def e2e_tools() -> None:
    """Skip (not fail) when the machine lacks Chromium, mitmdump or Playwright."""
    missing = _missing_tools()
    if missing:
        pytest.skip("e2e tools missing: " + ", ".join(missing))


@pytest.fixture
def case_server() -> Iterator[CaseServer]:
    """A fresh page + two API origins on 127.0.0.1; add routes with `case_server.add_routes`."""
    with CaseServer() as server:
        yield server


@dataclass
class OracleRun:
    """A recorded corpus: the proxy's HAR and Chromium's truth (`corpus`, indexed by case id)."""

    folder: Path
    har: Path
    truth: dict[str, Any]
    corpus: Corpus

    @classmethod
    def load(cls, folder: Path) -> OracleRun:
        truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
        return cls(folder, folder / truth.get("har", "proxy.har"), truth, Corpus(truth["cases"]))


@pytest.fixture(scope="session")
def oracle_run(tmp_path_factory: pytest.TempPathFactory) -> OracleRun:
    """Chromium's truth for every case plus the proxy's HAR, recorded once per session."""
    reuse = os.environ.get(ORACLE_DIR_ENV)
    if reuse:
        folder = Path(reuse)
        if not (folder / "truth.json").exists():
            pytest.fail(
                f"{ORACLE_DIR_ENV}={reuse}: no truth.json there (record one with python -m tests.e2e.record)"
            )
        return OracleRun.load(folder)
    missing = _missing_tools()
    if missing:
        pytest.skip("e2e tools missing: " + ", ".join(missing))
    from tests.e2e.record import record

    folder = tmp_path_factory.mktemp("oracle")
    record(folder, echo=False)
    return OracleRun.load(folder)


@dataclass
class Analysis:
    """cors-audit's JSON report over the oracle HAR, or why it could not be produced."""

    report: dict[str, Any] | None
    problem: str | None = None

    def require(self) -> dict[str, Any]:
        if self.report is None:
            pytest.fail(f"cors-audit produced no report: {self.problem}", pytrace=False)
        return self.report


def analyze_har(har: Path, out: Path) -> Analysis:
    """Run cors-audit over `har` the way a user would: `cors-audit report HAR --json OUT`, in-process."""
    try:
        from cors_audit.cli import main
    except ImportError as exc:
        return Analysis(None, f"cors_audit.cli not importable ({exc})")
    try:
        status = main(["report", str(har), "--json", str(out)])
    except SystemExit as exc:  # a CLI that exits instead of returning
        status = exc.code if isinstance(exc.code, int) else 3
    if status not in (0, 1) or not out.exists():
        return Analysis(None, f"cors-audit report exited {status} without writing {out}")
    return Analysis(json.loads(out.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def oracle_analysis(oracle_run: OracleRun, tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    """cors-audit's verdicts over the oracle HAR, computed once per session."""
    out = tmp_path_factory.mktemp("oracle-report") / "report.json"
    try:
        return analyze_har(oracle_run.har, out)
    except Exception as exc:  # noqa: BLE001 - every oracle test reports this one problem
        return Analysis(None, f"{type(exc).__name__}: {exc}")
