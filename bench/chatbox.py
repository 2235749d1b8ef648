"""Chatbox loads per second, side by side with a bare Starlette endpoint, in the same run.

Four cases, each on its own server left running for the whole section and loaded in turn
(bare, framework, renewal, creation, then again for each run), so that drift on a shared machine
touches every case alike:

- `bare`: a Starlette JSON endpoint on the same uvicorn settings (bench/serve.py);
- `framework`: FastAPI's floor, an ordinary FastAPI route with a body model at the same path,
  answering as the bare endpoint does (bench/serve.py, `framework_app`): the least any FastAPI
  route costs on this server, Causerie's own work aside;
- `renewal`: `POST /api/widget/v1/websites/{id}/session` with a valid token and the page the
  session already has: a pure renewal, which writes nothing (at most once a minute it refreshes
  the last access);
- `creation`: the same without a token: a temporary session is created on each load.

The runs begin once Causerie's start is over (`Server.settle`): its static files compressed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from bench.config import BenchConfig, progress
from bench.loads import ChatboxLoad, LoadResult, Wrk
from bench.servers import Server, install_causerie

CASES = ("bare", "framework", "renewal", "creation")


@dataclass
class CaseRuns:
    name: str
    runs: list[LoadResult] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        if attribute == "rps":
            return statistics.median(r.rps for r in self.runs)
        return statistics.median(float(getattr(r, attribute)) for r in self.runs)

    @property
    def failures(self) -> int:
        return sum(r.socket_errors + r.bad_status for r in self.runs)


@dataclass(frozen=True)
class ChatboxResult:
    cases: dict[str, CaseRuns]

    def ratio(self, name: str) -> float:
        return self.cases[name].median("rps") / self.cases["bare"].median("rps")


def run_chatbox(cfg: BenchConfig) -> ChatboxResult:
    site = install_causerie(cfg.workdir, "chatbox", cfg.databases)
    with (
        Server("bare", cfg.log("chatbox-bare")) as bare,
        Server("framework", cfg.log("chatbox-framework")) as framework,
        Server("causerie", cfg.log("chatbox-causerie"), site.env()) as causerie,
    ):
        first = causerie.open_session(site.website_id)
        token = first["token"]
        renewed = causerie.open_session(site.website_id, token)
        if renewed["token"] != token:
            raise RuntimeError("the renewal did not renew the session it was given")
        loads = {
            "bare": (bare.port, ChatboxLoad(site.website_id, token)),
            "framework": (framework.port, ChatboxLoad(site.website_id, token)),
            "renewal": (causerie.port, ChatboxLoad(site.website_id, token)),
            "creation": (causerie.port, ChatboxLoad(site.website_id)),
        }
        for name, (port, load) in loads.items():
            progress(f"chatbox: warming up {name} ({cfg.warmup:.0f}s)")
            Wrk(port, load, cfg.warmup, cfg.connections).run()
        # Not while Causerie compresses its static files (about a second of CPU, from
        # COMPRESS_DELAY after its start): on the servers' core, that went into the first run's
        # figures, whichever case was loaded then.
        from causerie.app import COMPRESS_DELAY

        causerie.settle(COMPRESS_DELAY)
        cases = {name: CaseRuns(name) for name in CASES}
        for run in range(1, cfg.runs + 1):
            for name, (port, load) in loads.items():
                result = Wrk(port, load, cfg.seconds, cfg.connections).run()
                cases[name].runs.append(result)
                progress(
                    f"chatbox: run {run}/{cfg.runs} {name}: {result.rps:,.0f} req/s, "
                    f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms"
                )
    return ChatboxResult(cases)
