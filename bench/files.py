"""Files in the chat: upload and download speed, and the server's memory during uploads.

    python -m bench.files                    # about a minute on 2 cores
    python -m bench.files --uploads 20 --size-mb 10

Starts `causerie serve` (SQLite, data-folder file store) in a subprocess on a fresh data folder,
with a website that takes any type (`file_types: any`), then measures:

- uploads of 1 MB and of 10 MB (random bytes, so no image work), one after the other: the
  median time and rate of each size;
- the server's peak resident memory while `--uploads` uploads of `--size-mb` MB run at once,
  each from its own visitor, against its resident memory before (target: under +50 MB: a file
  is spooled to disk past 1 MiB and stored in 256 KiB chunks, never held whole);
- downloads of the same 10 MB file: Causerie's `GET /api/widget/v1/session/files/ID` (the
  session checked, the bytes streamed from the store) against Starlette's `FileResponse` of the
  same stored file served by a bare uvicorn, and the ratio.

Not part of the test suite; results go in docs/performance.md ("Files").
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
ORIGIN = "https://shop.example"
MB = 1_000_000


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Process:
    def __init__(self, command: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/api/health", timeout=1)
                return
            except httpx.TransportError:
                assert self.process.poll() is None, f"server exited; see {log}"
                time.sleep(0.1)
        raise RuntimeError(f"server did not start; see {log}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "causerie", *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        stdin=subprocess.DEVNULL,
    )
    return done.stdout


def visitor(url: str, website_id: str) -> dict[str, str]:
    opened = httpx.post(
        f"{url}/api/widget/v1/websites/{website_id}/session",
        json={"page": {"url": f"{ORIGIN}/"}},
        headers={"Origin": ORIGIN},
        timeout=10,
    )
    opened.raise_for_status()
    return {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}


def upload(url: str, headers: dict[str, str], data: bytes) -> dict[str, str]:
    answer = httpx.post(
        f"{url}/api/widget/v1/session/files",
        headers=headers,
        files={"file": ("data.bin", data, "application/octet-stream")},
        timeout=120,
    )
    assert answer.status_code == 201, answer.text
    file: dict[str, str] = answer.json()["message"]["file"]
    return file


def timed(work: Callable[[], object], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return times


def download(url: str, headers: dict[str, str]) -> int:
    total = 0
    with httpx.stream("GET", url, headers=headers, timeout=60) as answer:
        assert answer.status_code == 200, answer.status_code
        for chunk in answer.iter_raw():
            total += len(chunk)
    return total


FILE_SERVER = """
import sys, uvicorn
from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Route
path = sys.argv[1]
async def one(request):
    return FileResponse(path, media_type="application/octet-stream")
async def health(request):
    return PlainTextResponse("ok")
app = Starlette(routes=[Route("/file", one), Route("/api/health", health)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning",
            loop="uvloop", http="httptools", access_log=False)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--uploads", type=int, default=20, help="uploads at once (memory)")
    parser.add_argument("--size-mb", type=int, default=10, help="size of each, in MB")
    parser.add_argument("--runs", type=int, default=10, help="sequential uploads per size")
    parser.add_argument("--downloads", type=int, default=20, help="downloads per server")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="causerie-bench-files-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAUSERIE_")},
        "CAUSERIE_DATA_DIR": str(work / "data"),
        "CAUSERIE_FRAME_RATE": "100000/s",
        "CAUSERIE_NEW_SESSION_RATE": "100000/m",
        "CAUSERIE_ACCESS_LOG": "false",
        "CAUSERIE_LOG_LEVEL": "warning",
    }
    output = cli(env, "website", "add", "Bench", "--origin", ORIGIN)
    found = re.search(r"^website id: (\S+)$", output, re.MULTILINE)
    assert found, output
    website_id = found.group(1)
    email = f"bench-{secrets.token_hex(3)}@shop.example"
    cli(env, "operator", "add", email, "--website", website_id, "--role", "owner")
    token = cli(env, "token", "add", email, "--name", "bench").strip()

    port = free_port()
    server = Process(
        [sys.executable, "-m", "causerie", "serve", "--port", str(port)],
        env,
        work / "server.log",
        port,
    )
    try:
        patched = httpx.patch(
            f"{server.url}/api/v1/websites/{website_id}",
            json={"settings": {"file_types": "any"}},
            headers={"Authorization": f"Bearer {token}"},
        )
        patched.raise_for_status()
        one = visitor(server.url, website_id)
        print(f"causerie {server.url}, work folder {work}")

        for size in (1, 10):
            data = os.urandom(size * MB)
            times = timed(lambda data=data: upload(server.url, one, data), args.runs)  # type: ignore[misc]
            median = statistics.median(times)
            print(
                f"upload {size:>2} MB: median {median * 1000:7.1f} ms "
                f"({size / median:6.1f} MB/s), {args.runs} runs"
            )

        # memory during concurrent uploads
        data = os.urandom(args.size_mb * MB)
        heads = [visitor(server.url, website_id) for _ in range(args.uploads)]
        upload(server.url, heads[0], data)  # warm: the spool, the store, the threads
        before = rss_kib(server.process.pid)
        peak = before
        running = True

        def sample() -> None:
            nonlocal peak
            while running:
                peak = max(peak, rss_kib(server.process.pid))
                time.sleep(0.005)

        sampler = threading.Thread(target=sample)
        sampler.start()
        start = time.perf_counter()
        threads = [threading.Thread(target=upload, args=(server.url, h, data)) for h in heads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        running = False
        sampler.join()
        print(
            f"{args.uploads} uploads of {args.size_mb} MB at once: {elapsed:.1f} s; server RSS "
            f"{before / 1024:.1f} MiB before, peak {peak / 1024:.1f} MiB "
            f"(+{(peak - before) / 1024:.1f} MiB; target under +50 MB)"
        )

        # downloads against Starlette's FileResponse of the same stored file
        file = upload(server.url, one, data)
        url = f"{server.url}{file['url']}"
        # every upload of `data` stored the same bytes: any file of its size is this one's twin
        folder = work / "data" / "files"
        stored = next(p for p in folder.iterdir() if p.is_file() and p.stat().st_size == len(data))
        bare_port = free_port()
        bare = Process(
            [sys.executable, "-c", FILE_SERVER, str(stored), str(bare_port)],
            env,
            work / "bare.log",
            bare_port,
        )
        try:
            rates = {}
            for name, target, headers in (
                ("causerie", url, one),
                ("FileResponse", f"{bare.url}/file", {}),
            ):
                download(target, headers)  # warm
                times = timed(lambda t=target, h=headers: download(t, h), args.downloads)  # type: ignore[misc]
                rates[name] = args.size_mb / statistics.median(times)
                print(f"download {args.size_mb} MB, {name:>12}: {rates[name]:7.1f} MB/s (median)")
            print(f"causerie / FileResponse: {rates['causerie'] / rates['FileResponse']:.2f}")
        finally:
            bare.stop()
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
