"""Mail to agents and visitors, and replies by mail (docs/notifications.md).

What causes a mail enqueues a job in the change's own transaction (a message's:
`actions.notifications.do_notify`, the one action for every channel); the job decides, when it
runs, whether the mail is still due (nobody answered, the visitor has not seen the reply) and
sends it. Every job about a visitor carries their `session_id`, so erasure drops it (P9). A job
sends to one recipient at most, so a retry never mails twice someone who already got it; an
address the server refuses for good is recorded (`mail_failures`), shown to the website's
agents, and gets no more mail.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from causerie.actions.access import ANY_ROLE, check_role
from causerie.actions.files import Upload, do_store_mailed_file
from causerie.actions.jobs import do_enqueue
from causerie.actions.messages import (
    MAX_BODY_CHARS,
    do_send_operator_message,
    do_send_session_message,
)
from causerie.actions.notifications import get_recipients
from causerie.actions.sessions import access_visitor_session
from causerie.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthenticated,
    UnsupportedType,
    shown,
)
from causerie.domain.jobs import Job, JobKind
from causerie.domain.mail import (
    PUSH_PREVIEWS,
    REPLY_ADDRESS_TTL,
    Mail,
    MailFailure,
    MailRefused,
    ReplyAddress,
    check_preferences,
    new_reply_token,
    next_digest_at,
    preferences_of,
    reply_address,
    reply_token_of,
)
from causerie.domain.mail_replies import strip_reply
from causerie.domain.mail_texts import (
    Composed,
    Line,
    MailKind,
    compose,
    digest_line,
    file_line,
    language_of,
    visitor_word,
)
from causerie.domain.models import (
    Actor,
    Author,
    Conversation,
    Message,
    MessageType,
    Scope,
    Session,
    Website,
)
from causerie.domain.ports import Tx
from causerie.domain.push import PushReason
from causerie.runtime import Runtime
from causerie.tokens import derive, hash_token, new_id

log = logging.getLogger("causerie.mail")

MESSAGES_IN_A_MAIL = 200  # the latest messages a mail may show
FAILURES_LIMIT = 200
MAX_MAILED_FILES = 10  # the attachments of one reply by mail kept as files; the rest skipped
_UNSUBSCRIBE = "mail-unsubscribe"


# --- the jobs ---


@dataclass(frozen=True)
class _Thread:
    website: Website
    session: Session
    conversation: Conversation
    messages: list[Message]


async def _thread(rt: Runtime, conversation_id: str) -> _Thread | None:
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get(conversation_id)
        if conversation is None:
            return None
        session = await tx.sessions.get(conversation.session_id)
        website = await tx.websites.get(conversation.website_id)
        if session is None or website is None:
            return None
        messages = await tx.messages.list_page(
            conversation.id, limit=MESSAGES_IN_A_MAIL, include_notes=False
        )
    return _Thread(website, session, conversation, messages)


async def run_new_conversation(rt: Runtime, job: Job) -> None:
    """The delay passed: unless an agent answered or is online, one job per operator who wants
    to hear of new conversations."""
    thread = await _thread(rt, job.payload["conversation_id"])
    if thread is None or any(m.author is Author.OPERATOR for m in thread.messages):
        return
    # Those a push would tell now: none while an agent is in the inbox and sees it there.
    recipients = await get_recipients(rt, thread.conversation, PushReason.NEW_CONVERSATION)
    if not recipients:
        return
    async with rt.store.transaction() as tx:
        stored = await tx.mail.get_preferences_of(recipients)
        for operator_id in recipients:
            if preferences_of(stored.get(operator_id, {}))["mail_new_conversation"]:
                await do_enqueue(
                    rt,
                    tx,
                    JobKind.MAIL_OPERATOR,
                    key=f"{JobKind.MAIL_OPERATOR}:new:{thread.conversation.id}:{operator_id}",
                    session_id=thread.session.id,
                    payload={
                        "kind": MailKind.NEW_CONVERSATION.value,
                        "conversation_id": thread.conversation.id,
                        "operator_id": operator_id,
                    },
                )


async def run_operator_mail(rt: Runtime, job: Job) -> None:
    """One mail to one operator: a new conversation, or a mention in a note."""
    kind = MailKind(job.payload["kind"])
    thread = await _thread(rt, job.payload["conversation_id"])
    if thread is None:
        return
    async with rt.store.read() as tx:
        operator = await tx.operators.get(job.payload["operator_id"])
        stored = await tx.mail.get_preferences(job.payload["operator_id"])
        note = (
            await tx.messages.get(thread.conversation.id, job.payload["message_id"])
            if kind is MailKind.MENTION
            else None
        )
    preference = "mail_mentions" if kind is MailKind.MENTION else "mail_new_conversation"
    if operator is None or not preferences_of(stored)[preference]:
        return
    language = language_of(thread.website.settings.get("locale"))
    who = ""
    if kind is MailKind.MENTION:
        if note is None:
            return
        who = note.operator_name or thread.website.name
        lines = [Line(who, note.body, note.created_at)]
    else:
        if any(m.author is Author.OPERATOR for m in thread.messages):
            return  # answered since
        lines = _lines(thread, language, [m for m in thread.messages if m.author is Author.VISITOR])
    unsubscribe = unsubscribe_url(rt, f"o.{operator.id}.{preference}")
    # A note is the agents' own: an answer to its mail would land as a message to the visitor.
    answerable = kind is not MailKind.MENTION
    composed = compose(
        kind,
        language,
        site=thread.website.name,
        color=_color(thread.website),
        lines=lines,
        unsubscribe_url=unsubscribe,
        link=f"{rt.settings.public_url}/app/#/conversations/{thread.conversation.id}",
        who=who,
        can_reply=answerable and rt.settings.mail_domain is not None,
    )
    await _send(
        rt, thread.website.id, operator.email, composed, unsubscribe, language,
        conversation=thread.conversation if answerable else None, operator_id=operator.id,
    )  # fmt: skip


async def run_visitor_replies(rt: Runtime, job: Job) -> None:
    """The agents' replies the visitor has not seen, from the one that started the delay."""
    thread = await _thread(rt, job.payload["conversation_id"])
    if thread is None or not thread.session.email or thread.conversation.unread_by_visitor == 0:
        return
    async with rt.store.read() as tx:
        if await tx.mail.opted_out(thread.session.id):
            return
    ids = [m.id for m in thread.messages]
    start = ids.index(job.payload["since"]) if job.payload["since"] in ids else 0
    read_up_to = thread.conversation.visitor_read_up_to
    if read_up_to in ids:
        start = max(start, ids.index(read_up_to) + 1)
    unseen = [m for m in thread.messages[start:] if m.author is Author.OPERATOR]
    if not unseen:
        return
    language = language_of(thread.website.settings.get("locale"), thread.session.locale)
    unsubscribe = unsubscribe_url(rt, f"v.{thread.session.id}")
    composed = compose(
        MailKind.REPLIES,
        language,
        site=thread.website.name,
        color=_color(thread.website),
        lines=_lines(thread, language, unseen),
        unsubscribe_url=unsubscribe,
        can_reply=rt.settings.mail_domain is not None,
        zone=thread.session.timezone,
    )
    await _deliver(rt, thread, thread.session.email, composed, unsubscribe, language)


async def run_transcript(rt: Runtime, job: Job) -> None:
    """The whole conversation (what the chatbox shows), to the visitor who asked for it."""
    assert job.session_id is not None
    async with rt.store.read() as tx:
        conversation = await tx.conversations.get_by_session(job.session_id)
    thread = None if conversation is None else await _thread(rt, conversation.id)
    if thread is None or not thread.session.email:
        return
    language = language_of(thread.website.settings.get("locale"), thread.session.locale)
    # Files too (by name): the chatbox shows them, and a transcript without them lost the
    # visitor's receipt or photo without a trace.
    visible = [m for m in thread.messages if m.type in (MessageType.TEXT, MessageType.FILE)]
    unsubscribe = unsubscribe_url(rt, f"v.{thread.session.id}")
    composed = compose(
        MailKind.TRANSCRIPT,
        language,
        site=thread.website.name,
        color=_color(thread.website),
        lines=_lines(thread, language, visible),
        unsubscribe_url=unsubscribe,
        can_reply=rt.settings.mail_domain is not None,
        zone=thread.session.timezone,
    )
    await _deliver(rt, thread, thread.session.email, composed, unsubscribe, language)


def _lines(thread: _Thread, language: str, messages: list[Message]) -> list[Line]:
    visitor = thread.session.nickname or visitor_word(language)
    return [
        Line(
            visitor if m.author is Author.VISITOR else (m.operator_name or thread.website.name),
            file_line(language, m.body) if m.type is MessageType.FILE else m.body,
            m.created_at,
        )
        for m in messages
    ]


def _color(website: Website) -> str:
    color = website.settings.get("color")
    return color if isinstance(color, str) else "#3b5bdb"


async def _deliver(
    rt: Runtime,
    thread: _Thread,
    to: str,
    composed: Composed,
    unsubscribe: str,
    language: str,
) -> None:
    """A mail to the visitor, answerable in the conversation."""
    await _send(
        rt, thread.website.id, to, composed, unsubscribe, language,
        conversation=thread.conversation, operator_id=None,
    )  # fmt: skip


async def _send(
    rt: Runtime,
    website_id: str,
    to: str,
    composed: Composed,
    unsubscribe: str,
    language: str,
    *,
    conversation: Conversation | None,
    operator_id: str | None,
) -> None:
    """Send one mail, with a fresh reply address to `conversation` when replies by mail are on.
    A refusal for good is recorded (and the job ends); any other error raises, and the job is
    retried."""
    mailer = rt.mailer
    if mailer is None:
        return
    now = rt.clock.now()
    reply_to = None
    async with rt.store.transaction() as tx:
        if await tx.mail.has_failed(website_id, to):
            return
        if rt.settings.mail_domain is not None and conversation is not None:
            token = new_reply_token()
            await tx.mail.insert_reply_address(
                ReplyAddress(
                    token_hash=hash_token(token),
                    conversation_id=conversation.id,
                    session_id=conversation.session_id,
                    operator_id=operator_id,
                    created_at=now,
                    expires_at=now + REPLY_ADDRESS_TTL,
                )
            )
            reply_to = reply_address(token, rt.settings.mail_domain)
    mail = Mail(
        to=to,
        subject=composed.subject,
        text=composed.text,
        html=composed.html,
        unsubscribe_url=unsubscribe,
        reply_to=reply_to,
        language=language,
    )
    # What the mail carries was read after the job's claim: rows another node committed early
    # since may not be on disk yet (docs/realtime.md, "What is sent out waits for the disk").
    await rt.store.made_durable()
    try:
        await mailer.send(mail)
    except MailRefused as exc:
        # The server's answer may repeat the address: it is kept in the database (shown to the
        # website's agents, erased with its person), never in the log.
        log.warning(
            "mail to an address of website %s refused for good (%s)", website_id, str(exc)[:3]
        )
        async with rt.store.transaction() as tx:
            await tx.mail.insert_failure(
                MailFailure(
                    id=new_id(),
                    website_id=website_id,
                    address=to,
                    error=str(exc)[:500],
                    failed_at=rt.clock.now(),
                    session_id=None
                    if operator_id or conversation is None
                    else conversation.session_id,
                    operator_id=operator_id,
                )
            )


async def do_schedule_digest(rt: Runtime, tx: Tx, operator_id: str) -> None:
    """The operator's next daily digest (one per day: keyed by its date)."""
    if rt.mailer is None:
        return
    now = rt.clock.now()
    at = next_digest_at(now)
    await do_enqueue(
        rt, tx, JobKind.MAIL_DIGEST, delay=at - now,
        key=f"{JobKind.MAIL_DIGEST}:{operator_id}:{at.date().isoformat()}",
        payload={"operator_id": operator_id},
    )  # fmt: skip


async def run_digest(rt: Runtime, job: Job) -> None:
    """The last 24 hours of the operator's websites, in counts; then the next day's digest,
    while the operator still wants it."""
    operator_id = job.payload["operator_id"]
    now = rt.clock.now()
    async with rt.store.read() as tx:
        operator = await tx.operators.get(operator_id)
        wanted = preferences_of(await tx.mail.get_preferences(operator_id))["mail_digest"]
        websites = [w for w, _ in await tx.members.list_for_operator(operator_id)]
        counts = {
            w.id: await tx.stats.daily_counts(w.id, now - timedelta(days=1)) for w in websites
        }
    if operator is None or not wanted:
        return
    if websites:
        language = language_of(websites[0].settings.get("locale"))
        lines = []
        for website in websites:
            totals = {"conversations": 0, "visitor": 0, "operator": 0}
            for _, what, count in counts[website.id]:
                if what in totals:
                    totals[what] += count
            lines.append(Line(website.name, digest_line(language, **totals), now))
        unsubscribe = unsubscribe_url(rt, f"o.{operator.id}.mail_digest")
        composed = compose(
            MailKind.DIGEST, language, site=", ".join(w.name for w in websites)[:200],
            color=_color(websites[0]), lines=lines, unsubscribe_url=unsubscribe,
        )  # fmt: skip
        await _send(
            rt, websites[0].id, operator.email, composed, unsubscribe, language,
            conversation=None, operator_id=operator.id,
        )  # fmt: skip
    async with rt.store.transaction() as tx:
        await do_schedule_digest(rt, tx, operator_id)


# --- unsubscribing (RFC 8058 one-click) ---


def unsubscribe_url(rt: Runtime, target: str) -> str:
    """The one-click link of a mail: `v.SESSION_ID` (a visitor: no more mail about their
    conversation) or `o.OPERATOR_ID.PREFERENCE` (an operator: that preference off), signed with
    the server's secret key."""
    signature = derive(rt.settings.secret_key, _UNSUBSCRIBE, target)[:32]
    return f"{rt.settings.public_url}/mail/unsubscribe/{target}.{signature}"


def check_unsubscribe_token(rt: Runtime, token: str) -> list[str]:
    """The parts of a valid unsubscribe token (`["v", ID]` or `["o", ID, PREFERENCE]`)."""
    target, _, signature = token.rpartition(".")
    parts = target.split(".")
    expected = derive(rt.settings.secret_key, _UNSUBSCRIBE, target)[:32]
    valid_shape = (parts[0] == "v" and len(parts) == 2) or (parts[0] == "o" and len(parts) == 3)
    if not valid_shape or not _same(signature, expected):
        raise NotFound("this unsubscribe link is not valid", "unsubscribe_link_invalid")
    return parts


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def do_unsubscribe(rt: Runtime, token: str) -> None:
    """Stop what the link's mail was about. Harmless when repeated, or when the person is gone."""
    parts = check_unsubscribe_token(rt, token)
    async with rt.store.transaction() as tx:
        if parts[0] == "v":
            if await tx.sessions.get(parts[1]) is not None:
                await tx.mail.opt_out(parts[1], rt.clock.now())
            return
        operator_id, preference = parts[1], parts[2]
        if await tx.operators.get(operator_id) is None:
            return
        stored = await tx.mail.get_preferences(operator_id)
        check_preferences({preference: False})
        await tx.mail.set_preferences(operator_id, {**stored, preference: False}, rt.clock.now())


# --- preferences (`/api/v1/me`) ---


async def get_notification_preferences(rt: Runtime, actor: Actor) -> dict[str, bool]:
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    async with rt.store.read() as tx:
        preferences = preferences_of(await tx.mail.get_preferences(actor.operator_id))
        preferences[PUSH_PREVIEWS] = await tx.push.previews(actor.operator_id)
    return preferences


async def do_set_notification_preferences(
    rt: Runtime, actor: Actor, patch: object
) -> dict[str, bool]:
    """Change some of the caller's preferences; all of them, as they are now. `push_previews`
    is the value `/api/v1/push/preferences` reads and sets (stored with the push feature)."""
    if actor.operator_id is None:
        raise Unauthenticated("authentication required")
    if Scope.WRITE not in actor.scopes:
        raise Forbidden("this token lacks the 'write' scope", "insufficient_scope")
    values = check_preferences(patch)
    previews = values.pop(PUSH_PREVIEWS, None)
    async with rt.store.transaction() as tx:
        # Locked: merged with what is stored now, so that two changes at once both hold.
        await tx.operators.lock(actor.operator_id)
        stored = {**await tx.mail.get_preferences(actor.operator_id), **values}
        if values:
            await tx.mail.set_preferences(actor.operator_id, stored, rt.clock.now())
        if previews is not None:
            await tx.push.set_previews(actor.operator_id, previews)
        if values.get("mail_digest"):
            await do_schedule_digest(rt, tx, actor.operator_id)
        preferences = preferences_of(stored)
        preferences[PUSH_PREVIEWS] = await tx.push.previews(actor.operator_id)
    return preferences


# --- refused addresses (shown to agents) ---


async def get_mail_failures(rt: Runtime, actor: Actor, website_id: str) -> list[MailFailure]:
    async with rt.store.read() as tx:
        # Another website's id answers as an unknown one does, as on every website route.
        missing = NotFound(f"no website {shown(website_id)}", "website_not_found")
        await check_role(tx, actor, website_id, ANY_ROLE, Scope.READ, missing=missing)
        return await tx.mail.list_failures(website_id, FAILURES_LIMIT)


# --- a transcript on request (the chatbox) ---


async def do_request_transcript(rt: Runtime, *, token: str, origin: str | None) -> None:
    """Mail the visitor their conversation, to the email they left (one pending at a time)."""
    if rt.mailer is None:
        raise Conflict("this server sends no mail", "mail_not_configured")
    async with rt.store.transaction() as tx:
        session = await access_visitor_session(rt, tx, token, origin)
        if not session.email:
            raise Invalid("leave your email first: the transcript is mailed to it", "email_missing")
        if await tx.conversations.get_by_session(session.id) is None:
            raise NotFound("there is no conversation to send yet", "conversation_not_found")
        await do_enqueue(
            rt,
            tx,
            JobKind.MAIL_TRANSCRIPT,
            key=f"{JobKind.MAIL_TRANSCRIPT}:{session.id}",
            session_id=session.id,
        )


# --- replies by mail (the SMTP listener, web/mail_in.py) ---


async def get_reply_address(rt: Runtime, address: str) -> ReplyAddress | None:
    """The live reply address `address` names, if any (checked at RCPT time): an operator's
    only while they are still a member of the conversation's website."""
    domain = rt.settings.mail_domain
    token = None if domain is None else reply_token_of(address, domain)
    if token is None:
        return None
    async with rt.store.read() as tx:
        target = await tx.mail.get_reply_address(hash_token(token), rt.clock.now())
        if target is None or target.operator_id is None:
            return target
        conversation = await tx.conversations.get(target.conversation_id)
        if conversation is None:
            return None
        role = await tx.members.get_role(target.operator_id, conversation.website_id)
        return None if role is None else target


async def do_receive_reply(
    rt: Runtime, address: str, text: str, mail_id: str, attachments: Sequence[Upload] = ()
) -> Message | None:
    """A reply by mail to `address`: its new text (quotes and signature removed) lands in the
    conversation as the visitor's or the operator's message (None when nothing is left of it),
    then each attachment as a file message, judged like any upload: one the website does not
    take (type, size, rate) is skipped and the rest still lands. `mail_id` (the Message-ID)
    makes a mail delivered twice one message each (text, attachment by its index)."""
    target = await get_reply_address(rt, address)
    if target is None:
        raise NotFound("no such reply address", "reply_address_unknown")
    body = strip_reply(text)[:MAX_BODY_CHARS]
    message: Message | None = None
    if body.strip():
        client_id = "mail:" + hash_token(mail_id)[:40]
        if target.operator_id is None:
            sent = await do_send_session_message(
                rt, target.session_id, client_id=client_id, body=body
            )
        else:
            sent = await do_send_operator_message(
                rt,
                Actor("operator", operator_id=target.operator_id),
                client_id=client_id,
                body=body,
                conversation_id=target.conversation_id,
            )
        message = sent.message
    for index, upload in enumerate(attachments[:MAX_MAILED_FILES], start=1):
        client_id = "mail:" + hash_token(f"{mail_id}#{index}")[:40]
        try:
            await do_store_mailed_file(rt, target, upload, client_id)
        except (TooLarge, UnsupportedType, Invalid, RateLimited) as exc:
            log.info("reply by mail: attachment %d skipped (%s)", index, exc.code)
    return message
