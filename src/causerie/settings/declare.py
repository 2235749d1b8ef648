"""How a setting is declared: one pydantic field holding its default (as it would be written),
its type (which parses the text) and its documentation (its row of docs/settings.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

ENV_PREFIX = "CAUSERIE_"


def setting(default: str | None, doc: str, *, hidden: bool = False) -> Any:
    """Declare a setting. `default` is text parsed like a given value; None leaves it unset (the
    loader then finds it in the data folder). A `hidden` value may hold a password: it is never
    shown in an error or a repr."""
    return Field(default=default, description=doc, repr=not hidden)


def env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


@dataclass(frozen=True)
class Declared:
    """A declared setting as the docs show it."""

    name: str
    default: str | None
    doc: str
    hidden: bool

    @property
    def env(self) -> str:
        return env_name(self.name)


def declared(model: type[BaseModel]) -> tuple[Declared, ...]:
    """The settings `model` declares, in its order."""
    return tuple(
        Declared(name, field.default, field.description or "", not field.repr)
        for name, field in model.model_fields.items()
    )
