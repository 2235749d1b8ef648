"""Dependencies point one way (STYLE.md, practice 1) and time comes from the injected clock
(practice 11). Read from the source with `ast`, so a stray import fails here, not in review."""

from __future__ import annotations

import ast
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

FORBIDDEN: dict[str, tuple[str, ...]] = {
    "domain": (
        *THIRD_PARTY_TRANSPORT_AND_STORAGE,
        "alembic",
        "asyncpg",
        "causerie.web",
        "causerie.store",
        "causerie.files",
        "causerie.actions",
        "causerie.app",
        "causerie.cli",
    ),
    "actions": (
        "fastapi",
        "starlette",
        "sqlalchemy",
        "redis",
        "asyncpg",
        "obstore",
        "causerie.web",
        "causerie.store",
        "causerie.files",
        "causerie.app",
        "causerie.cli",
    ),
    "web": ("sqlalchemy", "asyncpg", "obstore", "causerie.store", "causerie.files"),
}


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


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    bad = {}
    for path in sources(layer):
        imported = imported_modules(
            path.read_text("utf-8"), _module_name(path), path.name == "__init__.py"
        )
        found = violations(imported, FORBIDDEN[layer])
        if found:
            bad[str(path.relative_to(PACKAGE))] = found
    assert bad == {}


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
    assert violations(imported, FORBIDDEN["domain"]) == [
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


def test_clock_scanner_sees_wall_clock_calls() -> None:
    source = (
        "import datetime as dt\n"
        "from datetime import datetime, UTC\n"
        "a = datetime.now(UTC)\n"
        "b = dt.datetime.utcnow()\n"
        "c = rt.clock.now()\n"
    )
    assert wall_clock_calls(source) == [3, 4]
