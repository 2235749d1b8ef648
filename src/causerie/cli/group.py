"""The `causerie` command group, which every command module adds to."""

from __future__ import annotations

import sys
from typing import Any

import click


class _Commands(click.Group):
    """The `causerie` group: Ctrl-C ends a command with status 130 and no "Aborted!"."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            sys.exit(130)


@click.group(cls=_Commands)
@click.version_option(package_name="causerie")
def main() -> None:
    """Causerie: a self-hosted, privacy-first live chat for websites."""
