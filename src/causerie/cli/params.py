"""Option types shared by the commands."""

from __future__ import annotations

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
