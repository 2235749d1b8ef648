"""What a message's send gives back."""

from __future__ import annotations

from dataclasses import dataclass

from causerie.domain.errors import Conflict, shown
from causerie.domain.events import encode
from causerie.domain.models import Author, Message
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


def sent_again(existing: Message, operator_id: str | None) -> Sent:
    """The answer to a `client_id` sent again by the sender of `existing` (a visitor when
    `operator_id` is None); `client_id_taken` when another sender stored it."""
    author = Author.VISITOR if operator_id is None else Author.OPERATOR
    if (existing.author, existing.operator_id) != (author, operator_id):
        raise Conflict(
            f"client_id: {shown(existing.client_id)} was used by another sender in this "
            "conversation; send this message with a new client_id",
            "client_id_taken",
        )
    return Sent(existing, created=False)
