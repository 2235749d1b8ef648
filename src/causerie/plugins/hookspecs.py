"""The hooks a Causerie plugin may implement, all in this module (docs/plugins.md documents each
one; tests/test_docs.py fails when one is not).

A plugin is an object or module whose functions carry `@causerie.plugins.hookimpl` and bear these
names; it is found through the entry-point group `causerie.plugins` (the entry point's name is the
plugin's name). Arguments are passed by name: an implementation may take only those it needs.
"""

from __future__ import annotations

from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("causerie")


@hookspec
def causerie_event(rt: Any, event: Any) -> Any:
    """An event of the catalogue happened (committed): `event.type`, `.website_id`, `.data`."""


@hookspec
def causerie_routes() -> Any:
    """Starlette routes to serve under `/plugins/<plugin name>/`."""


@hookspec
def causerie_chatbox_settings(website: Any) -> Any:
    """Public settings for the chatbox of `website`, a JSON object, or None."""


@hookspec
def causerie_retention_rules() -> Any:
    """The plugin's own retention rules (`PluginRule`s), run by every purge."""


@hookspec
def causerie_reply_variables(rt: Any, conversation: Any, session: Any) -> Any:
    """Values for `{name}` variables of canned replies in this conversation, or None."""


@hookspec
def causerie_reply_variable_names() -> Any:
    """Names of the `{name}` variables the plugin gives canned replies (accepted when saved)."""


@hookspec
def causerie_recipients() -> Any:
    """Lines for the processing register: where the plugin sends personal data (P11)."""
