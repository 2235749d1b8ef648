"""What a message's send gives back."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.domain.events import encode
from causerie.domain.models import Message
from causerie.domain.wire import message_json


@dataclass(frozen=True)
class Sent:
    message: Message
    created: bool  # False when the client_id had been seen: the stored message is returned
    # `message_json(message)` encoded (`domain.events.encode`), as the events carry it: the ack
    # reuses it. None when the message was not stored by this call.
    text: str | None = None

    def message_text(self) -> str:
        return self.text if self.text is not None else encode(message_json(self.message))
