"""`python -m bench`: run every benchmark and print the report (docs/performance.md).

Sections, in the order they run: chatbox (loads per second beside a bare endpoint), purge (rate),
stall (requests during a purge), memory (RSS), profile (where a request's time goes), relay
(WebSocket messages visitor -> agent beside a bare echo), sockets (memory per idle WebSocket),
writes (durable message writes beside raw sqlite3), inbox (conversation list and thread latency
with 100,000 conversations, seeded by bench.seed_inbox), lag (the server's event loop and an idle
socket while searches and exports run back to back, on the same seeded inbox). A missed
target is reported as MISS; the exit status is non-zero only when a section could not run.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

from bench.chatbox import run_chatbox
from bench.config import BenchConfig, progress
from bench.databases import Databases
from bench.idle_sockets import run_sockets
from bench.inbox import inbox_data_dir, run_inbox
from bench.loads import WRK_MISSING, wrk_path
from bench.loop_lag import run_lag
from bench.memory import run_memory
from bench.profile import PY_SPY_MISSING, py_spy_path, run_profile
from bench.purge import run_purge_rate, run_purge_stall
from bench.relay import run_relay
from bench.report import Results, render
from bench.writes import run_writes

SECTIONS = (
    "chatbox",
    "purge",
    "stall",
    "memory",
    "profile",
    "relay",
    "sockets",
    "writes",
    "inbox",
    "lag",
)
NEEDS_WRK = frozenset({"chatbox", "stall", "memory", "profile"})


def _names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = set(names) - set(SECTIONS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown section(s) {', '.join(sorted(unknown))}")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Causerie's benchmarks: chatbox loads beside a bare Starlette endpoint, purge "
        "rate and stall, server memory, and a profile of a chatbox load.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 short run, 20,000 sessions, 2,000 idle sockets"
    )
    parser.add_argument("--runs", type=int, help="measured runs per chatbox case (default 3)")
    parser.add_argument("--seconds", type=float, help="seconds per measured run (default 10)")
    parser.add_argument("--connections", type=int, help="wrk connections (default 32)")
    parser.add_argument("--sessions", type=int, help="sessions purged and created (100,000)")
    parser.add_argument(
        "--inbox-conversations", type=int, help="conversations seeded by the inbox bench (100,000)"
    )
    parser.add_argument(
        "--inbox-messages", type=int, help="messages seeded by the inbox bench (1,000,000)"
    )
    parser.add_argument(
        "--inbox-rounds", type=int, help="requests per path in the inbox bench (default 200)"
    )
    parser.add_argument(
        "--lag-seconds", type=float, help="loop-lag bench: seconds of load per run (default 20)"
    )
    parser.add_argument(
        "--inbox-data",
        type=inbox_data_dir,
        metavar="DIR",
        help="inbox bench: use this installation made by `python -m bench.seed_inbox` (its "
        "database included) instead of seeding a new one",
    )
    parser.add_argument("--only", type=_names, help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--skip", type=_names, default=[], help="comma-separated sections")
    parser.add_argument(
        "--database",
        metavar="postgresql://USER@127.0.0.1:5432/DB",
        help="run on PostgreSQL: fresh databases causerie_bench_* are created on this server "
        "(connecting to DB) and dropped at the end; default SQLite",
    )
    parser.add_argument("--markdown", type=Path, help="also write the report to this file")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (server logs)")
    return parser


def _config(args: argparse.Namespace, workdir: Path, databases: Databases) -> BenchConfig:
    quick = (
        {
            "runs": 1,
            "seconds": 3.0,
            "warmup": 1.0,
            "sessions": 20_000,
            "profile_seconds": 4.0,
            "idle_sockets": 2_000,
            "inbox_conversations": 20_000,
            "inbox_messages": 200_000,
            "inbox_rounds": 50,
            "lag_seconds": 5.0,
        }
        if args.quick
        else {}
    )
    given = {
        "runs": args.runs,
        "seconds": args.seconds,
        "connections": args.connections,
        "sessions": args.sessions,
        "inbox_conversations": args.inbox_conversations,
        "inbox_messages": args.inbox_messages,
        "inbox_rounds": args.inbox_rounds,
        "lag_seconds": args.lag_seconds,
    }
    return BenchConfig(
        workdir=workdir,
        databases=databases,
        inbox_data=args.inbox_data,
        keep=args.keep,
        **{**quick, **{k: v for k, v in given.items() if v is not None}},
    )


def _run_section(name: str, cfg: BenchConfig, results: Results) -> None:
    if name == "chatbox":
        results.chatbox = run_chatbox(cfg)
    elif name == "purge":
        results.purge_rate = run_purge_rate(cfg)
    elif name == "stall":
        results.stall = run_purge_stall(cfg)
    elif name == "memory":
        results.memory = run_memory(cfg)
    elif name == "profile":
        cases = results.chatbox.cases if results.chatbox else {}
        results.profiles = run_profile(cfg, {n: c.median("rps") for n, c in cases.items()})
    elif name == "relay":
        results.relay = run_relay(cfg)
    elif name == "sockets":
        results.sockets = run_sockets(cfg, cfg.idle_sockets)
    elif name == "writes":
        results.writes = run_writes(cfg)
    elif name == "inbox":
        results.inbox = run_inbox(cfg)
    elif name == "lag":
        results.lag = run_lag(cfg)


def _run_sections(cfg: BenchConfig, sections: list[str]) -> tuple[Results, bool]:
    """Run each section in turn; one that fails is reported and the others still run."""
    results = Results()
    failed = False
    for name in sections:
        if name in NEEDS_WRK and wrk_path() is None:
            results.skipped[name] = WRK_MISSING
            continue
        if name == "profile" and py_spy_path() is None:
            results.skipped[name] = PY_SPY_MISSING
            continue
        progress(f"--- {name}")
        try:
            _run_section(name, cfg, results)
        except Exception as exc:
            traceback.print_exc()
            results.skipped[name] = f"failed: {exc}"
            failed = True
    return results, failed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sections = [s for s in (args.only or SECTIONS) if s not in args.skip]
    if wrk_path() is None and NEEDS_WRK.intersection(sections):
        print(f"bench: {WRK_MISSING}", file=sys.stderr)
        return 2
    databases = Databases(args.database)
    workdir = Path(tempfile.mkdtemp(prefix="causerie-bench-"))
    cfg = _config(args, workdir, databases)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    try:
        results, failed = _run_sections(cfg, sections)
    finally:
        databases.drop_all()
        if args.keep:
            progress(f"work folder kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report = render(cfg, results, command)
    print(report)
    if args.markdown:
        args.markdown.write_text(report)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
