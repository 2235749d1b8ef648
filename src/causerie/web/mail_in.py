"""Replies by mail: the SMTP listener `causerie serve` runs on `CAUSERIE_SMTP_LISTEN`
(docs/notifications.md, "Replies by mail"), an aiosmtpd server on the event loop.

A recipient is checked at RCPT time: anything but a live `reply+TOKEN@CAUSERIE_MAIL_DOMAIN`
gets 550 there, so the sending server reports it at once and nothing bounces later. The mail's
new text (its plain part, or its HTML part as text; quotes and signature removed) becomes the
visitor's or the operator's message through the same actions as the chatbox and the inbox.
Automatic replies (out of office, bounces, delivery reports, anything from the null sender)
are accepted and dropped, so two robots cannot answer each other forever. Its attachments
become file messages after the text, each judged like any upload
(`actions.files.do_store_mailed_file`): one the website does not take is skipped.
"""

from __future__ import annotations

import asyncio
import email
import io
import logging
from email import policy
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope
from aiosmtpd.smtp import Session as SmtpSession

from causerie.actions.files import Upload
from causerie.actions.mail import do_receive_reply, get_reply_address
from causerie.domain.errors import DomainError
from causerie.domain.mail_flowed import unflow
from causerie.runtime import Runtime
from causerie.tokens import hash_token

log = logging.getLogger("causerie.mail")

DATA_SIZE_LIMIT = 10 * 1024 * 1024  # a reply with a large HTML part or pictures still fits
MAX_RECIPIENTS = 10


class _Text(HTMLParser):
    """The text of an HTML part: what it quotes (`blockquote`) as lines quoted with `>`, as a
    plain part quotes them, so that what follows a quote (bottom-posting) is told from the
    history; Gmail's `gmail_quote` block is left out whole."""

    _SKIP = frozenset({"style", "script", "head", "title"})
    _BREAK = frozenset({"br", "p", "div", "li", "tr", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []
        self._quoted = 0  # blockquotes open
        self._line_start = True

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        if self._skipping or tag in self._SKIP or "gmail_quote" in classes:
            if tag not in ("br", "img", "hr", "meta", "link", "input"):
                self._skipping.append(tag)
            return
        if tag == "blockquote":
            self._write("\n")
            self._quoted += 1
        elif tag in self._BREAK:
            self._write("\n")

    def handle_endtag(self, tag: str) -> None:
        if self._skipping:
            if tag == self._skipping[-1]:
                self._skipping.pop()
            return
        if tag == "blockquote" and self._quoted:
            self._write("\n")
            self._quoted -= 1
        elif tag in self._BREAK:
            self._write("\n")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self._write(data)

    def _write(self, text: str) -> None:
        """`text`, each line begun inside a blockquote marked `>` (one for each level)."""
        for n, piece in enumerate(text.split("\n")):
            if n:
                self.parts.append("\n")
                self._line_start = True
            if piece:
                if self._line_start and self._quoted:
                    self.parts.append("> " * self._quoted)
                self.parts.append(piece)
                self._line_start = False


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def text_of(message: EmailMessage) -> str:
    """The reply's own text: its plain part, else its HTML part as text."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    try:
        content = body.get_content()
    except LookupError:  # a charset Python does not know ("unknown-8bit"): read it as UTF-8
        payload = body.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    if not isinstance(content, str):
        return ""
    content = content.replace("\x00", "")  # refused by the API, and by PostgreSQL's text
    if body.get_content_subtype() == "html":
        return html_text(content)
    if str(body.get_param("format", "")).lower() == "flowed":
        return unflow(content, delsp=str(body.get_param("delsp", "")).lower() == "yes")
    return content


def attachments_of(message: EmailMessage) -> list[Upload]:
    """The files a reply carries (its attachments, not its text parts), in their order."""
    found: list[Upload] = []
    for part in message.iter_attachments():
        if part.is_multipart() or part.get_content_maintype() == "message":
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        name = (part.get_filename() or "").replace("\x00", "") or "file"
        found.append(Upload(name=name, data=io.BytesIO(data)))
    return found


_AUTO_RESPONDER_HEADERS = ("X-Autoreply", "X-Autorespond")  # auto-responders' own marks


def is_automatic(message: EmailMessage, sender: str | None = None) -> bool:
    """Out-of-office answers, bounces and list traffic: RFC 3834's `Auto-Submitted`,
    `Precedence`, the null envelope sender of notifications (RFC 5321 4.5.5, `sender` ""),
    delivery and read reports (`multipart/report`, RFC 6522) and auto-responders' headers."""
    auto = str(message.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        auto != "no"
        or precedence in ("bulk", "junk", "list", "auto_reply")
        or (sender is not None and sender.strip().strip("<>") == "")
        or message.get_content_type() == "multipart/report"
        or any(message.get(name) is not None for name in _AUTO_RESPONDER_HEADERS)
    )


class ReplyHandler:
    """aiosmtpd's handler: checks recipients, takes replies in."""

    def __init__(self, rt: Runtime) -> None:
        self._rt = rt

    async def handle_RCPT(
        self,
        server: SMTP,
        session: SmtpSession,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            target = await get_reply_address(self._rt, address)
        except Exception:
            log.exception("reply by mail: the recipient could not be checked")
            return "451 4.3.0 Try again later"
        if target is None:
            return "550 5.1.1 No such reply address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: SmtpSession, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        data = raw if isinstance(raw, bytes) else str(raw or "").encode("utf-8", "replace")
        message = email.message_from_bytes(data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        if is_automatic(message, envelope.mail_from):
            return "250 OK (automatic reply dropped)"
        text = text_of(message)
        files = attachments_of(message)
        mail_id = str(message.get("Message-ID") or hash_token(data.decode("utf-8", "replace")))
        for address in envelope.rcpt_tos:
            try:
                await do_receive_reply(self._rt, address, text, mail_id, files)
            except DomainError as exc:
                return f"550 5.7.1 {exc}"
            except Exception:
                log.exception("reply by mail: could not be stored")
                return "451 4.3.0 Try again later"
        return "250 OK"


async def start_listener(rt: Runtime, host: str, port: int) -> asyncio.Server:
    """Listen for replies by mail on host:port (until the returned server is closed)."""
    handler = ReplyHandler(rt)
    hostname = rt.settings.mail_domain or "causerie"

    def protocol() -> Any:
        return SMTP(handler, hostname=hostname, data_size_limit=DATA_SIZE_LIMIT, ident="Causerie")

    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol, host, port)
    log.info("receiving replies by mail on %s:%d", host, port)
    return server
