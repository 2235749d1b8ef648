"""Option types shared by the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click


class _Given(click.ParamType[str]):
    """Text that may not be given empty: `--website=` is not `--website` left out (which means
    every website, or none), as an empty query parameter of the API is not one left out
    (docs/cli.md)."""

    name = "text"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value)
        if not text.strip():
            self.fail("given empty; leave the option out instead", param, ctx)
        return text


GIVEN = _Given()


class _GivenFolder(click.Path):
    """A folder that may not be given empty: `--data-dir ""` is not the current folder."""

    def __init__(self) -> None:
        super().__init__(file_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("given empty; leave the option out instead", param, ctx)
        return super().convert(value, param, ctx)


GIVEN_FOLDER = _GivenFolder()
