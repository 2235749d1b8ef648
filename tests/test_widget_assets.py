"""The chatbox's files: what widget.js loads, how it is cached, how small it is, and the
compaction that makes it so (causerie.web.compact: rjsmin and rcssmin)."""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import brotli
import httpx
import pytest

from causerie.web.assets import BEFORE_OPENING, VERSION
from causerie.web.compact import compact
from causerie.web.encoded import choose, encode
from tests.conftest import ServerThread

BUDGET = 30 * 1024  # everything loaded before the chatbox is opened, uncompressed
# The same, as a browser downloads it: with Brotli (docs/performance.md), with gzip only.
COMPRESSED_BUDGET = {"br": 10 * 1024, "gzip": 12 * 1024}
PACKAGE = Path(str(files("causerie")))
SCRIPTS = sorted(
    [*PACKAGE.glob("widget/*.js"), *PACKAGE.glob("inbox/*.js"), *PACKAGE.glob("client/*.js")]
)


def test_widget_js_names_the_version_it_loads_and_is_cached_briefly(
    server: ServerThread, http: httpx.Client
) -> None:
    response = http.get("/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "public, max-age=300"
    assert "/widget/${version}/${name}" in response.text
    # It imports every module loaded before opening at once (not each after its importer).
    listed = re.search(r"const modules=\[([^\]]*)\]", response.text)
    assert listed is not None, response.text
    scripts = [name for name in BEFORE_OPENING if name.endswith(".js")]
    assert listed.group(1).replace('"', "").split(",") == scripts
    assert f'"{VERSION}"' in response.text


def test_versioned_files_are_immutable_and_importable_from_any_origin(
    server: ServerThread, http: httpx.Client
) -> None:
    for name in (*BEFORE_OPENING, "privacy.js", "privacy.css"):
        kind = "text/css" if name.endswith(".css") else "text/javascript"
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
        len(http.get(f"/widget/{VERSION}/{name}").content) for name in BEFORE_OPENING
    )
    assert total < BUDGET, f"{total} bytes"


def _raw(http: httpx.Client, path: str, coding: str) -> httpx.Response:
    """The response to `path` with its body as sent (not decoded)."""
    with http.stream("GET", path, headers={"accept-encoding": coding}) as response:
        response._content = b"".join(response.iter_raw())
    return response


def test_files_go_compressed_as_accepted_with_vary_and_a_strong_etag_per_form(
    server: ServerThread, http: httpx.Client
) -> None:
    from causerie.web.inbox import VERSION as INBOX_VERSION

    for path in ("/widget.js", f"/widget/{VERSION}/view.js", f"/app/static/{INBOX_VERSION}/app.js"):
        plain = _raw(http, path, "identity")
        assert "content-encoding" not in plain.headers
        tags = {plain.headers["etag"]}
        for coding, decode in (("br", brotli.decompress), ("gzip", gzip.decompress)):
            sent = _raw(http, path, f"{coding}, identity;q=0.5")
            assert sent.headers["content-encoding"] == coding, path
            assert sent.headers["vary"] == "Accept-Encoding"
            assert decode(sent.content) == plain.content
            assert len(sent.content) < len(plain.content)
            tags.add(sent.headers["etag"])
            # The browser's cached copy is still good: 304, no body, the same validators.
            again = http.get(
                path, headers={"accept-encoding": coding, "if-none-match": sent.headers["etag"]}
            )
            assert again.status_code == 304 and again.content == b""
            assert again.headers["etag"] == sent.headers["etag"]
            assert again.headers["cache-control"] == sent.headers["cache-control"]
        # Strong (no W/), and one per form: each names one exact sequence of bytes.
        assert len(tags) == 3 and not any(tag.startswith("W/") for tag in tags)
        changed = http.get(path, headers={"if-none-match": '"0123"'})
        assert changed.status_code == 200


def test_the_closed_chatbox_downloads_under_10_kib_with_brotli_12_with_gzip(
    server: ServerThread, http: httpx.Client
) -> None:
    paths = ["/widget.js", *(f"/widget/{VERSION}/{name}" for name in BEFORE_OPENING)]
    sizes = {
        coding: sum(len(_raw(http, p, coding).content) for p in paths) for coding in ("br", "gzip")
    }
    assert all(sizes[coding] < COMPRESSED_BUDGET[coding] for coding in sizes), sizes


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip, deflate", "gzip"),
        ("gzip, deflate, br, zstd", "br"),
        ("br;q=0.5, gzip", "gzip"),
        ("BR", "br"),
        ("*", "br"),
        ("*, br;q=0", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("gzip;q=bad", "identity"),
        ("identity", "identity"),
    ],
)
def test_the_coding_chosen_from_accept_encoding(header: str | None, expected: str) -> None:
    assert choose(header, encode(b"x" * 500, "text/plain").forms) == expected


def test_a_compressed_form_is_kept_only_when_smaller() -> None:
    assert set(encode(b"ab", "text/plain").forms) == {"identity"}


def test_the_shared_socket_module_is_served_to_both_the_chatbox_and_the_inbox(
    server: ServerThread, http: httpx.Client
) -> None:
    from causerie.web.inbox import VERSION as INBOX_VERSION

    widget = http.get(f"/widget/{VERSION}/socket.js")
    inbox = http.get(f"/app/static/{INBOX_VERSION}/socket.js")
    assert widget.status_code == inbox.status_code == 200
    assert widget.content == inbox.content
    assert b"export class Socket" in widget.content
    assert "immutable" in inbox.headers["cache-control"]


TYPESCRIPT = Path(__file__).parent.parent / ".tools" / "node_modules" / "typescript"


def _node() -> str:
    """Node, and the TypeScript scripts/check installs (skipped without them, but not under CI)."""
    node = shutil.which("node")
    if node is None or not TYPESCRIPT.is_dir():
        reason = "node and .tools/node_modules/typescript (./scripts/check installs it) are needed"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return node


def _shapes(*sources: str) -> list[dict[str, Any]]:
    """Each program's parse errors and syntax tree, flattened (tests/js_shape.cjs)."""
    script = Path(__file__).parent / "js_shape.cjs"
    done = subprocess.run(
        [_node(), str(script)], input=json.dumps(sources), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    shapes: list[dict[str, Any]] = json.loads(done.stdout)
    return shapes


@pytest.fixture(scope="module")
def script_shapes() -> dict[Path, tuple[dict[str, Any], dict[str, Any]]]:
    """Every script's shape before and after compacting, from one run of tests/js_shape.cjs:
    loading TypeScript is most of a run's cost (all scripts at once, 7.7 s at load 18, against
    2.2 s for each script's own run)."""
    sources = [path.read_text("utf-8") for path in SCRIPTS]
    shapes = _shapes(*[text for source in sources for text in (source, compact(source))])
    return {path: (shapes[2 * at], shapes[2 * at + 1]) for at, path in enumerate(SCRIPTS)}


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_compacting_keeps_the_program_and_the_result_parses(
    path: Path, script_shapes: dict[Path, tuple[dict[str, Any], dict[str, Any]]]
) -> None:
    source = path.read_text("utf-8")
    compacted = compact(source)
    if not path.name.startswith("strings-"):  # a catalogue is its texts: little to take away
        assert len(compacted) < 0.85 * len(source)
    checked = subprocess.run(
        [_node(), "--input-type=module", "--check"], input=compacted, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    before, after = script_shapes[path]
    assert before["errors"] == after["errors"] == []
    # The same syntax tree, literals' text included (a nested template literal would differ).
    pairs = zip(before["shape"], after["shape"], strict=False)
    at = next((i for i, (a, b) in enumerate(pairs) if a != b), len(before["shape"]))
    near = slice(max(0, at - 8), at + 3)
    assert after["shape"] == before["shape"], f"{before['shape'][near]} != {after['shape'][near]}"


def test_the_syntax_tree_check_sees_what_rjsmin_gets_wrong() -> None:
    # rjsmin compacts a template literal nested in another's `${...}` as code (rjsmin issue
    # #22): the modules must not nest them, and the check above is what would say so.
    nested = 'label = `${name}${unread ? `, ${unread} unread` : ""}`;'
    assert compact(nested) == 'label=`${name}${unread ? `,${unread}unread` : ""}`;'
    before, after = _shapes(nested, compact(nested))
    assert after["shape"] != before["shape"]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("const a = b + +c;", "const a=b+ +c;"),
        ("x = y - -1;", "x=y- -1;"),
        ("return\nvalue;", "return\nvalue;"),  # a line break after return ends the statement
        ("a = b\n(c)", "a=b\n(c)"),
        ("f(a,\n  b);", "f(a,b);"),
        ("if (x) {\n  y();\n}\n", "if(x){y();}"),
        ('s = "a  b // c /* d */";', 's="a  b // c /* d */";'),
        ("t = `a  ${f({ b: 1 })}  c`;", "t=`a  ${f({ b: 1 })}  c`;"),
        ("t = `a\n  ${b}  // c`;\nd = 1", "t=`a\n  ${b}  // c`;d=1"),
        ("r = /[\"'`/]  x/g.test(s);", "r=/[\"'`/]  x/g.test(s);"),
        ("n = a / b / c;", "n=a/b/c;"),
        ("x = a // note\n+ b;", "x=a\n+b;"),
        ("/** @type {T} */ (x).y = 0.75;", "(x).y=0.75;"),
        ("a = typeof  /x/;", "a=typeof/x/;"),
        ("x = a++ + +b - --c", "x=a++ + +b- --c"),
        ("let x = a\n[1, 2].forEach(f)", "let x=a\n[1,2].forEach(f)"),
    ],
)
def test_compact_js_on_the_hard_cases(source: str, expected: str) -> None:
    assert compact(source) == expected


def test_compacting_css_keeps_strings_and_selectors_apart() -> None:
    css = '.a,\n.b {\n  color: red;\n  /* note */\n}\n.c\n.d { content: "x:  y"; }\n'
    assert compact(css, css=True) == '.a,.b{color:red}.c .d{content:"x:  y"}'
    assert compact(".a > .b + .c { margin: 0 calc(1px + 2%); }", css=True) == (
        ".a>.b + .c{margin:0 calc(1px + 2%)}"
    )
