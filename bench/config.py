"""What a bench run is told: its folders, database, and how long and how often to load."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from bench.databases import Databases


@dataclass(frozen=True)
class BenchConfig:
    workdir: Path
    databases: Databases
    runs: int = 3
    seconds: float = 10.0  # one measured load run
    warmup: float = 2.0  # an unmeasured load run before the first measured one, per case
    connections: int = 32
    sessions: int = 100_000  # expired sessions purged; sessions created for the memory figure
    memory_cap: float = 600.0  # the memory bench's creation load stops after this many seconds
    profile_seconds: float = 15.0
    idle_sockets: int = 10_000  # idle WebSockets opened by the sockets bench
    inbox_conversations: int = 100_000  # seeded by the inbox bench
    inbox_messages: int = 1_000_000
    inbox_rounds: int = 200  # sequential requests per inbox path (searches: at most 10)
    inbox_warmup: int = 10
    inbox_data: Path | None = None  # an installation made by `python -m bench.seed_inbox`
    lag_seconds: float = 20.0  # the loop-lag bench's loaded phase, per run
    keep: bool = False  # keep what the run made (the inbox bench's PostgreSQL database)

    def log(self, name: str) -> Path:
        """Where the server called `name` writes its output."""
        return self.workdir / f"{name}.log"


def progress(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)
