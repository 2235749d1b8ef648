"""What the settings cost at start: `python -m bench.settings_cost [--runs N] [--src DIR]`.

Each run is a fresh process that imports what `causerie serve` imports anyway (`causerie.app`,
with FastAPI and pydantic), drops the settings' own modules, then times in CPU (process_time)
importing `causerie.settings` again and one `load_settings` on an empty data folder; and, in
another fresh process, importing `causerie.cli` (what every command pays), then `causerie.app`
(what serve pays on top).
`--src DIR` measures another checkout's `src` (e.g. `git archive` of an older commit) the same way.
Prints the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

_SETTINGS = """
import sys, tempfile, time
import causerie.app
for name in [m for m in sys.modules if m.startswith(("causerie.settings", "pydantic_settings"))]:
    del sys.modules[name]
folder = tempfile.mkdtemp()
start = time.process_time()
import causerie.settings
imported = time.process_time()
causerie.settings.load_settings(environ={"CAUSERIE_DATA_DIR": folder})
print(imported - start, time.process_time() - imported)
"""
_CLI = """
import time
start = time.process_time()
import causerie.cli
cli = time.process_time()
import causerie.app
print(cli - start, time.process_time() - start)
"""


def _run(code: str, src: str | None) -> list[float]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, check=True, capture_output=True, text=True
    )
    return [float(part) for part in out.stdout.split()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--src", help="a checkout's src folder to measure instead")
    args = parser.parse_args()
    imports, loads, clis, serves = [], [], [], []
    for _ in range(args.runs):
        imported, loaded = _run(_SETTINGS, args.src)
        imports.append(imported)
        loads.append(loaded)
        cli, serve = _run(_CLI, args.src)
        clis.append(cli)
        serves.append(serve)
    pairs = (("i", imports), ("l", loads), ("c", clis), ("s", serves))
    ms = {k: 1000 * statistics.median(v) for k, v in pairs}
    print(
        f"import causerie.settings after the app: {ms['i']:.1f} ms CPU, "
        f"load_settings: {ms['l']:.1f} ms, import causerie.cli: {ms['c']:.0f} ms, "
        f"with causerie.app: {ms['s']:.0f} ms "
        f"(medians of {args.runs})"
    )


if __name__ == "__main__":
    main()
