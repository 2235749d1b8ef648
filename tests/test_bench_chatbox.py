"""The chatbox bench (bench/chatbox.py) measures no run while Causerie compresses its static
files after its start (app.py `COMPRESS_DELAY`): real servers, a real wrk, the bench's own code;
its `Wrk` and `Server.settle` only watched (each call goes through to the real one)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from bench import chatbox
from bench.config import BenchConfig
from bench.databases import Databases
from bench.loads import Wrk
from bench.servers import Server
from causerie.app import COMPRESS_DELAY

WARMUP, SECONDS = 1.0, 1.0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="the bench's load tool, wrk")
def test_the_chatbox_bench_measures_once_causeries_start_is_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, float]] = []
    started: dict[str, float] = {}

    class Watched(Wrk):
        def __init__(self, port: int, load: Any, seconds: float, *args: Any) -> None:
            super().__init__(port, load, seconds, *args)
            self.measured = len([e for e in events if e[0] == "warm-up"]) == len(chatbox.CASES)

        def run(self) -> Any:
            kind = "run" if self.measured else "warm-up"
            events.append((kind, time.monotonic()))
            return super().run()

    real_enter, real_settle = Server.__enter__, Server.settle

    def enter(server: Server) -> Server:
        started[server.kind] = time.monotonic()
        return real_enter(server)

    def settle(server: Server, after: float, *args: Any) -> None:
        real_settle(server, after, *args)
        events.append((f"settled {server.kind} after {after}", time.monotonic()))

    monkeypatch.setattr(chatbox, "Wrk", Watched)
    monkeypatch.setattr(Server, "__enter__", enter)
    monkeypatch.setattr(Server, "settle", settle)
    cfg = BenchConfig(tmp_path, Databases(None), runs=1, seconds=SECONDS, warmup=WARMUP)
    result = chatbox.run_chatbox(cfg)

    assert all(len(case.runs) == 1 for case in result.cases.values())
    kinds = [kind for kind, _ in events]
    settled = f"settled causerie after {COMPRESS_DELAY}"
    assert kinds == ["warm-up"] * 4 + [settled] + ["run"] * 4, kinds
    first_run = events[kinds.index("run")][1]
    assert first_run - started["causerie"] >= COMPRESS_DELAY
