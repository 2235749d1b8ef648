"""Dependencies point one way (STYLE.md, practice 1) and time comes from the injected clock
(practice 11). Read from the source with `ast`, so a stray import fails here, not in review."""

from __future__ import annotations

import ast
import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest

import causerie

PACKAGE = Path(causerie.__file__).parent

THIRD_PARTY_TRANSPORT_AND_STORAGE = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "redis",
    "uvicorn",
    "obstore",
)

# Every module of the package belongs to one layer (the longest prefix below wins), and imports
# from the package only what its layer may: domain <- actions <- realtime/web <- composition;
# adapters implement the domain's ports and see nothing above them (docs/architecture.md).
FOUNDATION = (
    "clock",
    "settings",
    "caching",
    "tokens",
    "logs",
    "private_files",
    "images",
    "plugins",
    "lazy_imports",
    "thread_priority",
)
ADAPTERS = (
    "store",
    "files",
    "broker",
    "presence",
    "counters",
    "push",
    "mail",
    "outbound",
    "aggregates",
)
COMPOSITION = ("app", "cli", "wiring", "demo", "server", "ws_protocol", "__main__")
LAYER_OF: dict[str, str] = {
    "domain": "domain",
    **dict.fromkeys(FOUNDATION, "foundation"),
    "runtime": "runtime",
    "actions": "actions",
    "realtime": "realtime",
    "web": "web",
    **dict.fromkeys(ADAPTERS, "adapter"),
    **dict.fromkeys(COMPOSITION, "composition"),
}
MAY_IMPORT: dict[str, set[str]] = {
    "domain": {"domain"},
    "foundation": {"domain", "foundation"},
    "runtime": {"domain", "foundation"},
    "actions": {"domain", "foundation", "runtime", "actions"},
    "realtime": {"domain", "foundation", "runtime", "actions", "realtime"},
    "web": {"domain", "foundation", "runtime", "actions", "realtime", "web"},
    "adapter": {"domain", "foundation", "adapter"},
    "composition": set(LAYER_OF.values()),
}

# Third-party libraries kept out of the inner layers.
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (*THIRD_PARTY_TRANSPORT_AND_STORAGE, "alembic", "asyncpg"),
    "runtime": (*THIRD_PARTY_TRANSPORT_AND_STORAGE, "alembic", "asyncpg"),
    "actions": ("fastapi", "starlette", "sqlalchemy", "redis", "asyncpg", "obstore"),
    "web": ("sqlalchemy", "asyncpg", "obstore"),
}


def layer_of(module: str) -> str | None:
    """The layer of `causerie.X...` (None for a module no layer claims)."""
    parts = module.split(".")
    if parts[0] != "causerie":
        return None
    if len(parts) == 1 or parts[1] == "__version__":
        return "foundation"  # the package itself holds its version only
    return LAYER_OF.get(parts[1])


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module `source` imports, at any depth (functions, TYPE_CHECKING blocks included),
    relative imports resolved against `module`."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                target = f"{prefix}.{node.module}" if node.module else prefix
            else:
                target = node.module or ""
            found.add(target)
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def violations(imported: Iterable[str], forbidden: Iterable[str]) -> list[str]:
    return sorted(
        name
        for name in imported
        for banned in forbidden
        if name == banned or name.startswith(banned + ".")
    )


def sources(layer: str) -> list[Path]:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no modules found in causerie/{layer}"
    return files


def _package_modules() -> list[tuple[Path, str]]:
    return [(path, _module_name(path)) for path in sorted(PACKAGE.rglob("*.py"))]


def test_every_module_belongs_to_a_layer() -> None:
    assert [name for _, name in _package_modules() if layer_of(name) is None] == []


def test_layers_import_only_the_layers_below_them() -> None:
    bad = {}
    for path, name in _package_modules():
        layer = layer_of(name)
        assert layer is not None, name
        imported = imported_modules(path.read_text("utf-8"), name, path.name == "__init__.py")
        found = sorted(
            target
            for target in imported
            if target.startswith("causerie.")
            and (layer_of(target) or "composition") not in MAY_IMPORT[layer]
        )
        if found:
            bad[str(path.relative_to(PACKAGE))] = found
    assert bad == {}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_inner_layers_import_no_transport_or_storage_library(layer: str) -> None:
    bad = {}
    for path, name in _package_modules():
        if layer_of(name) != layer:
            continue
        imported = imported_modules(path.read_text("utf-8"), name, path.name == "__init__.py")
        found = violations(imported, FORBIDDEN[layer])
        if found:
            bad[str(path.relative_to(PACKAGE))] = found
    assert bad == {}


def test_actions_reach_the_hub_through_its_port() -> None:
    """`Runtime.hub` is the domain's `Hub` protocol: actions cannot depend on the concrete one."""
    from causerie.domain import ports
    from causerie.runtime import Runtime

    assert Runtime.__annotations__["hub"] in ("Hub", ports.Hub)
    assert Runtime.__dataclass_fields__["hub"].default_factory is dataclasses.MISSING


# Calls that read the wall clock instead of the injected one.
_CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today")}
_CLOCK_CALLS |= {("date", "today"), ("time", "time")}


def wall_clock_calls(source: str) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        owner = node.func.value
        owner_name = (
            owner.id
            if isinstance(owner, ast.Name)
            else owner.attr
            if isinstance(owner, ast.Attribute)
            else None
        )
        if (owner_name, node.func.attr) in _CLOCK_CALLS:
            lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize("layer", ["domain", "actions"])
def test_domain_and_actions_take_time_from_the_clock(layer: str) -> None:
    bad = {}
    for path in sources(layer):
        lines = wall_clock_calls(path.read_text("utf-8"))
        if lines:
            bad[str(path.relative_to(PACKAGE))] = lines
    assert bad == {}


# -- the checks above do see what they look for ------------------------------------------------


def test_import_scanner_sees_every_form_of_import() -> None:
    source = (
        "import sqlalchemy.orm\n"
        "from fastapi import Request\n"
        "from ..store import tx\n"
        "from . import models\n"
        "def f():\n"
        "    import redis\n"
        "if TYPE_CHECKING:\n"
        "    from starlette.types import Scope\n"
    )
    imported = imported_modules(source, "causerie.domain.example")
    assert violations(imported, (*FORBIDDEN["domain"], "causerie.store")) == [
        "causerie.store",
        "causerie.store.tx",
        "fastapi",
        "fastapi.Request",
        "redis",
        "sqlalchemy.orm",
        "starlette.types",
        "starlette.types.Scope",
    ]
    assert violations(["causerie.website"], ["causerie.web"]) == []


def test_layer_of_sorts_modules_into_their_layers() -> None:
    assert layer_of("causerie.store.repositories.jobs") == "adapter"
    assert layer_of("causerie.actions.jobs") == "actions"
    assert layer_of("causerie.wiring") == "composition"
    assert layer_of("causerie") == "foundation"
    assert "adapter" not in MAY_IMPORT["actions"]
    assert "realtime" not in MAY_IMPORT["actions"]


def test_clock_scanner_sees_wall_clock_calls() -> None:
    source = (
        "import datetime as dt\n"
        "from datetime import datetime, UTC\n"
        "a = datetime.now(UTC)\n"
        "b = dt.datetime.utcnow()\n"
        "c = rt.clock.now()\n"
    )
    assert wall_clock_calls(source) == [3, 4]
