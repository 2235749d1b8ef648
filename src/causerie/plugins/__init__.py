"""Python plugins (docs/plugins.md): hooks defined with pluggy in `hookspecs.py`, plugins found
through the entry-point group `causerie.plugins`, and `Plugins`, the runtime's view of them.

Events reach plugins after their change commits, on the node that made it, at most once (a
plugin that needs more sends itself a job or keeps its own state); a plugin's failure is logged
and never breaks the change or the request.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pluggy

from causerie.plugins import hookspecs

log = logging.getLogger("causerie.plugins")

GROUP = "causerie.plugins"
hookimpl = pluggy.HookimplMarker("causerie")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # as causerie.domain.replies.VARIABLE


@dataclass(frozen=True)
class PluginRule:
    """A plugin's retention rule: `purge(rt, now, dry_run)` removes (or counts) what has expired
    and returns how many; its count appears in the purge's as `plugin:<name>`."""

    name: str
    description: str
    purge: Callable[[Any, datetime, bool], Awaitable[int]]


class Plugins:
    """The plugins of this process, and the calls the server makes to them."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self._pm = manager
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def names(self) -> list[str]:
        return sorted(name for name, plugin in self._pm.list_name_plugin() if plugin is not None)

    @property
    def wants_events(self) -> bool:
        return bool(self._pm.hook.causerie_event.get_hookimpls())

    def dispatch(self, rt: Any, events: Sequence[Any]) -> None:
        """Hand committed events to every plugin; what a plugin returns that can be awaited
        runs as a task of its own (call from the event loop, after the commit)."""
        for event in events:
            try:
                results = self._pm.hook.causerie_event(rt=rt, event=event)
            except Exception:
                log.exception("a plugin failed on %s", getattr(event, "type", event))
                continue
            for result in results:
                if inspect.isawaitable(result):
                    self._spawn(result, getattr(event, "type", "?"))

    def _spawn(self, work: Awaitable[Any], what: str) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("a plugin failed on %s", what)

        task = asyncio.get_running_loop().create_task(run(), name=f"causerie-plugin-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the plugins' running work (tests; a node that stops)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def routes(self) -> list[tuple[str, list[Any]]]:
        """(plugin name, routes) for each plugin that serves some."""
        found = []
        for impl in self._pm.hook.causerie_routes.get_hookimpls():
            routes: Any = impl.function()
            if routes:
                found.append((impl.plugin_name, list(routes)))
        return found

    def chatbox_settings(self, website: Any) -> dict[str, Any]:
        """Each plugin's public settings for the chatbox, by plugin name."""
        found = {}
        for impl in self._pm.hook.causerie_chatbox_settings.get_hookimpls():
            value = _call(impl, website=website)
            if value:
                found[impl.plugin_name] = value
        return found

    def retention_rules(self) -> list[PluginRule]:
        return [rule for rules in self._pm.hook.causerie_retention_rules() for rule in rules]

    def reply_variables(self, rt: Any, conversation: Any, session: Any) -> dict[str, str]:
        """The variables plugins give for canned replies. pluggy calls the plugin registered
        last first: applying the answers in that order, the one registered first wins."""
        merged: dict[str, str] = {}
        hook = self._pm.hook.causerie_reply_variables
        for values in hook(rt=rt, conversation=conversation, session=session):
            merged.update({str(k): str(v) for k, v in (values or {}).items()})
        return merged

    def reply_variable_names(self) -> frozenset[str]:
        """The variables plugins declare for canned replies (names a `{name}` can hold)."""
        names = self._pm.hook.causerie_reply_variable_names()
        return frozenset(str(n) for ns in names for n in ns or () if _VARIABLE.fullmatch(str(n)))

    def recipients(self) -> list[str]:
        return [line for lines in self._pm.hook.causerie_recipients() for line in lines]


def _call(impl: Any, **kwargs: Any) -> Any:
    """One implementation, called with the arguments it declares."""
    return impl.function(**{name: kwargs[name] for name in impl.argnames if name in kwargs})


def load_plugins(extra: Iterable[tuple[str, object]] = (), *, entry_points: bool = True) -> Plugins:
    """The plugins installed (the entry-point group `causerie.plugins`), and `extra` ones given
    as (name, plugin). A name is lowercase letters, digits, `-` and `_`: it is a URL segment."""
    manager = pluggy.PluginManager("causerie")
    manager.add_hookspecs(hookspecs)
    if entry_points:
        manager.load_setuptools_entrypoints(GROUP)
    for name, plugin in extra:
        manager.register(plugin, name=name)
    for name, _ in manager.list_name_plugin():
        if not _NAME.match(name):
            raise ValueError(f"plugin name {name!r}: lowercase letters, digits, '-' and '_'")
    return Plugins(manager)
