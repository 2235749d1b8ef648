"""An example Causerie plugin (docs/plugins.md): a bridge to a chat tool. New conversations and
visitors' messages of one website are posted to a Slack- or Mattermost-compatible incoming
webhook; agents answer from the tool with a slash command (or a Mattermost outgoing webhook):
`/causerie CONVERSATION_ID your answer`, which Causerie receives at
`POST /plugins/chat-bridge/command` and posts to the conversation as a chosen operator.

Commands are checked before anything is done: Slack's v0 request signature (HMAC-SHA256 of
`v0:TIMESTAMP:BODY` under the app's signing secret, at most five minutes old) or Mattermost's
token. Messages leave through Causerie's guarded sender (no private address unless allowed).

Settings (environment): `CAUSERIE_BRIDGE_WEBSITE` (the website id), `CAUSERIE_BRIDGE_URL` (the
incoming webhook), `CAUSERIE_BRIDGE_OPERATOR` (the email of the operator who answers),
`CAUSERIE_BRIDGE_SLACK_SECRET` and/or `CAUSERIE_BRIDGE_MATTERMOST_TOKEN`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
from collections.abc import Awaitable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from causerie.actions.messages import do_send_operator_message
from causerie.domain.errors import DomainError
from causerie.domain.models import Actor
from causerie.plugins import hookimpl

log = logging.getLogger("causerie.plugins.chat_bridge")

SIGNATURE_TOLERANCE = 300  # seconds: an older Slack request is a replay
POST_TIMEOUT = 10.0
PREVIEW = 500  # characters of a message posted to the tool


class ChatBridge:
    def __init__(
        self,
        *,
        website_id: str,
        incoming_url: str,
        operator_email: str,
        slack_secret: str = "",
        mattermost_token: str = "",
    ) -> None:
        self.website_id = website_id
        self.incoming_url = incoming_url
        self.operator_email = operator_email.strip().lower()
        self.slack_secret = slack_secret
        self.mattermost_token = mattermost_token

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] = os.environ) -> ChatBridge:
        """Configured from the environment; without a website and a URL it does nothing."""
        return cls(
            website_id=environ.get("CAUSERIE_BRIDGE_WEBSITE", ""),
            incoming_url=environ.get("CAUSERIE_BRIDGE_URL", ""),
            operator_email=environ.get("CAUSERIE_BRIDGE_OPERATOR", ""),
            slack_secret=environ.get("CAUSERIE_BRIDGE_SLACK_SECRET", ""),
            mattermost_token=environ.get("CAUSERIE_BRIDGE_MATTERMOST_TOKEN", ""),
        )

    # to the chat tool

    @hookimpl
    def causerie_event(self, rt: Any, event: Any) -> Awaitable[None] | None:
        if not self.incoming_url or event.website_id != self.website_id:
            return None
        if event.type == "conversation.created":
            conversation = event.data["conversation"]
            text = f"New conversation `{conversation['id']}`."
        elif event.type == "message.created":
            message = event.data["message"]
            if message["author"] != "visitor" or message["type"] != "text":
                return None
            body = message["body"][:PREVIEW]
            text = (
                f"Visitor in `{message['conversation_id']}`: {body}\n"
                f"Answer with `/causerie {message['conversation_id']} your answer`."
            )
        else:
            return None
        return self._post(rt, text)

    async def _post(self, rt: Any, text: str) -> None:
        body = json.dumps({"text": text}).encode()
        headers = {"content-type": "application/json"}
        answer = await rt.outbound.post(self.incoming_url, headers, body, POST_TIMEOUT)
        if not answer.ok:
            log.warning("chat bridge: the tool answered %s", answer.status_code)

    # from the chat tool

    @hookimpl
    def causerie_routes(self) -> list[Route]:
        return [Route("/command", self._command, methods=["POST"])]

    def _authentic(self, request: Request, raw: bytes, form: dict[str, str], now: float) -> bool:
        signature = request.headers.get("x-slack-signature", "")
        if self.slack_secret and signature:
            stamp = request.headers.get("x-slack-request-timestamp", "")
            if not stamp.isdigit() or abs(now - int(stamp)) > SIGNATURE_TOLERANCE:
                return False
            signed = b"v0:" + stamp.encode() + b":" + raw
            digest = hmac.new(self.slack_secret.encode(), signed, hashlib.sha256).hexdigest()
            return hmac.compare_digest(signature, "v0=" + digest)
        if self.mattermost_token:
            return hmac.compare_digest(form.get("token", ""), self.mattermost_token)
        return False

    async def _command(self, request: Request) -> JSONResponse:
        rt = request.app.state.rt
        raw = await request.body()
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if not self._authentic(request, raw, form, rt.clock.now().timestamp()):
            return JSONResponse({"text": "Refused: bad or missing signature."}, status_code=401)
        text = form.get("text", "").strip()
        trigger = form.get("trigger_word", "")
        if trigger and text.startswith(trigger):  # a Mattermost outgoing webhook
            text = text[len(trigger) :].strip()
        conversation_id, _, answer = text.partition(" ")
        if not conversation_id or not answer.strip():
            return _tell("Usage: /causerie CONVERSATION_ID your answer")
        async with rt.store.read() as tx:
            operator = await tx.operators.get_by_email(self.operator_email)
        if operator is None:
            return _tell("The bridge's operator does not exist.")
        # The tool may send a command twice (a retry): the same id stores one message.
        key = form.get("trigger_id") or hashlib.sha256(raw).hexdigest()[:40]
        try:
            await do_send_operator_message(
                rt,
                Actor("operator", operator.id, website_ids=frozenset({self.website_id})),
                conversation_id=conversation_id,
                client_id=f"bridge:{key}"[:64],
                body=answer.strip(),
            )
        except DomainError as exc:
            return _tell(f"Not sent: {exc.message}")
        return _tell("Sent.")

    @hookimpl
    def causerie_recipients(self) -> list[str]:
        if not self.incoming_url:
            return []
        host = urlsplit(self.incoming_url).hostname or "?"
        return [
            f"chat bridge: new conversations and visitors' messages of website "
            f"{self.website_id} are posted to {host} (a chat tool the website's team uses)."
        ]


def _tell(text: str) -> JSONResponse:
    return JSONResponse({"response_type": "ephemeral", "text": text})


plugin = ChatBridge.from_environ()
