"""The chatbox's files: what widget.js loads, how it is cached, and how small it is."""

from __future__ import annotations

import re
from importlib.resources import files

import httpx

from causerie.web.assets import VERSION, compact
from tests.conftest import ServerThread

BUDGET = 30 * 1024  # everything loaded before the chatbox is opened, uncompressed


def _without_comments_and_space(source: str) -> str:
    source = re.sub(r"/\*.*?\*/", "", source, flags=re.S)
    source = "\n".join(line for line in source.splitlines() if not line.strip().startswith("//"))
    return re.sub(r"\s+", "", source)


def test_widget_js_names_the_version_it_loads_and_is_cached_briefly(
    server: ServerThread, http: httpx.Client
) -> None:
    response = http.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "/widget/${version}/chatbox.js" in response.text
    assert f'"{VERSION}"' in response.text


def test_versioned_files_are_immutable_and_importable_from_any_origin(
    server: ServerThread, http: httpx.Client
) -> None:
    for name, kind in (("chatbox.js", "text/javascript"), ("chatbox.css", "text/css")):
        response = http.get(f"/widget/{VERSION}/{name}")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(kind)
        assert "immutable" in response.headers["cache-control"]
        assert response.headers["access-control-allow-origin"] == "*"
    stale = http.get("/widget/0000/chatbox.js")
    assert stale.status_code == 200 and stale.headers["cache-control"] == "public, max-age=300"
    assert http.get(f"/widget/{VERSION}/secret.py").status_code == 404


def test_everything_loaded_before_opening_fits_the_budget(
    server: ServerThread, http: httpx.Client
) -> None:
    total = len(http.get("/widget.js").content) + sum(
        len(http.get(f"/widget/{VERSION}/{name}").content) for name in ("chatbox.js", "chatbox.css")
    )
    assert total < BUDGET, f"{total} bytes"


def test_compacting_removes_only_whitespace_and_comments() -> None:
    for name in ("loader.js", "chatbox.js", "chatbox.css"):
        source = (files("causerie") / "widget" / name).read_text("utf-8")
        assert _without_comments_and_space(compact(source)) == _without_comments_and_space(source)
    # No string or template literal may span lines, or compacting would change it.
    script = (files("causerie") / "widget" / "chatbox.js").read_text("utf-8")
    for number, line in enumerate(script.splitlines(), 1):
        code = re.sub(r"/(?:\\.|[^/\n])+/[gimsuy]*", "", line)  # regex literals may hold quotes
        assert code.count("`") % 2 == 0, f"chatbox.js:{number} opens a multi-line template"
