"""The words of the mail Causerie sends, in English and French, as plain text and HTML
(docs/notifications.md). The HTML part has the website's name and colour, no image and no
link but the inbox's and the unsubscribe page's: nothing in it can tell anyone that a mail was
opened (P16)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from html import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class MailKind(StrEnum):
    NEW_CONVERSATION = "new_conversation"  # to operators
    MENTION = "mention"  # to an operator
    REPLIES = "replies"  # to a visitor: agents' replies they have not seen
    TRANSCRIPT = "transcript"  # to a visitor, on request
    DIGEST = "digest"  # to an operator, daily


LANGUAGES = ("en", "fr")


@dataclass(frozen=True)
class Line:
    """One message as a mail shows it."""

    who: str
    body: str
    at: datetime


_SUBJECTS = {
    "en": {
        MailKind.NEW_CONVERSATION: "New conversation on {site}",
        MailKind.MENTION: "{who} mentioned you on {site}",
        MailKind.REPLIES: "{site}: new reply to your message",
        MailKind.TRANSCRIPT: "Your conversation with {site}",
        MailKind.DIGEST: "Your day on {site}",
    },
    "fr": {
        MailKind.NEW_CONVERSATION: "Nouvelle conversation sur {site}",
        MailKind.MENTION: "{who} vous a mentionné sur {site}",
        MailKind.REPLIES: "{site} : nouvelle réponse à votre message",
        MailKind.TRANSCRIPT: "Votre conversation avec {site}",
        MailKind.DIGEST: "Votre journée sur {site}",
    },
}
_INTROS = {
    "en": {
        MailKind.NEW_CONVERSATION: "A visitor wrote on {site} and no agent is online:",
        MailKind.MENTION: "{who} mentioned you in a note on {site}:",
        MailKind.REPLIES: "{site} answered you:",
        MailKind.TRANSCRIPT: "Here is your conversation with {site}, as you asked:",
        MailKind.DIGEST: "The last 24 hours on your websites:",
    },
    "fr": {
        MailKind.NEW_CONVERSATION: "Un visiteur a écrit sur {site} et aucun agent n'est en ligne :",
        MailKind.MENTION: "{who} vous a mentionné dans une note sur {site} :",
        MailKind.REPLIES: "{site} vous a répondu :",
        MailKind.TRANSCRIPT: "Voici votre conversation avec {site}, comme demandé :",
        MailKind.DIGEST: "Les dernières 24 heures sur vos sites :",
    },
}
_WORDS = {
    "en": {
        "reply": "Reply to this mail to answer in the conversation.",
        "open": "Open the conversation",
        "unsubscribe": "Stop these mails",
        "why_visitor": "You receive this mail because you left your address in the chat of {site}.",
        "why_operator": "You receive this mail because you answer the chat of {site}.",
        "visitor": "Visitor",
        "file": "File: {name}",
        "digest": "{conversations} new conversations, {visitor} messages from visitors, "
        "{operator} replies",
    },
    "fr": {
        "reply": "Répondez à ce message pour répondre dans la conversation.",
        "open": "Ouvrir la conversation",
        "unsubscribe": "Ne plus recevoir ces messages",
        "why_visitor": "Vous recevez ce message car vous avez laissé votre adresse "
        "dans la discussion de {site}.",
        "why_operator": "Vous recevez ce message car vous répondez à la discussion de {site}.",
        "visitor": "Visiteur",
        "file": "Fichier : {name}",
        "digest": "{conversations} nouvelles conversations, {visitor} messages de visiteurs, "
        "{operator} réponses",
    },
}
_TO_OPERATORS = frozenset({MailKind.NEW_CONVERSATION, MailKind.MENTION, MailKind.DIGEST})


def digest_line(language: str, conversations: int, visitor: int, operator: int) -> str:
    return _WORDS[language]["digest"].format(
        conversations=conversations, visitor=visitor, operator=operator
    )


def language_of(*candidates: str | None) -> str:
    """The first candidate that names a language mail is written in (`fr-CA` -> `fr`); `en`."""
    for candidate in candidates:
        if candidate:
            language = candidate.split("-")[0].split("_")[0].lower()
            if language in LANGUAGES:
                return language
    return "en"


def visitor_word(language: str) -> str:
    return _WORDS[language]["visitor"]


def file_line(language: str, name: str) -> str:
    """A file message as a mail shows it: its name (the file itself stays on the server)."""
    return _WORDS[language]["file"].format(name=name)


@dataclass(frozen=True)
class Composed:
    subject: str
    text: str
    html: str


def when(at: datetime, zone: str | None) -> str:
    """A message's time as a mail shows it: in `zone` (an IANA name, the visitor's) and named
    after it, else in UTC (a zone the server no longer knows too)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    if zone:
        try:
            return f"{at.astimezone(ZoneInfo(zone)):%Y-%m-%d %H:%M} {zone}"
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def compose(
    kind: MailKind,
    language: str,
    *,
    site: str,
    color: str,
    lines: list[Line],
    unsubscribe_url: str,
    link: str | None = None,
    who: str = "",
    can_reply: bool = False,
    zone: str | None = None,
) -> Composed:
    words = _WORDS[language]
    subject = _SUBJECTS[language][kind].format(site=site, who=who)
    intro = _INTROS[language][kind].format(site=site, who=who)
    why_key = "why_operator" if kind in _TO_OPERATORS else "why_visitor"
    why = words[why_key].format(site=site)

    text = [intro, ""]
    for line in lines:
        text += [f"{line.who} ({when(line.at, zone)}):", line.body, ""]
    if can_reply:
        text += [words["reply"], ""]
    if link:
        text += [f"{words['open']}: {link}", ""]
    text += ["-- ", why, f"{words['unsubscribe']}: {unsubscribe_url}"]

    e = escape
    rows = "".join(
        f'<p style="margin:0 0 12px"><strong>{e(line.who)}</strong> '
        f'<span style="color:#666">{e(when(line.at, zone))}</span><br>'
        f"{e(line.body).replace(chr(10), '<br>')}</p>"
        for line in lines
    )
    parts = [
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">',
        f"<title>{e(subject)}</title></head>",
        '<body style="font-family:sans-serif;color:#222;margin:0">',
        f'<div style="background:{e(color)};color:#fff;padding:12px 16px;font-weight:bold">',
        f"{e(site)}</div>",
        f'<div style="padding:16px"><p>{e(intro)}</p>{rows}',
    ]
    if can_reply:
        parts.append(f"<p>{e(words['reply'])}</p>")
    if link:
        parts.append(f'<p><a href="{e(link)}">{e(words["open"])}</a></p>')
    parts += [
        '<p style="color:#666;font-size:12px;border-top:1px solid #ddd;padding-top:8px">',
        f'{e(why)} <a href="{e(unsubscribe_url)}">{e(words["unsubscribe"])}</a></p>',
        "</div></body></html>",
    ]
    return Composed(subject=subject, text="\n".join(text) + "\n", html="".join(parts))
