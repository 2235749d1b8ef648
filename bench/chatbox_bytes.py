"""What the closed chatbox costs a host page at a commit: `.venv/bin/python -m bench.chatbox_bytes
COMMIT...` prints, for each commit, the bytes of widget.js and of every module it loads before
the chatbox is opened (BEFORE_OPENING at that commit), compacted as the server serves them:
plain, with gzip -9 and with Brotli 11 (docs/performance.md, "What a host page downloads")."""

from __future__ import annotations

import ast
import gzip
import json
import subprocess
import sys

import brotli

from causerie.web.compact import compact


def _show(commit: str, path: str) -> str:
    done = subprocess.run(
        ["git", "show", f"{commit}:{path}"], capture_output=True, text=True, check=True
    )
    return done.stdout


def bodies(commit: str) -> dict[str, bytes]:
    """Each file loaded before opening, as served at `commit` (widget.js with a typical config)."""
    assets = _show(commit, "src/causerie/web/assets.py")
    start = assets.index("BEFORE_OPENING = ")
    names = ast.literal_eval(
        assets[start + len("BEFORE_OPENING = ") : assets.index(")", start) + 1]
    )
    loader = compact(
        _show(commit, "src/causerie/widget/loader.js").replace("__VERSION__", "0" * 12)
    )
    config = json.dumps({"sessionStart": "first_message", "temporaryTtl": 1800})
    found = {"widget.js": loader.replace('"__CONFIG__"', config).encode()}
    for name in names:
        folder = "client" if name == "socket.js" or name.startswith("strings-") else "widget"
        source = _show(commit, f"src/causerie/{folder}/{name}")
        found[name] = compact(source, name.endswith(".css")).encode()
    return found


def main(commits: list[str]) -> None:
    for commit in commits:
        files = bodies(commit)
        plain = sum(map(len, files.values()))
        gz = sum(len(gzip.compress(body, 9)) for body in files.values())
        br = {name: len(brotli.compress(body, quality=11)) for name, body in files.items()}
        print(f"{commit}: {len(files)} files, plain {plain}, gzip {gz}, brotli {sum(br.values())}")
        print("  brotli by file:", br)


if __name__ == "__main__":
    main(sys.argv[1:] or ["HEAD"])
