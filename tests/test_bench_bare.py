"""The benches' bare server (bench/serve.py) is bare: Starlette on uvicorn with Causerie's server
options, without pydantic or Causerie's settings, which only the servers it is compared with use
(docs/performance.md, "lighter4": it loaded pydantic through a body model of the framework
server and through the WebSocket protocol's key for a dropped message, now web/dropped.py:
9 MiB at rest)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.support import CLI_TIMEOUT

# uvicorn's config loaded as `bench.serve bare` runs it: the app, the protocols, the logging.
_BARE = """
import json, sys
import uvicorn
from bench.serve import LOG_LEVEL, DEFAULT_MAX_BODY, bare_app, ws_options
from causerie.logs import logging_config

config = uvicorn.Config(bare_app(), loop="uvloop", http="httptools",
                        log_config=logging_config(LOG_LEVEL), **ws_options(DEFAULT_MAX_BODY))
config.load()
print(json.dumps(sorted(sys.modules)))
"""


def test_the_bare_server_loads_neither_pydantic_nor_causeries_settings() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _BARE],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=True,
    )
    modules = set(json.loads(done.stdout.splitlines()[-1]))
    assert {"starlette.applications", "uvicorn", "causerie.ws_protocol"} <= modules
    assert {"pydantic", "pydantic_core", "causerie.settings", "causerie.web.frames"}.isdisjoint(
        modules
    )
