"""The bench's report: Markdown tables (readable in a terminal too) with PASS/MISS per target.

A missed target is reported, never raised: the bench always exits 0 once it has measured.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.chatbox import CASES, ChatboxResult
from bench.config import BenchConfig
from bench.idle_sockets import SocketsResult, render_idle_sockets
from bench.inbox import InboxResult, render_inbox
from bench.loads import LoadResult, wrk_path
from bench.loop_lag import LagResult, render_lag
from bench.memory import MemoryResult, ProcessMemory
from bench.profile import Profile
from bench.purge import PURGE_START, PURGE_TAIL, PurgeRateResult, StallResult
from bench.relay import RelayResult, render_relay
from bench.writes import WritesResult, render_writes

# Targets from the issue.
RENEWAL_RATIO = 0.5  # renewals per second, as a share of the bare endpoint's
PURGE_RATE = 20_000  # expired sessions destroyed per second
# "Without stalling requests", as this bench reads it: with the purge running, the 99th
# percentile of renewals stays within STALL_FACTOR of the same load's without a purge, and the
# server still answers at least STALL_KEPT of the renewals per second it answers without one.
STALL_FACTOR = 2.0
STALL_KEPT = 0.5

_CASE_LABELS = {
    "bare": "bare Starlette endpoint (baseline)",
    "framework": "FastAPI route with a body model (the framework's floor)",
    "renewal": "Causerie: renewal (token, same page)",
    "creation": "Causerie: creation (no token)",
}


@dataclass
class Results:
    chatbox: ChatboxResult | None = None
    purge_rate: PurgeRateResult | None = None
    stall: StallResult | None = None
    memory: MemoryResult | None = None
    profiles: list[Profile] = field(default_factory=list)
    relay: RelayResult | None = None
    sockets: SocketsResult | None = None
    writes: WritesResult | None = None
    inbox: InboxResult | None = None
    lag: LagResult | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # section -> why


def verdict(met: bool) -> str:
    return "PASS" if met else "MISS"


def machine() -> list[str]:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if "model name" in line)
    except (OSError, StopIteration):
        pass
    versions = ", ".join(
        f"{name} {_version(name)}"
        for name in ("uvicorn", "uvloop", "httptools", "starlette", "fastapi", "sqlalchemy")
    )
    wrk_version = "wrk not installed"
    if wrk_path() is not None:  # the inbox and lag sections run without it
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
        wrk_version = (wrk.stdout or wrk.stderr or "wrk").splitlines()[0]
    return [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {os.cpu_count()} cores ({cpu}), shared and noisy; "
        "server pinned to core 0, load generator to core 1",
        f"- Python {platform.python_version()}; {versions}",
        f"- load generator: {wrk_version}, 1 thread",
    ]


def causerie_source() -> str:
    """Which Causerie was measured: where it was imported from, and its git state if any."""
    import causerie

    where = Path(causerie.__file__).resolve().parent
    git = subprocess.run(
        ["git", "-C", str(where), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    state = f"git {git.stdout.strip()}" if git.returncode == 0 else "not a git checkout"
    return f"{where} ({state})"


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def _chatbox(cfg: BenchConfig, result: ChatboxResult) -> list[str]:
    lines = [
        f"## Chatbox loads per second ({cfg.runs} run{'s' if cfg.runs > 1 else ''} of "
        f"{cfg.seconds:.0f}s per case, "
        f"{cfg.connections} connections; medians)",
        "",
        "| case | req/s | p50 ms | p99 ms | ratio to bare | req/s of each run | errors |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for name in CASES:
        case = result.cases[name]
        runs = ", ".join(f"{r.rps:,.0f}" for r in case.runs)
        lines.append(
            f"| {_CASE_LABELS[name]} | {case.median('rps'):,.0f} | {case.median('p50_ms'):.1f} | "
            f"{case.median('p99_ms'):.1f} | {result.ratio(name):.1%} | {runs} | {case.failures} |"
        )
    ratio = result.ratio("renewal")
    cost = {name: 1e6 / result.cases[name].median("rps") for name in CASES}
    lines += [
        "",
        f"Target: renewals at >= {RENEWAL_RATIO:.0%} of the bare endpoint's rate: "
        f"**{verdict(ratio >= RENEWAL_RATIO)}** ({ratio:.1%}).",
        "",
        f"Per request, on the server's one core: bare {cost['bare']:,.0f} us, FastAPI's floor "
        f"{cost['framework']:,.0f} us, renewal "
        f"{cost['renewal']:,.0f} us, creation {cost['creation']:,.0f} us; the target allows a "
        f"renewal {cost['bare'] / RENEWAL_RATIO:,.0f} us.",
    ]
    return lines


def _purge(rate: PurgeRateResult | None, stall: StallResult | None) -> list[str]:
    lines = ["## Purge of expired temporary sessions", ""]
    if rate is not None:
        t = rate.timing
        lines += [
            f"In one process, on a fresh database: {rate.sessions:,} temporary sessions created "
            f"through `SqlTx.insert_session` in {rate.seed_seconds:.1f}s "
            f"({rate.sessions / rate.seed_seconds:,.0f}/s), the clock moved past their TTL, then "
            f"`do_purge` removed {t.removed.get('temporary_sessions', 0):,} in {t.seconds:.2f}s: "
            f"**{t.sessions_per_second:,.0f} sessions/s** ({t.transactions} transactions, the "
            f"longest {t.longest_transaction * 1000:.0f} ms from start to commit; `after_purge` "
            f"{t.after_purge * 1000:.0f} ms; {rate.left} left).",
            "",
            f"Target: >= {PURGE_RATE:,} sessions/s: "
            f"**{verdict(t.sessions_per_second >= PURGE_RATE)}**.",
            "",
        ]
    if stall is not None:
        t = stall.timing
        ref, during = stall.reference, stall.during
        p99_factor = during.p99_ms / ref.p99_ms if ref.p99_ms else float("inf")
        kept = stall.rps_while_purging / stall.rps_same_span_without
        lines += [
            f"Inside a running server, renewals loaded for {ref.seconds:.0f}s without a purge, "
            f"then for {during.seconds:.0f}s in which the server purged {stall.sessions:,} "
            f"expired sessions, from {PURGE_START:.0f}s in until {PURGE_TAIL:.0f}s before the "
            "end (on its event loop, as its periodic purge task does):",
            "",
            "| renewals | req/s | p50 ms | p99 ms | max ms | errors |",
            "|---|---:|---:|---:|---:|---:|",
            _load_row("without a purge", ref),
            _load_row("while the server purges", during),
            "",
            f"In the server, under that load, the purge took {t.seconds:.2f}s "
            f"({t.sessions_per_second:,.0f} sessions/s; {t.transactions} transactions, the longest "
            f"{t.longest_transaction * 1000:.0f} ms from start to commit; `after_purge` "
            f"{t.after_purge * 1000:.0f} ms).",
            "",
            "| during those seconds | renewals answered per second | longest time without an "
            "answer |",
            "|---|---:|---:|",
            "| without a purge (same span of the first run) | "
            f"{stall.rps_same_span_without:,.0f} | "
            f"{stall.silence_same_span_without * 1000:,.0f} ms |",
            f"| while the server purges | {stall.rps_while_purging:,.0f} | "
            f"{stall.silence_while_purging * 1000:,.0f} ms |",
            "",
            f"Target: no stall, read as: while purging, p99 <= {STALL_FACTOR:.0f}x and renewals "
            f"answered >= {STALL_KEPT:.0%} of the rate without a purge: "
            f"**{verdict(p99_factor <= STALL_FACTOR and kept >= STALL_KEPT)}** "
            f"(p99 {p99_factor:.1f}x, rate {kept:.0%}).",
            "",
        ]
    return lines


def _load_row(label: str, load: LoadResult) -> str:
    errors = load.socket_errors + load.bad_status
    return (
        f"| {label} | {load.rps:,.0f} | {load.p50_ms:.1f} | {load.p99_ms:.1f} | "
        f"{load.max_ms:.1f} | {errors} |"
    )


def _memory(result: MemoryResult) -> list[str]:
    def row(label: str, m: ProcessMemory) -> str:
        return f"| {label} | {m.rss_mib:.1f} | {m.peak_mib:.1f} | {m.threads} |"

    c = result.creation
    return [
        "## Resident memory of the server process (/proc/PID/status)",
        "",
        "| process | RSS MiB | peak RSS MiB | threads |",
        "|---|---:|---:|---:|",
        row("bare Starlette endpoint, at rest", result.bare_rest),
        row("Causerie, at rest", result.causerie_rest),
        row(
            f"Causerie, after {c.requests:,} chatbox loads created sessions", result.causerie_loaded
        ),
        "",
        f"The creations ran at {c.rps:,.0f}/s ({c.seconds:.0f}s, "
        f"{c.socket_errors + c.bad_status} errors); the database then held "
        f"{result.sessions_in_db:,} temporary sessions; the process grew by "
        f"{result.bytes_per_session:,.0f} bytes per session.",
        "",
    ]


def _profile(profile: Profile) -> list[str]:
    lines = [
        f"### {profile.case.capitalize()}: where the time goes",
        "",
        f"{profile.samples} samples of the event loop thread at {profile.load.rps:,.0f} req/s "
        "(slowed by the sampler). Times per request below use "
        + (
            f"the unprofiled median of {profile.rps_unprofiled:,.0f} req/s"
            if profile.rate_measured_unprofiled
            else "that profiled rate (run the chatbox section too for the unprofiled one)"
        )
        + f", i.e. {1e6 / profile.rps_unprofiled:,.0f} us per request on the server's core.",
        "",
        "| by library (exclusive: the innermost frame's package) | share | us/request |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {label} | {share:.1%} | {profile.us_per_request(share):,.0f} |"
        for label, share in profile.owners
    ]
    lines += [
        "",
        "| step of the request (inclusive) | share | us/request |",
        "|---|---:|---:|",
    ]
    for label, share in profile.steps:
        if share >= 0.005:
            lines.append(
                f"| {label.replace('  ', '&nbsp;&nbsp;')} | {share:.1%} | "
                f"{profile.us_per_request(share):,.0f} |"
            )
    lines += [
        "",
        f"Thread-pool workers were busy for {profile.worker_busy:.1%} as many samples as the "
        "event loop thread.",
        "",
        "| hottest functions (self) | share |",
        "|---|---:|",
    ]
    lines += [f"| `{frame}` | {share:.1%} |" for frame, share in profile.hottest]
    return [*lines, ""]


def render(cfg: BenchConfig, results: Results, command: str) -> str:
    lines = [
        "# Causerie benchmark results",
        "",
        f"- command: `{command}`",
        f"- causerie measured: {causerie_source()}",
        f"- database: {cfg.databases.kind}",
        *machine(),
        "",
    ]
    if results.chatbox is not None:
        lines += [*_chatbox(cfg, results.chatbox), ""]
    if results.purge_rate is not None or results.stall is not None:
        lines += _purge(results.purge_rate, results.stall)
    if results.memory is not None:
        lines += _memory(results.memory)
    lines += render_relay(results.relay)
    lines += render_idle_sockets(results.sockets)
    lines += render_writes(results.writes)
    lines += render_inbox(results.inbox)
    lines += render_lag(results.lag)
    if results.profiles:
        lines += ["## Profiles (py-spy)", ""]
        for profile in results.profiles:
            lines += _profile(profile)
    for section, why in results.skipped.items():
        lines.append(f"- {section}: not measured ({why})")
    return "\n".join(lines).rstrip() + "\n"
