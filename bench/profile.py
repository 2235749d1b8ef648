"""Where a chatbox load spends its time: py-spy samples a loaded Causerie server.

py-spy (`pip install py-spy` into the virtualenv; not a project dependency) samples the server's
stacks from outside while wrk loads one case. The figures are shares of the event loop thread's
samples: inclusive for the named steps of a request, exclusive (self) for the hottest functions.
Multiplied by the time a request takes at the unprofiled rate, a share is microseconds of the
server's one core per request.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.config import BenchConfig, progress
from bench.loads import ChatboxLoad, LoadResult, Wrk
from bench.servers import LOAD_CORE, Server, install_causerie, pinned

RATE = 100  # samples per second; py-spy pauses the process for each one
PY_SPY_MISSING = "py-spy is not installed: pip install py-spy (into the bench's virtualenv)"

Stack = Sequence[str]  # function names, outermost first
Predicate = Callable[[Stack], bool]


def py_spy_path() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _builds_statements(stack: Stack) -> bool:
    """Causerie's store code calling SQLAlchemy's statement constructors (select, where, values)
    directly, as opposed to executing them."""
    return any(
        a.endswith("(causerie/store/tx.py)") and "(sqlalchemy/sql/" in b
        for a, b in itertools.pairwise(stack)
    )


def _name(function: str) -> Predicate:
    """Any frame of the function called `function` (a qualified name, in any file)."""
    return lambda stack: any(f.split(" (", 1)[0] == function for f in stack)


def _any_name(*functions: str) -> Predicate:
    tests = [_name(f) for f in functions]
    return lambda stack: any(test(stack) for test in tests)


def _outside_app(stack: Stack) -> bool:
    return not _name("RequestResponseCycle.run_asgi")(stack)


# The steps of a chatbox load, in the order a request meets them. Inclusive shares: a line's
# share contains those of the lines indented under it.
STEPS: list[tuple[str, Predicate]] = [
    ("uvicorn and the event loop outside the app (HTTP parsing, writes, epoll)", _outside_app),
    ("the ASGI app (FastAPI and everything under it)", _name("RequestResponseCycle.run_asgi")),
    (
        "  FastAPI telemetry check, every request (NativeTelemetry.enabled)",
        _name("NativeTelemetry.enabled"),
    ),
    ("  routing: matching the path against each route (Route.matches)", _name("Route.matches")),
    ("  FastAPI dependency solving (solve_dependencies)", _name("solve_dependencies")),
    (
        "    sync dependencies sent to the thread pool (run_in_threadpool)",
        _name("run_in_threadpool"),
    ),
    ("  body parsing (parse_body: pydantic)", _name("parse_body")),
    ("  the action (do_open_session)", _name("do_open_session")),
    (
        "    transaction begin/commit and lock (store.transaction enter/exit)",
        _any_name("SqliteStore.transaction", "PostgresStore.transaction"),
    ),
    ("    SqlWebsites.get_with_session", _name("SqlWebsites.get_with_session")),
    ("    SqlSessions.record_visit", _name("SqlSessions.record_visit")),
    ("    SqlSessions.insert", _name("SqlSessions.insert")),
    ("    SqlStats.count_network", _name("SqlStats.count_network")),
    ("    network_of (ipaddress)", _name("network_of")),
    (
        "    tokens and ids (hash_token, new_token, new_id)",
        _any_name("hash_token", "new_token", "new_id"),
    ),
    (
        "  SQLAlchemy: building statements (select/where/values in the repositories)",
        _builds_statements,
    ),
    ("  SQLAlchemy: executing (Connection.execute, driver included)", _name("Connection.execute")),
    (
        "    statement cache keys (_generate_cache_key)",
        _any_name("HasCacheKey._generate_cache_key", "MemoizedHasCacheKey._generate_cache_key"),
    ),
    ("    the database driver itself (sqlite3 / asyncpg)", lambda s: owner(s) == DRIVER),
    (
        "  SQLAlchemy: reading rows into models (_website, _session)",
        _any_name("_website", "_session"),
    ),
    ("  response: JSON encoding (JSONResponse.render)", _name("JSONResponse.render")),
    ("  response: sending through the middlewares (Response.__call__)", _name("Response.__call__")),
    ("  CORS origin cache refresh (get_all_origins)", _name("get_all_origins")),
]

# Who owns a sample, for the exclusive split by library: the innermost frame from one of these
# packages. Standard-library frames are transparent (json under Starlette counts as Starlette,
# asyncio under anyio as anyio); a sample with no owner is the event loop itself (uvloop, in C).
DRIVER = "database driver (sqlite3 / asyncpg calls)"
_OWNERS = (
    ("(sqlalchemy/", "SQLAlchemy (statements, cache keys, execution, rows)"),
    ("(asyncpg/", DRIVER),
    ("(anyio/", "anyio (thread pool hops for sync dependencies)"),
    ("(pydantic", "pydantic"),
    ("(opentelemetry/", "OpenTelemetry (FastAPI's telemetry check)"),
    ("(fastapi/", "FastAPI"),
    ("(starlette/", "Starlette (incl. JSON encoding)"),
    ("(causerie/", "Causerie's own code (incl. hashing, ipaddress)"),
    ("(uvicorn/", "uvicorn (HTTP protocol)"),
)
_DRIVER_LEAVES = frozenset(
    {
        "DefaultDialect.do_execute (sqlalchemy/engine/default.py)",
        "DefaultDialect.do_commit (sqlalchemy/engine/default.py)",
        "DefaultDialect.do_execute_no_params (sqlalchemy/engine/default.py)",
    }
)
EVENT_LOOP = "event loop (uvloop, in C: I/O, callbacks)"
_LOOP_ENTRY = "Runner.run (asyncio/runners.py)"


def owner(stack: Stack) -> str:
    if stack and stack[-1] in _DRIVER_LEAVES:
        return DRIVER
    # Frames down to the event loop's entry (uvicorn.run, Server.run, Runner.run) called the
    # loop; only the callbacks the loop runs below them own time.
    entry = max((i for i, f in enumerate(stack) if f.startswith(_LOOP_ENTRY)), default=-1)
    for frame in reversed(stack[entry + 1 :]):
        for marker, label in _OWNERS:
            if marker in frame:
                return label
    return EVENT_LOOP


_IDLE_LEAVES = frozenset({"Condition.wait", "Queue.get", "Event.wait", "Thread.join"})


@dataclass(frozen=True)
class Profile:
    case: str
    samples: int  # of the event loop thread
    load: LoadResult  # the load while profiling (slowed by py-spy's pauses)
    rps_unprofiled: float  # the case's median from the chatbox section, else the profiled rate
    rate_measured_unprofiled: bool
    steps: list[tuple[str, float]]
    owners: list[tuple[str, float]]  # exclusive: sums to 1
    hottest: list[tuple[str, float]]
    worker_busy: float  # samples of busy worker threads, as a share of the main thread's

    def us_per_request(self, share: float) -> float:
        return share * 1e6 / self.rps_unprofiled if self.rps_unprofiled else 0.0


def _strip_line(frame: str) -> str:
    """`f (path/file.py:12)` -> `f (path/file.py)`, so that a function is one entry."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def analyse(raw: str, case: str, load: LoadResult, rps_unprofiled: float | None) -> Profile:
    """Read py-spy's `--format raw --threads` output."""
    main: list[tuple[list[str], int]] = []
    worker_busy = 0
    for line in raw.splitlines():
        stack_text, _, count_text = line.rpartition(" ")
        if not stack_text or not count_text.isdigit():
            continue
        thread, *frames = stack_text.split(";")
        stack = [_strip_line(f) for f in frames]
        if "MainThread" in thread:
            main.append((stack, int(count_text)))
        elif stack and stack[-1].split(" (", 1)[0] not in _IDLE_LEAVES:
            worker_busy += int(count_text)
    total = sum(n for _, n in main) or 1
    steps = [(label, sum(n for s, n in main if test(s)) / total) for label, test in STEPS]
    leaves: Counter[str] = Counter()
    owners: Counter[str] = Counter()
    for stack, n in main:
        leaves[stack[-1] if stack else "?"] += n
        owners[owner(stack)] += n
    return Profile(
        case=case,
        samples=total,
        load=load,
        rps_unprofiled=rps_unprofiled or load.rps,
        rate_measured_unprofiled=rps_unprofiled is not None,
        steps=steps,
        owners=[(label, n / total) for label, n in owners.most_common()],
        hottest=[(frame, n / total) for frame, n in leaves.most_common(15)],
        worker_busy=worker_busy / total,
    )


def run_profile(cfg: BenchConfig, rps_unprofiled: dict[str, float]) -> list[Profile]:
    """Profile renewals and creations; `rps_unprofiled` (by case) converts shares to time."""
    py_spy = py_spy_path()
    if py_spy is None:
        raise RuntimeError(PY_SPY_MISSING)
    site = install_causerie(cfg.workdir, "profile", cfg.databases)
    profiles = []
    with Server("causerie", cfg.log("profile"), site.env()) as server:
        token = server.open_session(site.website_id)["token"]
        for case, load in (
            ("renewal", ChatboxLoad(site.website_id, token)),
            ("creation", ChatboxLoad(site.website_id)),
        ):
            Wrk(server.port, load, cfg.warmup, cfg.connections).run()
            progress(f"profile: sampling {case}s for {cfg.profile_seconds:.0f}s")
            output = cfg.workdir / f"profile-{case}.txt"
            wrk = Wrk(server.port, load, cfg.profile_seconds + 3, cfg.connections).start()
            time.sleep(1)
            subprocess.run(
                pinned(
                    LOAD_CORE,
                    [
                        py_spy, "record", "--pid", str(server.pid),
                        "--duration", str(round(cfg.profile_seconds)), "--rate", str(RATE),
                        "--format", "raw", "--threads", "--output", str(output),
                    ],
                ),
                check=True,
                capture_output=True,
                timeout=cfg.profile_seconds + 60,
            )  # fmt: skip
            load_result = wrk.result()
            rps = rps_unprofiled.get(case)
            profiles.append(analyse(output.read_text(), case, load_result, rps))
    return profiles
