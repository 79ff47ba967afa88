"""Overhead of the live addon: requests/s through real `mitmdump`, with and without `-s addons/cors_audit.py`.

Everything runs on loopback in separate processes: a keep-alive upstream server (asyncio), mitmdump,
and a load generator (asyncio, absolute-form proxy requests over keep-alive connections). The traffic
is the addon's worst case: every request is CORS-relevant, so each one is captured, paired and judged:

    GET  /ok        Origin + Sec-Fetch-Mode: cors, answered with ACAO = origin     (allowed)
    GET  /blocked   the same, answered without ACAO                              (blocked: one ALERT line)
    OPTIONS /item + PUT /item, preflight allowing PUT                            (a paired exchange)
    GET  /asset     Sec-Fetch-Mode: no-cors                                      (not CORS)

With `--traffic plain` every request is a GET without CORS headers (what `hey -x` or `ab -X` send
unless told otherwise): the addon's cheapest path, a look at the header names.

Rounds alternate plain / addon so drift hits both. Memory: mitmdump's RSS after a warm-up and at the
end of the addon run (the issue's bar: < 50 MB growth over 50,000 flows). Bounded by request count and
a time limit per round; never asserts anything, it prints numbers (and `--json` writes them).

    python benchmarks/bench_addon.py                                  # 20,000 requests x 2 rounds each
    python benchmarks/bench_addon.py --requests 50000 --rounds 1 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cors_audit

REPO = Path(__file__).resolve().parents[1]
USE_AB = False  # --ab: ApacheBench generates the load
PLAIN = False  # --traffic plain: requests without CORS headers, as `hey -x` or `ab -X` send by default
HOST = "127.0.0.1"
APP = "http://app.bench.test"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {port}")


# ---- upstream: a small keep-alive HTTP/1.1 server ----


def _reply(method: str, path: str, origin: str) -> bytes:
    headers = [("Content-Type", "application/json")]
    body = b'{"ok":true}'
    if method == "OPTIONS":
        headers = [
            ("Access-Control-Allow-Origin", origin),
            ("Access-Control-Allow-Methods", "PUT"),
            ("Access-Control-Max-Age", "0"),
        ]
        body = b""
        status = "204 No Content"
    else:
        status = "200 OK"
        if path.startswith(("/ok", "/item")):
            headers.append(("Access-Control-Allow-Origin", origin))
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
    if not status.startswith("204"):
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


async def _serve_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            length = int(fields.get("Content-Length") or fields.get("content-length") or 0)
            if length:
                await reader.readexactly(length)
            writer.write(_reply(method, target, fields.get("Origin") or fields.get("origin") or ""))
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _upstream(port: int) -> None:
    server = await asyncio.start_server(_serve_client, HOST, port, backlog=512)
    async with server:
        await server.serve_forever()


# ---- load generator ----


def _requests(upstream: int, plain: bool = False) -> list[bytes]:
    base = f"http://{HOST}:{upstream}"
    common = f"Host: {HOST}:{upstream}\r\nUser-Agent: bench\r\nAccept: */*\r\n"
    if plain:  # nothing about CORS: the addon looks at the header names and lets it pass
        return [f"GET {base}/asset HTTP/1.1\r\n{common}\r\n".encode()]
    cors = f"Origin: {APP}\r\nSec-Fetch-Mode: cors\r\nSec-Fetch-Site: cross-site\r\n"
    return [
        f"GET {base}/ok HTTP/1.1\r\n{common}{cors}\r\n".encode(),
        f"GET {base}/blocked HTTP/1.1\r\n{common}{cors}\r\n".encode(),
        f"OPTIONS {base}/item HTTP/1.1\r\n{common}{cors}Access-Control-Request-Method: PUT\r\n\r\n".encode(),
        f"PUT {base}/item HTTP/1.1\r\n{common}{cors}Content-Length: 2\r\n\r\n{{}}".encode(),
        f"GET {base}/asset HTTP/1.1\r\n{common}Sec-Fetch-Mode: no-cors\r\nSec-Fetch-Site: same-origin\r\n\r\n".encode(),
    ]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    if length:
        await reader.readexactly(length)
    return status


async def _load(
    proxy: int, upstream: int, total: int, connections: int, limit: float, plain: bool = False
) -> dict[str, Any]:
    templates = _requests(upstream, plain)
    counter = {"sent": 0, "ok": 0, "errors": 0}
    deadline = time.monotonic() + limit

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, proxy)
        try:
            i = 0
            while counter["sent"] < total and time.monotonic() < deadline:
                counter["sent"] += 1
                writer.write(templates[i % len(templates)])
                i += 1
                try:
                    await _read_response(reader)
                    counter["ok"] += 1
                except (asyncio.IncompleteReadError, ValueError, ConnectionError):
                    counter["errors"] += 1
                    return
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - start
    return {**counter, "seconds": elapsed, "rps": counter["ok"] / elapsed if elapsed else 0.0}


# ---- mitmdump ----


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all threads) so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mitmdump_cmd(port: int, addon: bool, folder: Path, report: bool, extra: Sequence[str] = ()) -> list[str]:
    cmd = [
        str(Path(sys.executable).parent / "mitmdump"),
        "--listen-host",
        HOST,
        "--listen-port",
        str(port),
        "--set",
        "flow_detail=0",
        "--set",
        "connection_strategy=lazy",
    ]
    if addon:
        cmd += [
            "-s",
            str(REPO / "addons" / "cors_audit.py"),
            "--set",
            f"cors_audit_dir={folder}",
            "--set",
            f"cors_audit_report={'true' if report else 'false'}",
        ]
        for option in extra:
            cmd += ["--set", option]
    return cmd


def callgrind_instructions(pid: int, dump: Path) -> int:
    """Dump the counters of a process under callgrind; the instructions since they were last zeroed."""
    subprocess.run(["callgrind_control", "-d", str(pid)], check=True, capture_output=True, timeout=600)
    dumps = sorted(dump.parent.glob(dump.name + ".*"), key=lambda p: int(p.suffix[1:]))
    for line in dumps[-1].read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise RuntimeError(f"no totals in {dumps[-1]}")


def run_ab(proxy: int, upstream: int, total: int, connections: int, limit: float) -> dict[str, Any]:
    """ApacheBench through the proxy (`ab -X`, keep-alive): a load generator in C, lighter than ours.

    ab sends one kind of request: the CORS-relevant, judged one (GET /ok with Origin), or with
    `--traffic plain` a GET without CORS headers.
    """
    out = subprocess.run(
        [
            "ab", "-q", "-k", "-X", f"{HOST}:{proxy}", "-n", str(total), "-c", str(connections),
            *([] if PLAIN else ["-H", f"Origin: {APP}", "-H", "Sec-Fetch-Mode: cors",
                                "-H", "Sec-Fetch-Site: cross-site"]),
            f"http://{HOST}:{upstream}/{'asset' if PLAIN else 'ok'}",
        ],
        capture_output=True, text=True, check=True, timeout=limit,
    )  # fmt: skip
    fields = dict(line.split(":", 1) for line in out.stdout.splitlines() if ":" in line)
    done = int(fields["Complete requests"].split()[0])
    failed = int(fields["Failed requests"].split()[0])
    seconds = float(fields["Time taken for tests"].split()[0])
    return {"ok": done - failed, "errors": failed, "seconds": seconds, "rps": (done - failed) / seconds}


def run_loadgen(proxy: int, upstream: int, total: int, connections: int, limit: float) -> dict[str, Any]:
    if USE_AB:
        return run_ab(proxy, upstream, total, connections, limit)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--loadgen",
            str(proxy),
            str(upstream),
            str(total),
            str(connections),
            str(limit),
            "plain" if PLAIN else "cors",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def one_round(upstream: int, addon: bool, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    port = free_port()
    log = open(folder / f"mitmdump-{'addon' if addon else 'plain'}.log", "ab")  # noqa: SIM115
    cmd = mitmdump_cmd(port, addon, folder, args.report, args.set)
    dump = folder / f"callgrind-{'addon' if addon else 'plain'}-{port}.out"
    if args.callgrind:  # the console script through its interpreter: valgrind runs binaries
        cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={dump}", sys.executable, *cmd]
    proc = subprocess.Popen(
        cmd,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, proc, timeout=300.0 if args.callgrind else 60.0)
        run_loadgen(port, upstream, args.warmup, args.connections, args.time_limit)
        if args.callgrind:
            subprocess.run(["callgrind_control", "-z", str(proc.pid)], check=True, capture_output=True)
        rss_start = rss_mb(proc.pid)
        cpu_start = cpu_seconds(proc.pid)
        result = run_loadgen(port, upstream, args.requests, args.connections, args.time_limit)
        if args.callgrind:
            result["instructions_per_request"] = callgrind_instructions(proc.pid, dump) / max(1, result["ok"])
        result["cpu_ms_per_request"] = (cpu_seconds(proc.pid) - cpu_start) * 1000 / max(1, result["ok"])
        result["rss_start_mb"] = rss_start
        result["rss_end_mb"] = rss_mb(proc.pid)
        stop = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=max(120.0, args.requests / 100))
        result["shutdown_seconds"] = time.perf_counter() - stop
        return result
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=20_000, help="requests per measured round")
    parser.add_argument("--warmup", type=int, default=1_000, help="requests before measuring (RSS baseline)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per configuration (alternating)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds per round at most")
    parser.add_argument(
        "--report", action="store_true", help="also write the report at exit (timed as shutdown)"
    )
    parser.add_argument("--json", help="write the results here")
    parser.add_argument(
        "--ab", action="store_true", help="generate the load with ApacheBench (`ab -X`, Debian apache2-utils)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="OPTION=VALUE",
        help="extra mitmproxy option for the addon runs (repeatable), e.g. cors_audit_mark=false",
    )
    parser.add_argument(
        "--traffic",
        choices=["cors", "plain"],
        default="cors",
        help="cors (default): the mix above, every request judged; plain: GET requests without CORS "
        "headers, what `hey -x` or `ab -X` send by default",
    )
    parser.add_argument(
        "--callgrind",
        action="store_true",
        help="run mitmdump under valgrind's callgrind and count its instructions per request: slow (use "
        "--requests 500 --warmup 200 --rounds 1), but within about 1 % from run to run, whatever else the machine does",
    )
    parser.add_argument("--loadgen", nargs=6, help=argparse.SUPPRESS)
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.loadgen:
        proxy, upstream, total, connections = map(int, args.loadgen[:4])
        limit, plain = float(args.loadgen[4]), args.loadgen[5] == "plain"
        print(json.dumps(asyncio.run(_load(proxy, upstream, total, connections, limit, plain))))
        return
    if args.upstream:
        asyncio.run(_upstream(args.upstream))
        return

    global USE_AB, PLAIN
    USE_AB = args.ab
    PLAIN = args.traffic == "plain"
    if USE_AB and shutil.which("ab") is None:
        parser.error("--ab needs ApacheBench: apt-get install apache2-utils")
    if args.callgrind and shutil.which("callgrind_control") is None:
        parser.error("--callgrind needs valgrind: apt-get install valgrind")
    upstream_port = free_port()
    upstream = subprocess.Popen([sys.executable, __file__, "--upstream", str(upstream_port)])
    folder = Path(tempfile.mkdtemp(prefix="bench-addon-"))
    results: dict[str, list[dict[str, Any]]] = {"plain": [], "addon": []}
    try:
        wait_for_port(upstream_port, upstream)
        for n in range(args.rounds):
            for name in ("plain", "addon"):
                r = one_round(upstream_port, name == "addon", args, folder)
                results[name].append(r)
                print(
                    f"round {n + 1} {name:5}: {r['ok']:6d} ok {r['errors']:3d} errors in {r['seconds']:6.2f} s "
                    f"= {r['rps']:7.0f} req/s, mitmdump CPU {r['cpu_ms_per_request']:.2f} ms/req; RSS {r['rss_start_mb']:.0f} -> {r['rss_end_mb']:.0f} MB; "
                    f"shutdown {r['shutdown_seconds']:.1f} s",
                    flush=True,
                )
        captures = sorted(folder.glob("cors-audit-*.jsonl"))
        plain = statistics.median(r["rps"] for r in results["plain"])
        with_addon = statistics.median(r["rps"] for r in results["addon"])
        growth = max(r["rss_end_mb"] - r["rss_start_mb"] for r in results["addon"])
        plain_cpu = statistics.median(r["cpu_ms_per_request"] for r in results["plain"])
        addon_cpu = statistics.median(r["cpu_ms_per_request"] for r in results["addon"])
        summary = {
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}",
            "build": "compiled (mypyc)" if cors_audit.COMPILED else "pure Python",
            "traffic": "plain" if PLAIN else "cors",
            "requests_per_round": args.requests,
            "connections": args.connections,
            "plain_rps_median": plain,
            "addon_rps_median": with_addon,
            "ratio": with_addon / plain if plain else float("nan"),
            "plain_cpu_ms_per_request": plain_cpu,
            "addon_cpu_ms_per_request": addon_cpu,
            "cpu_ratio": plain_cpu / addon_cpu if addon_cpu else float("nan"),
            "addon_rss_growth_mb_max": growth,
            "capture_bytes_per_message": (
                sum(p.stat().st_size for p in captures)
                / max(1, sum(1 for p in captures for _ in p.open("rb")))
            ),
            "rounds": results,
        }
        print(
            f"\ncors-audit {summary['build']}, {summary['traffic']} traffic; throughput: plain {plain:.0f} req/s, with addon {with_addon:.0f} req/s "
            f"-> ratio {summary['ratio']:.2f} (target >= 0.9)\n"
            f"mitmdump CPU per request: plain {plain_cpu:.2f} ms, with addon {addon_cpu:.2f} ms "
            f"-> throughput bound ratio {summary['cpu_ratio']:.2f} (less sensitive than req/s to other load on the machine)\n"
            f"memory: mitmdump RSS growth with the addon at most {growth:.1f} MB over {args.requests} requests "
            f"(target < 50 MB over 50,000)\n"
            f"capture: {summary['capture_bytes_per_message']:.0f} bytes per line"
        )
        if args.callgrind:
            plain_ir = statistics.median(r["instructions_per_request"] for r in results["plain"])
            addon_ir = statistics.median(r["instructions_per_request"] for r in results["addon"])
            summary.update(
                plain_instructions_per_request=plain_ir,
                addon_instructions_per_request=addon_ir,
                instruction_ratio=plain_ir / addon_ir,
            )
            print(
                f"callgrind: mitmdump instructions per request: plain {plain_ir:,.0f}, with addon {addon_ir:,.0f} "
                f"(+{addon_ir - plain_ir:,.0f}) -> instruction-bound throughput ratio {plain_ir / addon_ir:.3f}"
            )
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=1))
    finally:
        upstream.terminate()
        upstream.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
