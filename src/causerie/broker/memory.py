"""The in-process broker: a publish on this node reaches this node's subscribers, and no other."""

from __future__ import annotations

from collections.abc import Callable


class MemoryBroker:
    def __init__(self) -> None:
        self._channels: set[str] = set()
        self._on_message: Callable[[str, bytes], None] | None = None

    async def start(
        self, on_message: Callable[[str, bytes], None], on_reconnect: Callable[[], None]
    ) -> None:
        self._on_message = on_message

    async def publish(self, channel: str, payload: bytes) -> None:
        if channel in self._channels and self._on_message is not None:
            self._on_message(channel, payload)

    async def subscribe(self, channel: str) -> None:
        self._channels.add(channel)

    async def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)

    async def close(self) -> None:
        self._channels.clear()
        self._on_message = None
