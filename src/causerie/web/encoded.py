"""The package's files as they go on the wire: compressed once, when built, in gzip and in
Brotli, each form with a strong ETag; each request gets the smallest form its `Accept-Encoding`
allows, with `Vary: Accept-Encoding`, or 304 when its `If-None-Match` names the form it would get
(docs/performance.md, "What a host page downloads").

A compressed form is kept only when it is smaller than the file itself. The ETags hash the file
served uncompressed; the compressed forms add a suffix, since a strong validator names one exact
sequence of bytes (RFC 9110, 8.8.3).
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import threading

from starlette.requests import Request
from starlette.responses import Response

from causerie.web.compressing import compress_in_child, compressed_forms

log = logging.getLogger("causerie")

IDENTITY = "identity"
# Preferred first, when the client accepts several equally: the smallest first.
_CODINGS = ("br", "gzip")


class Encoded:
    """One file: its media type and its forms, by content coding: (bytes, ETag).

    The compressed forms are made the first time they are asked for, or ahead of any request
    by `warm` (in a child process, from a worker thread) a few seconds after start (`app.py`):
    compressing every file costs most of a second, which a server's start no longer waits for
    (docs/performance.md)."""

    __slots__ = ("_digest", "_forms", "_lock", "body", "media_type")

    def __init__(self, body: bytes, media_type: str) -> None:
        self.body = body  # the file itself, uncompressed
        self.media_type = media_type
        self._digest = hashlib.sha256(body).hexdigest()[:20]
        self._forms: dict[str, tuple[bytes, str]] | None = None
        self._lock = threading.Lock()

    @property
    def forms(self) -> dict[str, tuple[bytes, str]]:
        forms = self._forms
        if forms is None:
            with self._lock:  # one compression, even when two threads ask at once
                if self._forms is None:
                    self._forms = self._compress()
                forms = self._forms
        return forms

    @property
    def compressed(self) -> bool:
        """Whether the forms are made already."""
        return self._forms is not None

    def _compress(self) -> dict[str, tuple[bytes, str]]:
        return self._kept(compressed_forms(self.body))

    def _kept(self, compressed: dict[str, bytes]) -> dict[str, tuple[bytes, str]]:
        """The forms to serve: the file itself and each compressed form smaller than it."""
        body, digest = self.body, self._digest
        forms = {IDENTITY: (body, f'"{digest}"')}
        for coding, data in compressed.items():
            if len(data) < len(body):
                forms[coding] = (data, f'"{digest}-{coding}"')
        return forms

    def adopt(self, compressed: dict[str, bytes]) -> None:
        """Forms compressed elsewhere (`warm`), unless a request made them meanwhile."""
        with self._lock:
            if self._forms is None:
                self._forms = self._kept(compressed)


# Every file encoded when its module was imported: what `warm` compresses.
_STATIC: list[Encoded] = []


def encode(body: bytes, media_type: str) -> Encoded:
    """`body` and, once asked for, its smaller compressed forms (the slow part: done once)."""
    return Encoded(body, media_type)


def encode_static(body: bytes, media_type: str) -> Encoded:
    """`encode`, for a file of the package served for the whole life of the process."""
    encoded = encode(body, media_type)
    _STATIC.append(encoded)
    return encoded


def warm() -> None:
    """Compress every static file not compressed yet, now (blocking: run it in a worker thread).

    In a child process (`compressing.py`) rather than here: Brotli at quality 11 leaves about
    3 MiB of freed heap in the server that glibc does not give back, for the whole life of the
    process, for 0.2 MiB of compressed forms (docs/performance.md, "lighter4"). The child runs
    the same `compressed_forms` with the same libraries, so the bytes are the same; if it cannot
    run, the files are compressed here as before."""
    pending = [encoded for encoded in list(_STATIC) if not encoded.compressed]
    if not pending:
        return
    try:
        results = compress_in_child([encoded.body for encoded in pending])
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        log.warning("static files compressed in the server (the child could not run: %s)", exc)
        results = [compressed_forms(encoded.body) for encoded in pending]
    for encoded, compressed in zip(pending, results, strict=True):
        encoded.adopt(compressed)


def accepted(header: str) -> dict[str, float]:
    """`Accept-Encoding` as {coding: weight}, codings in lower case (`*` kept as is)."""
    weights: dict[str, float] = {}
    for item in header.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if not coding:
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        weights[coding] = weight
    return weights


def choose(header: str | None, available: dict[str, tuple[bytes, str]]) -> str:
    """The content coding to send: the preferred compressed form the client accepts, else the
    file itself (also when the client refuses it: a 406 would help nobody)."""
    if not header:
        return IDENTITY
    weights = accepted(header)
    best, best_weight = IDENTITY, 0.0
    for coding in _CODINGS:
        weight = weights.get(coding, weights.get("*", 0.0))
        if coding in available and weight > best_weight:
            best, best_weight = coding, weight
    return best


def _matches(if_none_match: str, etag: str) -> bool:
    """`If-None-Match` (weak comparison, as RFC 9110 asks for this header) names `etag`."""
    if if_none_match.strip() == "*":
        return True
    return etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))


def respond(request: Request, encoded: Encoded, headers: dict[str, str]) -> Response:
    """`encoded` in the form `request` accepts, with `headers` (cache, CORS, ...) added."""
    coding = choose(request.headers.get("accept-encoding"), encoded.forms)
    body, etag = encoded.forms[coding]
    sent = {**headers, "ETag": etag, "Vary": "Accept-Encoding"}
    if _matches(request.headers.get("if-none-match", ""), etag):
        return Response(status_code=304, headers=sent)
    if coding != IDENTITY:
        sent["Content-Encoding"] = coding
    return Response(body, media_type=encoded.media_type, headers=sent)
