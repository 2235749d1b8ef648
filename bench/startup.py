"""Start-up and memory at rest: `python -m bench.startup [--runs N]`.

Each run starts a server as the other benches do (`python -m bench.serve KIND`, uvicorn with the
options of `causerie serve`, pinned to core 0), asks `GET /api/health` every 5 ms from the start
of the process, and records how long the first answer took and the CPU time the server had used
by then (user and system, from /proc: on a loaded machine the wall time mostly says how long the
server waited for a core); then, after a second at rest, the server's resident memory (VmRSS) and
the anonymous part of it (smaps_rollup: the heap and Python's objects, not the libraries' code);
and VmRSS again once the server has settled: `SETTLE` seconds after its first answer, then
until it uses no CPU and has no child process (Causerie compresses its static files from
`COMPRESS_DELAY` seconds after start, in a child process, and lists the time zones), which every
kind waits for alike: what a server holds at rest for the rest of its life.
Four servers alternate:

- `bare`: the bare Starlette app (bench/serve.py), the baseline;
- `stack`: FastAPI with the health route only and SQLAlchemy Core reading the SQLite database
  once at start: the libraries Causerie is built on, doing nothing of Causerie's, to show the
  floor they set;
- `causerie`: Causerie (`bench.serve causerie`), on a data folder made by `causerie website add`,
  its database migrated already, as a restarted server finds it;
- `serve`: the same, started by the command operators run, `causerie serve`.

The medians are printed with the load average. Issue 19's targets: Causerie at rest in at most
64 MB, and its first answer at most 0.5 s after start.

Causerie's modules are compiled to bytecode first (`compileall`, as `pip install` does for an
installed package): a checkout run with PYTHONDONTWRITEBYTECODE=1, as on the shared machines,
would otherwise compile every module of the package at each start (about a second).
"""

from __future__ import annotations

import argparse
import compileall
import http.client
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.databases import Databases
from bench.memory import read_memory
from bench.servers import (
    HOST,
    REPO,
    SERVER_CORE,
    free_port,
    has_children,
    install_causerie,
    pinned,
)
from causerie.app import COMPRESS_DELAY

POLL = 0.005  # seconds between two tries of the first request
TIMEOUT = 120.0  # seconds; a loaded machine (load average 15-18) took up to 25
REST = 1.0  # seconds at rest before reading the memory
SETTLE = COMPRESS_DELAY + 1.0  # seconds after the first answer before the settled reading
SETTLE_TIMEOUT = 60.0  # seconds


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection(HOST, port, timeout=1.0)
    try:
        conn.request("GET", "/api/health")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process `pid` has used so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # The fields after the command's name, which is in parentheses and may hold spaces.
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def anonymous_mib(pid: int) -> float:
    """The process's resident anonymous memory (heap, Python's objects, stacks), in MiB."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            if line.startswith("Anonymous:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no Anonymous line in /proc/{pid}/smaps_rollup")


# First answer (s), CPU by then (s), RSS and anonymous at rest, RSS settled (MiB).
Run = tuple[float, float, float, float, float]


def settled_mib(pid: int, answered: float) -> float:
    """VmRSS once the server has done what it does after its start (module docstring)."""
    while time.monotonic() - answered < SETTLE:
        time.sleep(0.1)
    while time.monotonic() - answered < SETTLE + SETTLE_TIMEOUT:
        cpu = cpu_seconds(pid)
        time.sleep(0.5)
        if cpu_seconds(pid) - cpu < 0.01 and not has_children(pid):
            break
    return read_memory(pid).rss_mib


def start_once(kind: str, env: dict[str, str]) -> Run:
    """The first answer, the CPU used by then and the memory at rest of one server."""
    port = free_port()
    if kind == "serve":
        command = [sys.executable, "-m", "causerie", "serve", "--port", str(port)]
    else:
        command = [sys.executable, "-m", "bench.serve", kind, "--port", str(port)]
    started = time.monotonic()
    process = subprocess.Popen(
        pinned(SERVER_CORE, command),
        cwd=REPO,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while not _answers(port):
            if process.poll() is not None:
                raise RuntimeError(f"the {kind} server exited at start")
            if time.monotonic() - started > TIMEOUT:
                raise RuntimeError(f"the {kind} server did not answer within {TIMEOUT}s")
            time.sleep(POLL)
        answered = time.monotonic()
        first = answered - started
        cpu = cpu_seconds(process.pid)
        time.sleep(REST)
        rss, anonymous = read_memory(process.pid).rss_mib, anonymous_mib(process.pid)
        return first, cpu, rss, anonymous, settled_mib(process.pid, answered)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    import causerie

    compileall.compile_dir(str(Path(causerie.__file__).parent), quiet=1)
    with tempfile.TemporaryDirectory(prefix="causerie-startup-") as work:
        site = install_causerie(Path(work), "causerie", Databases(None))
        envs = {"bare": {}, "stack": site.env(), "causerie": site.env(), "serve": site.env()}
        results: dict[str, list[Run]] = {kind: [] for kind in envs}
        for _ in range(args.runs):
            for kind, env in envs.items():
                results[kind].append(start_once(kind, env))
    print("load average at the end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    bare_rss = statistics.median(run[2] for run in results["bare"])
    bare_cpu = statistics.median(run[1] for run in results["bare"])
    for kind, runs in results.items():
        firsts, cpus, rss, anonymous, settled = ([run[i] for run in runs] for i in range(5))
        print(
            f"{kind:8} first answer median {statistics.median(firsts):.3f} s "
            f"[{_listed(firsts, '.3f')}], CPU by then median {statistics.median(cpus):.2f} s "
            f"[{_listed(cpus, '.2f')}] ({statistics.median(cpus) / bare_cpu:.1f} x bare); "
            f"at rest median {statistics.median(rss):.1f} MiB [{_listed(rss, '.1f')}] "
            f"({statistics.median(rss) - bare_rss:+.1f} MiB on bare), "
            f"anonymous {statistics.median(anonymous):.1f} MiB; settled median "
            f"{statistics.median(settled):.1f} MiB [{_listed(settled, '.1f')}]"
        )
    print(f"target at rest: 64 MB = {64e6 / 2**20:.1f} MiB")


def _listed(values: list[float], form: str) -> str:
    return ", ".join(format(value, form) for value in values)


if __name__ == "__main__":
    main()
