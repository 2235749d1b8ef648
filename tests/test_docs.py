"""The docs cannot drift: every setting, command and promise test they name must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from causerie.cli import main
from causerie.domain.events import EventType
from causerie.plugins import hookspecs
from causerie.settings import Settings
from causerie.settings.declare import Declared, declared
from causerie.web.frames import FRAME_TYPES

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FOUNDATION_PROMISES = ("P13", "P14", "P15", "P16", "P17", "P18", "P20")


def _commands(group: click.Group, prefix: str = "causerie") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def _test_names() -> set[str]:
    names = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names.add(f"tests/{path.name}::{node.name}")
    return names


SETTINGS = declared(Settings)
# A row of the table of docs/settings.md: | `CAUSERIE_NAME` | default | what it does |
SETTING_ROW = re.compile(r"^\| `(CAUSERIE_\w+)` \| (.*?) \| (.*) \|$", re.MULTILINE)
# A setting named anywhere in docs/settings.md (`CAUSERIE_PUSH_*` names a group, not a setting).
SETTING_NAME = re.compile(r"CAUSERIE_[A-Z0-9_]+(?![A-Z0-9_*])")


def _setting_rows() -> dict[str, tuple[str, str]]:
    """{variable: (default, what it does)} from the table of docs/settings.md."""
    text = (DOCS / "settings.md").read_text()
    return {name: (default, doc) for name, default, doc in SETTING_ROW.findall(text)}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.env)
def test_every_setting_is_documented_with_its_default(setting: Declared) -> None:
    rows = _setting_rows()
    assert setting.env in rows, f"{setting.env} has no row in docs/settings.md"
    default, doc = rows[setting.env]
    assert default == ("(unset)" if not setting.default else f"`{setting.default}`")
    assert doc == setting.doc, "the row and the declaration (settings/) must say the same"


def test_the_settings_docs_name_only_settings_that_exist() -> None:
    text = (DOCS / "settings.md").read_text()
    declared_names = [s.env for s in SETTINGS]
    assert list(_setting_rows()) == declared_names, "one row per setting, in declaration order"
    unknown = set(SETTING_NAME.findall(text)) - set(declared_names)
    assert not unknown, f"docs/settings.md names settings that do not exist: {sorted(unknown)}"


@pytest.mark.parametrize("command", _commands(main))
def test_every_command_is_documented(command: str) -> None:
    assert f"`{command}" in (DOCS / "cli.md").read_text()


def _command(path: str) -> click.Command:
    command: click.Command = main
    for name in path.split()[1:]:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    return command


def _options(command: click.Command) -> list[click.Option]:
    return [p for p in command.params if isinstance(p, click.Option) and "--help" not in p.opts]


# A command's synopsis in docs/cli.md's table: | `causerie website add NAME --origin URL ...` |
SYNOPSIS = re.compile(r"^\| `(causerie [^`]*)` \|", re.MULTILINE)


@pytest.mark.parametrize("command", _commands(main))
def test_every_option_is_in_its_commands_synopsis_and_has_a_help_text(command: str) -> None:
    """`causerie X --help` and docs/cli.md name the same options, and --help says what each does
    (`serve --port` showed only its default)."""
    synopses = [
        s
        for s in SYNOPSIS.findall((DOCS / "cli.md").read_text())
        if f"{s} ".startswith(f"{command} ")
    ]
    assert synopses, f"{command} has no row in docs/cli.md"
    for option in _options(_command(command)):
        assert any(name in " ".join(synopses) for name in option.opts), (command, option.opts)
        assert option.help, f"{command} {option.opts[0]} has no help text"


def test_privacy_doc_names_only_tests_that_exist() -> None:
    text = (DOCS / "privacy.md").read_text()
    named = set(re.findall(r"tests/test_\w+\.py::test_\w+", text))
    assert named, "privacy.md names no test"
    assert named <= _test_names(), f"missing: {sorted(named - _test_names())}"


@pytest.mark.parametrize("promise", FOUNDATION_PROMISES)
def test_each_foundation_promise_is_mapped_to_a_test_carrying_its_id(promise: str) -> None:
    text = (DOCS / "privacy.md").read_text()
    row = next((line for line in text.splitlines() if line.startswith(f"| {promise} |")), None)
    assert row is not None, f"{promise} has no row in docs/privacy.md"
    tests = re.findall(r"::(test_\w+)", row)
    assert any(name.startswith(f"test_{promise.lower()}_") for name in tests)


@pytest.mark.parametrize("event", [e.value for e in EventType])
def test_every_event_type_is_documented(event: str) -> None:
    assert f"`{event}`" in (DOCS / "realtime.md").read_text()


@pytest.mark.parametrize("frame", sorted(FRAME_TYPES))
def test_every_client_frame_is_documented(frame: str) -> None:
    assert f'"type": "{frame}"' in (DOCS / "realtime.md").read_text()


@pytest.mark.parametrize(
    "hook", sorted(name for name in dir(hookspecs) if name.startswith("causerie_"))
)
def test_every_plugin_hook_is_documented(hook: str) -> None:
    assert f"### `{hook}(" in (DOCS / "plugins.md").read_text()


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_readme_sets_up_with_exactly_two_commands() -> None:
    """One installs and runs Causerie on its embedded default, one runs the whole suite."""
    blocks = re.findall(r"```sh\n(.*?)```", _readme_section("Set up"), re.DOTALL)
    assert [block.strip() for block in blocks] == [
        "python3 -m venv .venv && .venv/bin/pip install . && .venv/bin/causerie serve",
        "./scripts/test",
    ]
    assert (ROOT / "scripts" / "test").exists()


def test_the_readme_settings_are_settings_with_their_defaults() -> None:
    """The README's short table: each name exists, and a default it writes as a value is the
    declared one (`CAUSERIE_COOKIE_MAX_AGE` | `182d`)."""
    defaults = {s.env: s.default for s in SETTINGS}
    rows = re.findall(r"^\| `(CAUSERIE_\w+)` \| (.*) \|$", _readme_section("Settings"), re.M)
    assert rows
    for name, default in rows:
        assert name in defaults, f"README.md names {name}, which is not a setting"
        written = re.match(r"`([^`]*)`", default)
        if written:
            assert written.group(1) == defaults[name], (name, default)


def test_every_relative_link_of_the_docs_leads_to_a_file() -> None:
    """A screenshot renamed or a page moved leaves no link of README.md or docs/ going nowhere."""
    broken = []
    for page in (ROOT / "README.md", *sorted(DOCS.glob("*.md"))):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.name}: {target}")
    assert not broken
