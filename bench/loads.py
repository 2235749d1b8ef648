"""Load generation with wrk: one thread on core 1, keep-alive connections, POST bodies from a
Lua script whose `done` hook prints the figures as JSON lines.

Every run is bounded in time (`-d`) and, when asked, in count (the script stops the thread after
`limit` answers). Only loopback addresses are loaded. With `timeline`, the script also records
when each answer arrived (CLOCK_MONOTONIC, the clock of Python's `time.monotonic`), so that a
run can be cut at times the bench knows, such as the start and end of a purge.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.servers import HOST, LOAD_CORE, ORIGIN, PAGE, USER_AGENT, pinned, session_path

WRK_MISSING = (
    "wrk is not installed. On Debian or Ubuntu: sudo apt-get update && sudo apt-get install -y wrk"
)
CONNECTIONS = 32
# A stalled request must be measured, not dropped: wrk leaves requests slower than its timeout
# out of the latency figures.
TIMEOUT = "60s"
SLOTS_PER_SECOND = 100  # the timeline's resolution: answers are counted per 10 ms
_RESULT = "BENCH-RESULT "
_TIMELINE = "BENCH-TIMELINE "
_LIMIT_REACHED = "BENCH-LIMIT-REACHED"

_REQUEST = """
wrk.method = "POST"
wrk.body = [==[@BODY@]==]
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Origin"] = "@ORIGIN@"
wrk.headers["User-Agent"] = "@USER_AGENT@"

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
"""

# A `response` hook makes wrk parse every answer, so it is defined only when needed.
_TIMELINE_CLOCK = """
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local clock = ffi.new("bench_timespec")
local function now()
  ffi.C.clock_gettime(1, clock)  -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end
slots = {}  -- answers per slot of 1/@SLOTS@ s, keyed by floor(monotonic * @SLOTS@)
"""

_RESPONSE = """
local limit = @LIMIT@
local answers = 0
function response(status, headers, body)
  if @TIMELINE@ then
    local slot = math.floor(now() * @SLOTS@)
    slots[slot] = (slots[slot] or 0) + 1
  end
  answers = answers + 1
  if answers == limit then
    -- wrk's main thread sleeps for the whole -d even once this thread stops: the mark tells
    -- the bench to interrupt it (SIGINT makes wrk print its summary).
    wrk.thread:stop()
    io.write("@LIMIT_REACHED@\\n")
    io.stdout:flush()
  end
end
"""

_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '@RESULT@{"requests": %.0f, "duration_us": %.0f, "p50_us": %.0f, "p99_us": %.0f, '
    .. '"max_us": %.0f, "mean_us": %.1f, "connect": %.0f, "read": %.0f, "write": %.0f, '
    .. '"status": %.0f, "timeout": %.0f}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, latency.mean, e.connect, e.read, e.write, e.status, e.timeout))
  if @TIMELINE@ then
    for _, thread in ipairs(threads) do
      local parts = {}
      for slot, count in pairs(thread:get("slots")) do
        table.insert(parts, string.format('"%.0f": %.0f', slot, count))
      end
      io.write('@TIMELINE_MARK@{' .. table.concat(parts, ", ") .. '}\\n')
    end
  end
end
"""


def wrk_path() -> str | None:
    return shutil.which("wrk")


def _script(load: ChatboxLoad, limit: int, timeline: bool) -> str:
    parts = [_REQUEST]
    if timeline:
        parts.append(_TIMELINE_CLOCK)
    if timeline or limit:
        parts.append(_RESPONSE)
    parts.append(_DONE)
    script = "".join(parts)
    for name, value in {
        "@BODY@": json.dumps(load.body()),
        "@ORIGIN@": ORIGIN,
        "@USER_AGENT@": USER_AGENT,
        "@LIMIT@": str(limit),
        "@TIMELINE@": "true" if timeline else "false",
        "@SLOTS@": str(SLOTS_PER_SECOND),
        "@LIMIT_REACHED@": _LIMIT_REACHED,
        "@RESULT@": _RESULT,
        "@TIMELINE_MARK@": _TIMELINE,
    }.items():
        script = script.replace(name, value)
    return script


@dataclass(frozen=True)
class ChatboxLoad:
    """Chatbox loads on one website: renewals of `token`, or creations when it is None."""

    website_id: str
    token: str | None = None

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"page": PAGE}
        if self.token is not None:
            body = {"token": self.token, **body}
        return body


@dataclass(frozen=True)
class Timeline:
    """When answers arrived: counts per slot of 1/SLOTS_PER_SECOND s of `time.monotonic()`."""

    slots: dict[int, int]

    def answers_between(self, start: float, end: float) -> int:
        first, last = int(start * SLOTS_PER_SECOND), int(end * SLOTS_PER_SECOND)
        return sum(n for slot, n in self.slots.items() if first <= slot < last)

    def longest_silence(self, start: float, end: float) -> float:
        """The longest time between `start` and `end` in which no answer arrived, in seconds
        (to the slot's resolution)."""
        first, last = int(start * SLOTS_PER_SECOND), int(end * SLOTS_PER_SECOND)
        longest = run = 0
        for slot in range(first, last):
            run = 0 if self.slots.get(slot) else run + 1
            longest = max(longest, run)
        return longest / SLOTS_PER_SECOND


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    socket_errors: int
    bad_status: int
    timeline: Timeline | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Wrk:
    """One wrk run against `port`: `start()` then `result()`, or `run()` for both."""

    def __init__(
        self,
        port: int,
        load: ChatboxLoad,
        seconds: float,
        connections: int = CONNECTIONS,
        limit: int = 0,
        timeline: bool = False,
    ) -> None:
        self._seconds = seconds
        self._limit = limit
        self._dir = tempfile.TemporaryDirectory(prefix="causerie-bench-wrk-")
        script = Path(self._dir.name) / "load.lua"
        script.write_text(_script(load, limit, timeline))
        self._command = pinned(
            LOAD_CORE,
            [
                wrk_path() or "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                f"--timeout={TIMEOUT}",
                "-s",
                str(script),
                f"http://{HOST}:{port}{session_path(load.website_id)}",
            ],
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> Wrk:
        self._process = subprocess.Popen(
            self._command, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        return self

    def result(self) -> LoadResult:
        assert self._process is not None
        try:
            head = self._interrupt_at_limit() if self._limit else b""
            rest, err = self._process.communicate(timeout=self._seconds + 120)
        finally:
            self._dir.cleanup()
        out = (head + rest).decode(errors="replace")
        raw: dict[str, float] | None = None
        timeline: Timeline | None = None
        for line in out.splitlines():
            if line.startswith(_RESULT):
                raw = json.loads(line.removeprefix(_RESULT))
            elif line.startswith(_TIMELINE):
                slots = json.loads(line.removeprefix(_TIMELINE))
                timeline = Timeline({int(k): int(v) for k, v in slots.items()})
        if raw is None:
            raise RuntimeError(
                f"wrk printed no result (exit {self._process.returncode}):\n{out}{err.decode()}"
            )
        return _parse(raw, timeline)

    def _interrupt_at_limit(self) -> bytes:
        """Wait (at most the run's duration) for the limit mark, then stop wrk early; return
        what wrk printed so far."""
        assert self._process is not None and self._process.stdout is not None
        fd = self._process.stdout.fileno()
        seen = b""
        deadline = time.monotonic() + self._seconds + 5
        while _LIMIT_REACHED.encode() not in seen and (left := deadline - time.monotonic()) > 0:
            ready, _, _ = select.select([fd], [], [], left)
            chunk = os.read(fd, 65536) if ready else b""
            if not chunk:
                break
            seen += chunk
        self.stop()
        return seen

    def stop(self) -> None:
        """End the run now; wrk prints its summary as if its time were up."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)

    def run(self) -> LoadResult:
        return self.start().result()


def _parse(raw: dict[str, float], timeline: Timeline | None) -> LoadResult:
    return LoadResult(
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        mean_ms=raw["mean_us"] / 1000,
        socket_errors=int(raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]),
        bad_status=int(raw["status"]),
        timeline=timeline,
    )
