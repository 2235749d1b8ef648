"""The static files' compressed forms made in a child process (web/compressing.py, `warm` in
web/encoded.py): the same bytes as made in the server, a request's own forms kept, the server's
compression when the child cannot run, and the child's memory kept out of the server."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from causerie.web import compressing, encoded
from causerie.web.compressing import _child, compress_in_child, compressed_forms
from causerie.web.encoded import IDENTITY, Encoded
from tests.support import CLI_TIMEOUT

BODIES = [
    b"function chat() { return 'hello'; }\n" * 200,
    "été, « guillemets » et 漢字\n".encode() * 50,
    b"ab",  # no compressed form is smaller
]


def test_the_child_compresses_as_the_server_does() -> None:
    assert compress_in_child(BODIES) == [compressed_forms(body) for body in BODIES]


def test_the_child_reads_lengths_and_bodies_and_writes_each_coding() -> None:
    source = io.BytesIO(b"".join(len(b).to_bytes(8, "big") + b for b in BODIES))
    sink = io.BytesIO()
    _child(source, sink)
    forms = list(compressing._chunks(sink.getvalue()))
    assert forms == [compressed_forms(b)[coding] for b in BODIES for coding in ("br", "gzip")]


def test_a_truncated_answer_is_refused() -> None:
    whole = (5).to_bytes(8, "big") + b"hello"
    assert list(compressing._chunks(whole)) == [b"hello"]
    with pytest.raises(ValueError, match="truncated form"):
        list(compressing._chunks(whole[:-1]))
    with pytest.raises(ValueError, match="truncated length"):
        list(compressing._chunks(whole[:4]))


def test_warm_gives_each_static_file_the_forms_made_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    files = [Encoded(body, "text/javascript") for body in BODIES]
    asked = Encoded(BODIES[0], "text/javascript")
    made_by_a_request = asked.forms
    monkeypatch.setattr(encoded, "_STATIC", [*files, asked])
    encoded.warm()
    for file in files:
        assert file.compressed
        assert file.forms == Encoded(file.body, file.media_type)._compress()
    assert set(files[2].forms) == {IDENTITY}  # kept only when smaller, as before
    assert asked.forms is made_by_a_request  # a request's own forms stay as they were


def test_warm_compresses_in_the_server_when_the_child_cannot_run(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    files = [Encoded(body, "text/css") for body in BODIES[:2]]
    monkeypatch.setattr(encoded, "_STATIC", files)
    monkeypatch.setattr(compressing.sys, "executable", "/nonexistent/python")
    with caplog.at_level(logging.WARNING, logger="causerie"):
        encoded.warm()
    assert "the child could not run" in caplog.text
    for file in files:
        assert file.forms == Encoded(file.body, file.media_type)._compress()


# A fresh process: the app's static files compressed by `warm`, and the memory it kept.
_WARM = """
import json, threading
from causerie.app import create_app
from causerie.web import encoded


def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


before = rss()
thread = threading.Thread(target=encoded.warm)
thread.start()
thread.join()
kept = sum(
    len(form) for file in encoded._STATIC for coding, (form, _) in file.forms.items()
    if coding != "identity"
)
print(json.dumps({"grown": rss() - before, "kept": kept // 1024, "files": len(encoded._STATIC)}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_server_keeps_little_more_than_the_forms_after_warming() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WARM],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=True,
    )
    found = json.loads(done.stdout.splitlines()[-1])
    assert found["files"] > 40
    # About 3,000 KiB more when Brotli ran in the server (glibc keeps its freed heap); about
    # 500 KiB with the child, of which the forms themselves are about 220 KiB.
    assert found["grown"] < found["kept"] + 1200
