"""An example Causerie plugin (docs/plugins.md): when a visitor writes while no agent of the
website is online, answer once with an away message, sent as a chosen operator (a "bot"
account that belongs to the website).

Install it beside Causerie (`pip install ./examples/plugins/away_reply`) and set
`CAUSERIE_AWAY_REPLY_OPERATOR` (the operator's email) and, optionally,
`CAUSERIE_AWAY_REPLY_TEXT`. The entry point `away-reply` in its pyproject.toml registers it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Mapping
from typing import Any

from causerie.actions.messages import do_send_operator_message
from causerie.actions.presence import get_availability
from causerie.domain.models import Actor
from causerie.plugins import hookimpl

DEFAULT_TEXT = (
    "Thanks for your message! No one is here right now: we will answer as soon as we are back."
)


class AwayReply:
    def __init__(self, operator_email: str, text: str = DEFAULT_TEXT) -> None:
        self.operator_email = operator_email.strip().lower()
        self.text = text

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> AwayReply:
        """Configured from the environment; without an operator it does nothing."""
        email = environ.get("CAUSERIE_AWAY_REPLY_OPERATOR", "")
        return cls(email, environ.get("CAUSERIE_AWAY_REPLY_TEXT") or DEFAULT_TEXT)

    @hookimpl
    def causerie_event(self, rt: Any, event: Any) -> Awaitable[None] | None:
        if not self.operator_email or event.type != "message.created":
            return None
        message = event.data["message"]
        if message["author"] != "visitor":
            return None
        return self._answer(rt, event.website_id, message["conversation_id"])

    async def _answer(self, rt: Any, website_id: str, conversation_id: str) -> None:
        if (await get_availability(rt, website_id))["online"]:
            return
        async with rt.store.read() as tx:
            operator = await tx.operators.get_by_email(self.operator_email)
        if operator is None:
            return
        # One away reply per conversation and day: the client id makes a repeat a no-op.
        day = rt.clock.now().strftime("%Y%m%d")
        await do_send_operator_message(
            rt,
            Actor("operator", operator.id),
            conversation_id=conversation_id,
            client_id=f"away:{conversation_id}:{day}",
            body=self.text,
        )

    @hookimpl
    def causerie_chatbox_settings(self, website: Any) -> dict[str, Any] | None:
        return {"away_text": self.text} if self.operator_email else None

    @hookimpl
    def causerie_reply_variable_names(self) -> list[str]:
        return ["away_text"]

    @hookimpl
    def causerie_reply_variables(self) -> dict[str, str]:
        return {"away_text": self.text}


plugin = AwayReply.from_environ()
