"""Languages (docs/inbox.md, "Languages"): the operator's `language` on /api/v1/me, the catalogue
(every key in every language, with the same placeholders, each key used and each used key there),
and no English text left in the inbox's or the chatbox's modules outside the catalogue."""

from __future__ import annotations

import functools
import json
import re
import subprocess
from importlib.resources import files
from pathlib import Path
from typing import Any

import httpx
import pytest

from causerie.domain.languages import LANGUAGES
from tests.conftest import Site
from tests.test_widget_assets import _node

PACKAGE = Path(str(files("causerie")))
CLIENT = PACKAGE / "client"
CATALOGUES = sorted(CLIENT.glob("strings-*.js"))
# The inbox's catalogue, strings-inbox.js, gathers these parts of it.
INBOX_PARTS = tuple(
    f"strings-inbox-{part}.js"
    for part in ("frame", "conversations", "settings", "privacy", "reports")
)
INBOX_MODULES = sorted(PACKAGE.glob("inbox/*.js"))
WIDGET_MODULES = sorted(PACKAGE.glob("widget/*.js"))
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# A catalogue key as a module names it: "thread.send", "reports.days" (its forms: .one, .other).
KEY = re.compile(r"[a-z]+(?:\.[A-Za-z0-9_]+)+")


# -- the preference on /api/v1/me --------------------------------------------------------------


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the store's part is plain
def test_the_language_is_a_preference_on_me(site: Site, http: httpx.Client) -> None:
    auth = {"Authorization": f"Bearer {site.tokens['agent']}"}
    assert http.get("/api/v1/me", headers=auth).json()["language"] is None  # the browser's
    changed = http.patch("/api/v1/me", headers=auth, json={"language": "fr"})
    assert changed.status_code == 200, changed.text
    assert changed.json()["language"] == "fr"
    assert http.get("/api/v1/me", headers=auth).json()["language"] == "fr"
    # Other changes leave it as it is.
    renamed = http.patch("/api/v1/me", headers=auth, json={"name": "Agent Smith"})
    assert renamed.status_code == 200 and renamed.json()["language"] == "fr"
    # Refused, naming it; nothing changes, not even the name sent along.
    for bad in ("de", "FR", "", 5, ["fr"], "fr-FR-x-very-long"):
        refused = http.patch("/api/v1/me", headers=auth, json={"name": "Changed", "language": bad})
        assert refused.status_code == 422, (bad, refused.text)
        assert "language" in refused.json()["error"]["message"], refused.text
    me = http.get("/api/v1/me", headers=auth).json()
    assert me["language"] == "fr" and me["operator"]["name"] == "Agent Smith"
    # null: back to the browser's language.
    cleared = http.patch("/api/v1/me", headers=auth, json={"language": None})
    assert cleared.status_code == 200 and cleared.json()["language"] is None
    assert http.get("/api/v1/me", headers=auth).json()["language"] is None
    # Each operator has their own.
    other = {"Authorization": f"Bearer {site.tokens['owner']}"}
    http.patch("/api/v1/me", headers=other, json={"language": "en"})
    assert http.get("/api/v1/me", headers=auth).json()["language"] is None


# -- the catalogue -----------------------------------------------------------------------------


def _catalogues() -> dict[str, dict[str, Any]]:
    """Each catalogue module's exports (language -> texts) and i18n.js's LANGUAGES, as Node
    imports them."""
    script = (
        "const out = {};"
        "for (const path of JSON.parse(process.argv[1])) out[path] = { ...(await import(path)) };"
        "process.stdout.write(JSON.stringify(out));"
    )
    paths = [p.as_uri() for p in [*CATALOGUES, CLIENT / "i18n.js"]]
    done = subprocess.run(
        [_node(), "--input-type=module", "-e", script, json.dumps(paths)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, dict[str, Any]] = json.loads(done.stdout)
    return {Path(path[len("file://") :]).name: exports for path, exports in loaded.items()}


def _flat(texts: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """`{"privacy": {"menu": ...}}` as `{"privacy.menu": ...}`."""
    out: dict[str, str] = {}
    for key, value in texts.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def test_every_text_is_in_every_language_with_the_same_placeholders() -> None:
    loaded = _catalogues()
    assert loaded["i18n.js"]["LANGUAGES"] == list(LANGUAGES)
    assert {path.name for path in CATALOGUES} == {
        "strings-chatbox.js",
        "strings-chatbox-extras.js",
        "strings-inbox.js",
        *INBOX_PARTS,
    }
    for path in CATALOGUES:
        exports = loaded[path.name]
        assert sorted(exports) == sorted(LANGUAGES), path.name
        english = _flat(exports["en"])
        assert len(english) >= (600 if path.name == "strings-inbox.js" else 20), path.name
        for language in LANGUAGES:
            texts = _flat(exports[language])
            assert sorted(texts) == sorted(english), (path.name, language)
            for key, text in texts.items():
                assert isinstance(text, str) and text.strip(), (path.name, language, key)
                placeholders = sorted(PLACEHOLDER.findall(text))
                assert placeholders == sorted(PLACEHOLDER.findall(english[key])), (language, key)
        # The translation is one: most French texts differ from the English ones.
        french = _flat(exports["fr"])
        same = [k for k in english if french[k] == english[k]]
        assert len(same) < 0.15 * len(english), same


def test_the_inbox_catalogue_gathers_its_parts_each_key_from_one_part() -> None:
    """strings-inbox.js is its parts (one per part of the inbox, each under 600 lines), merged:
    no key in two parts (the later would hide the earlier), none added or lost on the way."""
    loaded = _catalogues()
    for language in LANGUAGES:
        parts = [_flat(loaded[name][language]) for name in INBOX_PARTS]
        keys = [key for part in parts for key in part]
        assert len(keys) == len(set(keys)), language
        gathered = _flat(loaded["strings-inbox.js"][language])
        assert gathered == {key: text for part in parts for key, text in part.items()}, language
    for name in INBOX_PARTS:
        assert len((CLIENT / name).read_text("utf-8").splitlines()) < 600, name


def test_every_key_the_inbox_names_is_in_the_catalogue_and_every_key_is_used() -> None:
    inbox = _flat(_catalogues()["strings-inbox.js"]["en"])
    forms = {key.rsplit(".", 1)[0] for key in inbox if key.endswith((".one", ".other"))}
    called: set[str] = set()  # t("key"), tn("key", count)
    literals: set[str] = set()  # keys kept in tables, translated where they are shown
    for path in INBOX_MODULES:
        source = path.read_text("utf-8")
        called |= set(re.findall(r'\btn?\("([^"\n]*)"', source))
        literals |= {s for s in re.findall(r'"([^"\n]*)"', source) if KEY.fullmatch(s)}
    assert len(called) > 600
    missing = sorted(k for k in called if k not in inbox and k not in forms)
    assert missing == [], missing
    named = called | literals
    unused = sorted(k for k in inbox if k not in named and k.rsplit(".", 1)[0] not in named)
    assert unused == [], unused


# -- no English outside the catalogue ------------------------------------------------------------

# What a module writes that looks like words but is no text for a person (header names, the kind
# of data a drag carries, an error for the console), and the product's name.
NOT_TEXT = {
    "Authorization",
    "Bearer ${}",
    "Files",
    "session: HTTP ${}",
    "HTTP ${}",
    "Causerie",
    "${} ms",  # a latency: the unit's symbol reads the same in every language
}


def _english(text: str) -> bool:
    """Whether a literal reads as English words: a capitalised word, or two words with a space
    or punctuation between them. Class lists, keys ("thread.send"), event names ("chat:opened"),
    header names (Retry-After) and paths are not."""
    words = text.replace("${}", " ").strip()
    if not words or text in NOT_TEXT:
        return False
    # A word beside a template's value: ` · on ${where}`, `${count} results`, `/${x} was deleted.`
    if re.search(r"[A-Za-z]{2,} \$\{\}|\$\{\} [A-Za-z]{2,}", text):
        return True
    if words.startswith(("/", "#", ".", "[", "(")):
        return False
    if re.fullmatch(r"([a-z-]+:[^;:]+;)+", words):  # CSS declarations: an element's own style
        return False
    if KEY.fullmatch(words) or re.fullmatch(r"[\w-]+\.(js|json|css|md|csv)", words):
        return False
    if re.fullmatch(r"[a-z0-9_-]+( [a-z0-9_-]+)*", words) or re.fullmatch(
        r"[a-z]+(:[a-z]+)+", words
    ):
        return False
    if re.fullmatch(r"[A-Z][a-z]+(-[A-Z][a-z]+)+", words):  # Retry-After
        return False
    if re.match(r"[A-Z][a-z]+", words):
        return True
    return bool(re.search(r"[A-Za-z]{2,}[ ,.:;!?…'\u2019]+[A-Za-z]{2,}", words))


def _literals(*sources: str) -> list[list[dict[str, Any]]]:
    """Each source's string and template literals that could be shown (tests/js_strings.cjs)."""
    script = Path(__file__).parent / "js_strings.cjs"
    done = subprocess.run(
        [_node(), str(script)], input=json.dumps(sources), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    found: list[list[dict[str, Any]]] = json.loads(done.stdout)
    return found


def test_the_scan_sees_english_and_nothing_else() -> None:
    sample = """
        import { t } from "./locale.js";
        el("p", { class: "muted small", text: "No conversation yet" });
        toast(`The label ${name} was deleted.`);
        el("span", { text: ` · on ${where}` });
        toast(`/${shortcut} was deleted.`);
        el("p", { class: `toast ${kind}`, text: `${n} results` });
        el("span", { text: "their consent records." });
        const x = { kind: t("thread.send"), "aria-label": t("list.search") };
        if (event.key === "Enter") document.querySelector("main .log");
        console.error("Causerie: a handler failed", error);
        sdk.emit("chat:opened");
        host.style.cssText = "display:block;z-index:2147483000;width:0;";
    """
    (found,) = _literals(sample)
    assert [item["text"] for item in found if _english(item["text"])] == [
        "No conversation yet",
        "The label ${} was deleted.",
        " · on ${}",
        "/${} was deleted.",
        "${} results",
        "their consent records.",
    ]


@functools.cache
def _modules_literals() -> dict[Path, list[dict[str, Any]]]:
    """Every module's literals, parsed in one run of Node."""
    paths = [*INBOX_MODULES, *WIDGET_MODULES]
    return dict(zip(paths, _literals(*(p.read_text("utf-8") for p in paths)), strict=True))


@pytest.mark.parametrize(
    "path", [*INBOX_MODULES, *WIDGET_MODULES], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_no_module_holds_an_english_text_outside_the_catalogue(path: Path) -> None:
    assert sum(map(len, _modules_literals().values())) > 2000  # the scan saw the modules' literals
    found = _modules_literals()[path]
    english = [item["text"] for item in found if _english(item["text"])]
    assert english == [], english
