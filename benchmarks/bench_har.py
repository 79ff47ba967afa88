"""How much does reading a HAR cost, next to simply decoding its JSON?

Generates (or takes) a large Chrome-style HAR with bodies, then runs each reader in a fresh
process and reports wall time, CPU time, peak RSS (from the kernel, via wait4) and the ratio
to stdlib `json.load` measured in the same run. Ratios, not absolute times, are what to compare:
this machine may be busy.

    python benchmarks/bench_har.py                      # 20,000 entries, about 100 MB
    python benchmarks/bench_har.py --entries 100000     # about 500 MB
    python benchmarks/bench_har.py --har big.har --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Each variant runs in its own interpreter so peak RSS belongs to it alone.
VARIANTS: dict[str, str] = {
    "read bytes": "data = open(path, 'rb').read(); n = 0",
    "json.load": "import json; n = len(json.load(open(path, 'rb'))['log']['entries'])",
    "msgspec untyped": "import msgspec; n = len(msgspec.json.decode(open(path, 'rb').read())['log']['entries'])",
    "msgspec typed": (
        "import msgspec\n"
        "from cors_audit.sources import har\n"
        "class Log(msgspec.Struct):\n    entries: list[har._Entry]\n"
        "class Doc(msgspec.Struct):\n    log: Log\n"
        "n = len(msgspec.json.decode(open(path, 'rb').read(), type=Doc).log.entries)"
    ),
    "open_capture": (
        "from cors_audit.sources import open_capture\nn = 0\nfor _ in open_capture(path, []): n += 1"
    ),
    "open_capture, kept": (
        "from cors_audit.sources import open_capture\nkept = list(open_capture(path, [])); n = len(kept)"
    ),
    "open_capture, kept, no gc": (
        "import gc; gc.disable()\n"
        "from cors_audit.sources import open_capture\n"
        "kept = list(open_capture(path, [])); n = len(kept)"
    ),
    "analyze (whole core)": (
        "from cors_audit.sources import open_capture\n"
        "from cors_audit.audit import analyze\n"
        "n = analyze(open_capture(path, []), inputs=[path]).messages"
    ),
}

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
path = {path!r}
t0 = time.perf_counter()
{code}
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({{"seconds": time.perf_counter() - t0, "cpu": usage.ru_utime + usage.ru_stime, "count": n}}))
"""


def run_variant(name: str, path: str) -> dict[str, float] | None:
    code = CHILD.format(root=str(ROOT), path=path, code=VARIANTS[name])
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        print(
            f"  {name}: failed ({err.strip().splitlines()[-1] if err.strip() else proc.returncode})",
            file=sys.stderr,
        )
        return None
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--har", help="benchmark this file instead of generating one")
    parser.add_argument("--entries", type=int, default=20_000, help="entries to generate (about 5 KB each)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is kept")
    parser.add_argument("--only", action="append", choices=sorted(VARIANTS), help="run only these variants")
    parser.add_argument("--json", dest="json_out", help="also write the results here")
    args = parser.parse_args(argv)

    tmp = None
    if args.har:
        path = args.har
    else:
        tmp = tempfile.TemporaryDirectory(prefix="bench-har-")
        path = os.path.join(tmp.name, "big.har")
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from gen_har import generate

        started = time.perf_counter()
        with open(path, "w", encoding="utf-8") as f:
            generate(f, args.entries, seed=1)
        print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    size_mb = os.path.getsize(path) / 1e6
    print(
        f"{path}: {size_mb:.1f} MB, python {sys.version.split()[0]}, {os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}"
    )

    results: dict[str, dict[str, float]] = {}
    for name in args.only or VARIANTS:
        runs = [r for r in (run_variant(name, path) for _ in range(args.repeat)) if r is not None]
        if runs:
            results[name] = min(runs, key=lambda r: r["cpu"])
    base = results.get("json.load")
    print(
        f"{'variant':28} {'entries':>8} {'wall s':>7} {'cpu s':>7} {'MB/s':>7} {'peak MB':>8} {'x file':>7} {'cpu / json.load':>15}"
    )
    for name, r in results.items():
        ratio = f"{r['cpu'] / base['cpu']:.2f}" if base else "-"
        print(
            f"{name:28} {int(r['count']):>8} {r['seconds']:>7.2f} {r['cpu']:>7.2f} {size_mb / r['seconds']:>7.0f} "
            f"{r['peak_mb']:>8.0f} {r['peak_mb'] / size_mb:>7.2f} {ratio:>15}"
        )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps({"file_mb": size_mb, "results": results}, indent=2))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
