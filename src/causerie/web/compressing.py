"""The static files' compressed forms, made in a child process (`web/encoded.py`, `warm`).

Brotli at quality 11 allocates and frees a few MiB for each file; glibc keeps most of that freed
heap in the server for good (about 3 MiB for Causerie's 52 files, against 0.2 MiB of compressed
forms kept). A child process, which imports only Brotli and zlib, compresses them instead and
exits; its memory goes with it. It runs this module (`python -c`, `_child`): the bodies come on
its standard input, the forms go out on its standard output, each a length and its bytes, both
temporary files.
"""

from __future__ import annotations

import gzip
import os
import struct
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import brotli

CODINGS = ("br", "gzip")
CHILD_TIMEOUT = 120.0  # seconds; about a second of CPU on a quiet machine
_LENGTH = struct.Struct(">Q")
_CHILD = "from causerie.web.compressing import _child; _child()"


def compressed_forms(body: bytes) -> dict[str, bytes]:
    """`body` compressed in each coding Causerie serves, by coding."""
    return {
        "br": brotli.compress(body, mode=brotli.MODE_TEXT, quality=11),
        "gzip": gzip.compress(body, compresslevel=9, mtime=0),
    }


def compress_in_child(bodies: list[bytes]) -> list[dict[str, bytes]]:
    """`compressed_forms` of each of `bodies`, computed in a child process. `OSError` or
    `subprocess.SubprocessError` when it cannot run or fails, `ValueError` when its answer is
    not as many forms as asked."""
    package_root = str(Path(__file__).resolve().parents[2])  # where `causerie` is importable
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    # Through files, not pipes: no copy of each body to send, no chunks of 32 KiB to join, so
    # less of the server's heap is left over (about 1,000 KiB through pipes, 500 through files).
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as sink:
        for body in bodies:
            source.write(_LENGTH.pack(len(body)))
            source.write(body)
        source.seek(0)
        subprocess.run(  # noqa: S603 (this interpreter, this module's own code)
            [sys.executable, "-c", _CHILD],
            stdin=source,
            stdout=sink,
            stderr=subprocess.DEVNULL,
            timeout=CHILD_TIMEOUT,
            env={**os.environ, "PYTHONPATH": path},
            check=True,
        )
        sink.seek(0)
        answer = sink.read()
    chunks = list(_chunks(answer))
    if len(chunks) != len(CODINGS) * len(bodies):
        raise ValueError(f"{len(chunks)} forms for {len(bodies)} files")
    return [
        dict(zip(CODINGS, chunks[i : i + len(CODINGS)], strict=True))
        for i in range(0, len(chunks), len(CODINGS))
    ]


def _chunks(data: bytes) -> Iterator[bytes]:
    at = 0
    while at < len(data):
        if at + _LENGTH.size > len(data):
            raise ValueError("a truncated length")
        (size,) = _LENGTH.unpack_from(data, at)
        at += _LENGTH.size
        if at + size > len(data):
            raise ValueError("a truncated form")
        yield data[at : at + size]
        at += size


def _child(source: BinaryIO | None = None, sink: BinaryIO | None = None) -> None:
    """The child's work: each body from `source`, its forms in `CODINGS`' order to `sink`."""
    source = source or sys.stdin.buffer
    sink = sink or sys.stdout.buffer
    for body in _chunks(source.read()):
        forms = compressed_forms(body)
        for coding in CODINGS:
            sink.write(_LENGTH.pack(len(forms[coding])) + forms[coding])
    sink.flush()
