"""How fast is `cors-audit report` on a large HAR, next to simply decoding its JSON?

Generates (or takes) a large Chrome-style HAR with bodies and runs each variant in a fresh process:
wall time, CPU time, peak RSS (from the kernel, via wait4), entries/s and MB/s, and the ratios the
performance issue sets, all against stdlib `json.load` measured in the same run on the same file:

    cors-audit report big.har --json out.json    <= 0.5 x json.load time
    peak RSS                                      <= 1.5 x the file size
    + the HTML report                             <= 1.2 x the JSON-only run
    time per entry at N vs N/10 entries           <= 1.2 (with --scaling)
    several inputs (--inputs K)                   the same entries split into K files

Ratios, not absolute times, are what to compare: this machine may be busy. Nothing here asserts.

    python benchmarks/bench_har.py                          # 100,000 entries (about 360 MB)
    python benchmarks/bench_har.py --entries 20000 --repeat 3
    python benchmarks/bench_har.py --har big.har --scaling --inputs 4 --json results.json
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cors_audit

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

# Python-level variants run this child, which times itself after the interpreter started.
CHILD = """
import json, sys, time
sys.path.insert(0, {root!r})
path = {path!r}
{code}
print(json.dumps({{"count": n}}))
"""
PYTHON_VARIANTS: dict[str, str] = {
    "read bytes": "data = open(path, 'rb').read(); n = 0",
    "json.load": "import json; n = len(json.load(open(path, 'rb'))['log']['entries'])",
    "msgspec typed, no bodies": (
        "import msgspec\n"
        "from cors_audit.sources import har_fields\n"
        "class Log(msgspec.Struct):\n    entries: list[har_fields.Entry]\n"
        "class Doc(msgspec.Struct):\n    log: Log\n"
        "n = len(msgspec.json.decode(open(path, 'rb').read(), type=Doc).log.entries)"
    ),
    "cors-audit read only": (
        "from cors_audit.sources import open_capture\nn = 0\nfor _ in open_capture(path, []): n += 1"
    ),
}


def run(argv: list[str]) -> dict[str, float] | None:
    """Run one command; wall seconds, CPU seconds (with children) and peak RSS in MB."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out = proc.stdout.read().decode() if proc.stdout else ""
    err = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):  # 1: findings at --fail-on, not a failure of the run
        last = err.strip().splitlines()[-1] if err.strip() else f"exit status {code}"
        print(f"  {' '.join(argv[-6:])}: failed ({last})", file=sys.stderr)
        return None
    result: dict[str, float] = {
        "seconds": wall,
        "cpu": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024,  # the largest process: readers are smaller than the judge
    }
    for line in reversed(out.strip().splitlines()):
        if line.startswith("{"):
            result["count"] = json.loads(line)["count"]
            break
    return result


def python_variant(name: str, path: str) -> list[str]:
    return [sys.executable, "-c", CHILD.format(root=str(ROOT), path=path, code=PYTHON_VARIANTS[name])]


def cli(paths: list[str], out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "cors_audit", "report", *paths, "--json", str(out / "r.json"), "-q", *extra]


def best(argv: list[str], repeat: int) -> dict[str, float] | None:
    runs = [r for r in (run(argv) for _ in range(repeat)) if r is not None]
    return min(runs, key=lambda r: r["seconds"]) if runs else None


def generate(path: str, entries: int, seed: int) -> None:
    from gen_har import generate as write

    with open(path, "w", encoding="utf-8") as f:
        write(f, entries, seed=seed)


def count_entries(path: str) -> int:
    from cors_audit.sources import open_capture

    return sum(1 for _ in open_capture(path, []))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--har", help="benchmark this file instead of generating one")
    parser.add_argument("--entries", type=int, default=100_000, help="entries to generate (default 100,000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per variant; the fastest is kept")
    parser.add_argument("--scaling", action="store_true", help="also time a file a tenth the size")
    parser.add_argument(
        "--inputs", type=int, default=0, metavar="K", help="also time the entries split into K files"
    )
    parser.add_argument("--json", dest="json_out", help="also write the results here")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-har-") as tmp_name:
        tmp = Path(tmp_name)
        path = args.har or str(tmp / "big.har")
        if not args.har:
            started = time.perf_counter()
            generate(path, args.entries, seed=1)
            print(f"generated {path} in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        size_mb = os.path.getsize(path) / 1e6
        entries = count_entries(path)
        print(
            f"{path}: {entries:,} entries, {size_mb:.1f} MB; python {platform.python_version()}, "
            f"{os.cpu_count()} cpus, load {os.getloadavg()[0]:.2f}; cors-audit "
            f"{'compiled (mypyc)' if cors_audit.COMPILED else 'pure Python (not compiled at install)'}"
        )

        results: dict[str, dict[str, float]] = {}
        commands: dict[str, list[str]] = {name: python_variant(name, path) for name in PYTHON_VARIANTS}
        commands["cors-audit report --json"] = cli([path], tmp)
        commands["  ... --jobs 1 (no reader process)"] = cli([path], tmp, "--jobs", "1")
        if cors_audit.COMPILED:
            commands["  ... pure Python (CORS_AUDIT_PURE=1)"] = ["env", "CORS_AUDIT_PURE=1", *cli([path], tmp)]
        commands["  ... and -o report.html"] = cli([path], tmp, "-o", str(tmp / "r.html"))
        for name, command in commands.items():
            result = best(command, args.repeat)
            if result is not None:
                result.setdefault("count", entries)
                results[name] = result
                print(f"  {name}: {result['seconds']:.2f}s", file=sys.stderr)

        if args.scaling:
            small = str(tmp / "small.har")
            generate(small, max(1, entries // 10), seed=2)
            result = best(cli([small], tmp), args.repeat)
            if result is not None:
                result["count"] = count_entries(small)
                results["cors-audit report, a tenth"] = result
        if args.inputs > 1:
            parts = [str(tmp / f"part{i}.har") for i in range(args.inputs)]
            for i, part in enumerate(parts):
                generate(part, entries // args.inputs, seed=10 + i)
            result = best(cli(parts, tmp), args.repeat)
            if result is not None:
                result["count"] = sum(count_entries(p) for p in parts)
                results[f"cors-audit report, {args.inputs} inputs"] = result

    print_table(results, size_mb)
    print_ratios(results, size_mb)
    if args.json_out:
        Path(args.json_out).write_text(
            json.dumps(
                {"file_mb": size_mb, "entries": entries, "cpus": os.cpu_count(), "results": results}, indent=2
            )
        )
    return 0


def print_table(results: dict[str, dict[str, float]], size_mb: float) -> None:
    base = results.get("json.load")
    print(
        f"{'variant':38} {'entries':>8} {'wall s':>7} {'cpu s':>7} {'entries/s':>10} {'MB/s':>6} "
        f"{'peak MB':>8} {'x file':>6} {'x json.load':>11}"
    )
    for name, r in results.items():
        ratio = f"{r['seconds'] / base['seconds']:.2f}" if base else "-"
        print(
            f"{name:38} {int(r['count']):>8} {r['seconds']:>7.2f} {r['cpu']:>7.2f} "
            f"{r['count'] / r['seconds']:>10,.0f} {size_mb / r['seconds']:>6.0f} {r['peak_mb']:>8.0f} "
            f"{r['peak_mb'] / size_mb:>6.2f} {ratio:>11}"
        )


def print_ratios(results: dict[str, dict[str, float]], size_mb: float) -> None:
    base, ours = results.get("json.load"), results.get("cors-audit report --json")
    if not (base and ours):
        return
    print("\nthe performance issue's targets:")
    print(f"  report --json / json.load time      {ours['seconds'] / base['seconds']:.2f}  (target <= 0.5)")
    print(
        f"  peak RSS / file size                 {ours['peak_mb'] / size_mb:.2f}  (target <= 1.5; json.load "
        f"{base['peak_mb'] / size_mb:.2f})"
    )
    html = results.get("  ... and -o report.html")
    if html:
        print(
            f"  with HTML / JSON only                {html['seconds'] / ours['seconds']:.2f}  (target <= 1.2)"
        )
    small = results.get("cors-audit report, a tenth")
    if small:
        per_big, per_small = ours["seconds"] / ours["count"], small["seconds"] / small["count"]
        print(f"  time per entry, full / a tenth       {per_big / per_small:.2f}  (target <= 1.2)")
    for name, r in results.items():
        if name.endswith(" inputs"):
            print(
                f"  {name.split(', ')[1]}: time per entry / one input  "
                f"{(r['seconds'] / r['count']) / (ours['seconds'] / ours['count']):.2f}"
            )


if __name__ == "__main__":
    raise SystemExit(main())
