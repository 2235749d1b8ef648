"""The benches' in-node probe (bench/node_probe.py) in a real server the benches start: loaded
through `CAUSERIE_BENCH_PROBE`, it writes its parts as JSON when the server stops."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

from bench.databases import Databases
from bench.node_probe import summary
from bench.servers import Server, install_causerie

LOAD = "POST /api/widget/v1/websites/{website_id}/session"


def test_the_probe_times_a_real_servers_requests_transactions_loop_and_collections_by_part(
    tmp_path: Path,
) -> None:
    installation = install_causerie(tmp_path, "node", Databases(None))
    probe = tmp_path / "probe.json"
    env = installation.env(CAUSERIE_BENCH_PROBE=str(probe))
    with Server("causerie", tmp_path / "node.log", env) as server:
        first = server.open_session(installation.website_id)
        renewals = _renew_for(server, installation.website_id, first["token"], RENEWING)
        os.kill(server.pid, signal.SIGUSR1)  # a part ends, the next starts
        server.open_session(installation.website_id)
    document = json.loads(probe.read_text())
    first_part, second_part = document["parts"]
    assert document["unit"] == "ms" and document["pid"] == server.pid
    assert first_part["requests"][LOAD]["count"] == 1 + renewals
    assert second_part["requests"][LOAD]["count"] == 1
    assert first_part["requests"]["GET /api/health"]["count"] >= 1  # waiting for the start
    # The creation's transaction: its wait for a turn, then how long it held it.
    store = first_part["store"]
    assert store["transaction wait (not durable)"]["count"] >= 1
    assert store["transaction held (not durable)"]["count"] >= 1
    # The loop's watcher wakes every 5 ms: the renewals went on for RENEWING seconds.
    lateness = first_part["loop"]["lateness"]
    assert lateness["count"] >= 1
    assert 0 <= lateness["p50"] <= lateness["p99"] <= lateness["max"]
    # Each garbage collection, by generation: its wall time and its thread's CPU time.
    young = first_part["collector"]["gen0"]
    assert young["count"] == first_part["collector"]["gen0 cpu"]["count"] >= 1
    lines = summary(probe, ["first", "second"])
    assert lines[0].startswith("probe, first") and any(LOAD in line for line in lines)


RENEWING = 0.3  # seconds of chatbox loads in the first part, many of the watcher's timers


def _renew_for(server: Server, website_id: str, token: str, seconds: float) -> int:
    """Chatbox loads with `token` until `seconds` have passed; how many."""
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        server.open_session(website_id, token)
        count += 1
    return count
