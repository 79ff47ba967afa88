"""Record the oracle corpus: every case once through real Chromium and a real mitmdump.

    python -m tests.e2e.record --out DIR [--cases ID[,ID...]]

writes `DIR/proxy.har` (mitmdump's `hardump`, what cors-audit analyses) and `DIR/truth.json`
(what Chromium itself decided per case, from CDP and the console), plus `DIR/mitmdump.log`.
One browser and one proxy for the whole run; cases run one after another in table order.
Exit status 0 when every case produced a truth, 1 otherwise; "surprises" (Chromium disagreeing
with fetch-rules.md's prediction in `cases.py`) are reported but do not fail the run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.e2e.cases import Case, routes_for, select
from tests.e2e.harness import CaseServer, ChromiumDriver, Mitmdump, Truth, write_json

TRUTH_SCHEMA = 1


def observed(truth: Truth) -> str:
    """The truth in the same spelling as `Case.expect`."""
    if truth.outcome == "blocked":
        return f"blocked:{truth.error}"
    if truth.outcome == "error" and truth.net_error:
        return f"error:{truth.net_error}"
    return truth.outcome


def surprises(case: Case, truth: Truth) -> list[str]:
    """Where Chromium disagreed with the rulebook's prediction for this case."""
    out = []
    if observed(truth) != case.expect:
        out.append(f"expected {case.expect}, Chromium: {observed(truth)}")
    if (
        case.expect_preflight is not None
        and truth.outcome != "absent"
        and case.expect_preflight != truth.preflight_sent
    ):
        out.append(
            f"expected preflight={case.expect_preflight}, Chromium sent preflight={truth.preflight_sent}"
        )
    if (
        case.expect_param is not None
        and truth.outcome == "blocked"
        and truth.failed_parameter != case.expect_param
    ):
        out.append(f"expected failed parameter {case.expect_param!r}, Chromium: {truth.failed_parameter!r}")
    return out


def case_record(case: Case, truth: Truth) -> dict[str, Any]:
    """One `truth.json` item: Chromium's truth plus what the case asked for and predicted."""
    item = truth.to_json()
    item.update(
        section=case.section,
        title=case.title,
        expect=case.expect,
        expect_preflight=case.expect_preflight,
        expect_param=case.expect_param,
        twin=case.twin,
        path=case.base,
        request=dataclasses.asdict(case.request),
        surprises=surprises(case, truth),
    )
    return item


def record(out: str | Path, ids: Sequence[str] | None = None, *, echo: bool = True) -> dict[str, Any]:
    """Run the selected cases once; write proxy.har and truth.json under `out`; return the truth."""
    cases = select(ids)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    har = folder / "proxy.har"
    log = folder / "mitmdump.log"
    for stale in (har, log):
        stale.unlink(missing_ok=True)
    started = time.time()
    items: list[dict[str, Any]] = []
    with CaseServer(routes_for(cases)) as server:
        proxy = Mitmdump(har, log=log)
        with proxy, ChromiumDriver(proxy.url) as driver:
            driver.open(server.page + "/")
            for case in cases:
                url = server.url(case.request.target, case.base)
                truth = driver.run(case.id, case.request, url, server.page)
                items.append(case_record(case, truth))
                if echo:
                    flag = (
                        "  SURPRISE: " + "; ".join(items[-1]["surprises"]) if items[-1]["surprises"] else ""
                    )
                    print(f"{case.id:40} {observed(truth)}{flag}", file=sys.stderr)
            version = driver.version
        origins = {role: server.origin(role) for role in server.ROLES}
    if not har.exists():
        raise RuntimeError(f"mitmdump wrote no HAR at {har} (see {log})")
    data = {
        "schema": TRUTH_SCHEMA,
        "chromium": version,
        "har": har.name,
        "page_origin": origins["page"],
        "origins": origins,
        "seconds": round(time.time() - started, 1),
        "cases": items,
        "surprises": {item["case"]: item["surprises"] for item in items if item["surprises"]},
    }
    write_json(folder / "truth.json", data)
    return data


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.record", description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for proxy.har, truth.json, mitmdump.log")
    parser.add_argument("--cases", action="append", default=[], help="case ids (comma-separated, repeatable)")
    parser.add_argument("--quiet", action="store_true", help="no per-case lines on stderr")
    args = parser.parse_args(argv)
    ids = [i for chunk in args.cases for i in chunk.split(",") if i]
    data = record(args.out, ids or None, echo=not args.quiet)
    # A plain network error (net_error set) is Chromium's answer; "error" without one is not.
    failed = [c["case"] for c in data["cases"] if c["outcome"] == "error" and not c.get("net_error")]
    print(
        f"{len(data['cases'])} cases in {data['seconds']}s with Chromium {data['chromium']}; "
        f"{len(data['surprises'])} surprises; {len(failed)} without a truth -> {Path(args.out) / 'truth.json'}",
        file=sys.stderr,
    )
    if data["surprises"]:
        print(json.dumps(data["surprises"], indent=1), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
