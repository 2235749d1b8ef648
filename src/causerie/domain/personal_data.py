"""Every stored field that holds personal data, declared once (P2), with why it is kept, on what
legal basis, and for how long. The processing register, the privacy notice and the data-subject
export are built from this list; tests/test_personal_data.py fails when a column of the schema is
neither declared here nor listed with a reason in `not_personal.NOT_PERSONAL`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from causerie.domain.retention import Rule


class Subject(StrEnum):
    VISITOR = "visitor"  # a person chatting through a website's chatbox
    OPERATOR = "operator"  # a person answering in the inbox


class Basis(StrEnum):
    """GDPR Art. 6(1) grounds."""

    CONTRACT = "contract"  # 6(1)(b): the chat the visitor starts, the operator's account
    LEGAL_OBLIGATION = "legal obligation"  # 6(1)(c): keeping connection data (P18)
    LEGITIMATE_INTEREST = "legitimate interest"  # 6(1)(f): security, abuse prevention
    CONSENT = "consent"  # 6(1)(a): what the visitor chooses to give


@dataclass(frozen=True)
class PersonalField:
    table: str
    column: str
    subject: Subject
    category: str  # the kind of data, as a register lists it
    purpose: str
    basis: Basis
    retention: str  # in words, naming the setting that bounds it

    @property
    def key(self) -> str:
        return f"{self.table}.{self.column}"


_TEMPORARY = (
    "with the session: CAUSERIE_TEMPORARY_SESSION_TTL (30 min) after the last access if no "
    "message is sent; otherwise until the conversation is deleted (by an agent, by the visitor, "
    "or after CAUSERIE_CONVERSATION_RETENTION once resolved)"
)
_ACCOUNT = "as long as the operator's account exists"
_PUSH = (
    "until the operator turns notifications off on that browser, removes it, or signs out "
    "there; with the login it was made with (its expiry, a password change elsewhere) or the "
    "API token (revoked); until its push service answers that it is gone (404, 410); with the "
    "account"
)
_FILES = (
    "with their conversation (deleted by an agent, by the visitor, or after "
    "CAUSERIE_CONVERSATION_RETENTION once resolved), or sooner when the website sets "
    "retention.files; the bytes are deleted from the file store once the row is gone"
)

PERSONAL: tuple[PersonalField, ...] = (
    PersonalField(
        "sessions",
        "ip",
        Subject.VISITOR,
        "connection data (IP address)",
        "bind the chat session to its connection; keep connection data as the law requires; "
        "protect the chatbox against botnets and spam (P17, P18)",
        Basis.LEGAL_OBLIGATION,
        "destroyed with a temporary session; for a visitor who chatted, "
        "CAUSERIE_CHAT_IP_RETENTION (365 days) after it was recorded",
    ),
    PersonalField(
        "sessions",
        "ip_seen_at",
        Subject.VISITOR,
        "connection data (time)",
        "date the IP address was recorded, to erase it on time",
        Basis.LEGAL_OBLIGATION,
        "erased with the IP address",
    ),
    PersonalField(
        "sessions",
        "user_agent",
        Subject.VISITOR,
        "technical data (browser)",
        "let agents understand the visitor's display and help with the site",
        Basis.LEGITIMATE_INTEREST,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "locale",
        Subject.VISITOR,
        "technical data (language)",
        "answer in the visitor's language",
        Basis.CONTRACT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "timezone",
        Subject.VISITOR,
        "technical data (time zone)",
        "show agents the visitor's local time",
        Basis.CONTRACT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "page_url",
        Subject.VISITOR,
        "browsing data (current page)",
        "show agents the page the visitor asks about",
        Basis.CONTRACT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "page_title",
        Subject.VISITOR,
        "browsing data (current page)",
        "show agents the page the visitor asks about",
        Basis.CONTRACT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "page_referrer",
        Subject.VISITOR,
        "browsing data (previous page)",
        "show agents how the visitor reached the page",
        Basis.LEGITIMATE_INTEREST,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "nickname",
        Subject.VISITOR,
        "identity (name given)",
        "address the visitor by the name they chose (optional, P5)",
        Basis.CONSENT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "email",
        Subject.VISITOR,
        "contact (email given)",
        "reach the visitor after they leave, if they ask for it (optional, P5)",
        Basis.CONSENT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "phone",
        Subject.VISITOR,
        "contact (phone given)",
        "reach the visitor, if they ask for it (optional, P5)",
        Basis.CONSENT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "data",
        Subject.VISITOR,
        "custom data set by the website",
        "context the website gives its agents (e.g. the visitor's plan)",
        Basis.CONTRACT,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "consent_version",
        Subject.VISITOR,
        "consent record",
        "prove the visitor accepted the website's notice, which version (P9)",
        Basis.LEGAL_OBLIGATION,
        _TEMPORARY,
    ),
    PersonalField(
        "sessions",
        "consent_at",
        Subject.VISITOR,
        "consent record",
        "prove when the visitor accepted the website's notice (P9)",
        Basis.LEGAL_OBLIGATION,
        _TEMPORARY,
    ),
    PersonalField(
        "messages",
        "body",
        Subject.VISITOR,
        "messages",
        "the conversation between the visitor and the website's agents",
        Basis.CONTRACT,
        "until the conversation is deleted (by an agent, by the visitor, or after "
        "CAUSERIE_CONVERSATION_RETENTION once resolved)",
    ),
    PersonalField(
        "messages",
        "event",
        Subject.OPERATOR,
        "the names in a thread's event lines (who transferred it, to whom)",
        "show agents what happened to the conversation, in their own language",
        Basis.LEGITIMATE_INTEREST,
        "with the message: until the conversation is deleted",
    ),
    PersonalField(
        "conversations",
        "labels",
        Subject.VISITOR,
        "the agents' classification of the conversation (labels)",
        "sort and find conversations in the inbox (docs/inbox.md)",
        Basis.LEGITIMATE_INTEREST,
        "until the conversation is deleted (by an agent, by the visitor, or after "
        "CAUSERIE_CONVERSATION_RETENTION once resolved), or the label is deleted",
    ),
    PersonalField(
        "files",
        "name",
        Subject.VISITOR,
        "files sent in the chat (name)",
        "show the file in the conversation under the name its sender gave it",
        Basis.CONTRACT,
        _FILES,
    ),
    PersonalField(
        "files",
        "store_key",
        Subject.VISITOR,
        "files sent in the chat (content: images stripped of their metadata, documents)",
        "let the visitor and the website's agents exchange files and screenshots",
        Basis.CONTRACT,
        _FILES,
    ),
    PersonalField(
        "files",
        "thumbnail_key",
        Subject.VISITOR,
        "files sent in the chat (an image's thumbnail)",
        "preview an image in the conversation",
        Basis.CONTRACT,
        _FILES,
    ),
    PersonalField(
        "ratings",
        "rating",
        Subject.VISITOR,
        "opinion (a rating of 1 to 5)",
        "let the website's team know how a resolved conversation went, and count it in reports",
        Basis.CONSENT,
        "with the conversation it rates (deleted with it)",
    ),
    PersonalField(
        "ratings",
        "comment",
        Subject.VISITOR,
        "opinion (the words given with a rating)",
        "let the website's team know how a resolved conversation went",
        Basis.CONSENT,
        "with the conversation it rates (deleted with it)",
    ),
    PersonalField(
        "operators",
        "email",
        Subject.OPERATOR,
        "contact (work email)",
        "log in to the inbox; receive invitations",
        Basis.CONTRACT,
        _ACCOUNT,
    ),
    PersonalField(
        "operators",
        "name",
        Subject.OPERATOR,
        "identity (display name)",
        "sign replies shown to visitors",
        Basis.CONTRACT,
        _ACCOUNT,
    ),
    PersonalField(
        "operators",
        "password_hash",
        Subject.OPERATOR,
        "credential (argon2 hash)",
        "log in to the inbox",
        Basis.CONTRACT,
        _ACCOUNT,
    ),
    PersonalField(
        "operators",
        "language",
        Subject.OPERATOR,
        "choice (the inbox's language)",
        "show the inbox in the language the operator chose",
        Basis.CONTRACT,
        _ACCOUNT,
    ),
    PersonalField(
        "operators",
        "last_login_at",
        Subject.OPERATOR,
        "activity (last login)",
        "security of the accounts (P4)",
        Basis.LEGITIMATE_INTEREST,
        _ACCOUNT,
    ),
    PersonalField(
        "logins",
        "created_at",
        Subject.OPERATOR,
        "activity (login time)",
        "keep the operator logged in; security of the accounts (P4)",
        Basis.LEGITIMATE_INTEREST,
        "CAUSERIE_LOGIN_TTL (14 days) after the login was last used",
    ),
    PersonalField(
        "logins",
        "last_seen_at",
        Subject.OPERATOR,
        "activity (last use of a login)",
        "end logins left unused; security of the accounts (P4)",
        Basis.LEGITIMATE_INTEREST,
        "CAUSERIE_LOGIN_TTL (14 days) after the login was last used",
    ),
    PersonalField(
        "push_subscriptions",
        "endpoint",
        Subject.OPERATOR,
        "device identifier (the browser's push address)",
        "deliver notifications to the browsers the operator turned them on for, through each "
        "browser's push service (a recipient, P11)",
        Basis.CONSENT,
        _PUSH,
    ),
    PersonalField(
        "push_subscriptions",
        "p256dh",
        Subject.OPERATOR,
        "device keys (public key)",
        "encrypt each notification for that browser alone (RFC 8291)",
        Basis.CONSENT,
        _PUSH,
    ),
    PersonalField(
        "push_subscriptions",
        "auth",
        Subject.OPERATOR,
        "device keys (authentication secret)",
        "encrypt each notification for that browser alone (RFC 8291)",
        Basis.CONSENT,
        _PUSH,
    ),
    PersonalField(
        "push_subscriptions",
        "device",
        Subject.OPERATOR,
        'technical data (browser and system, e.g. "Firefox on Android")',
        "let the operator tell their devices apart and remove one",
        Basis.CONSENT,
        _PUSH,
    ),
    PersonalField(
        "push_preferences",
        "previews",
        Subject.OPERATOR,
        "preference (message text in notifications)",
        "show message text in notifications only when the operator chose it",
        Basis.CONSENT,
        _ACCOUNT,
    ),
    PersonalField(
        "mail_failures",
        "address",
        Subject.VISITOR,
        "contact (an email address the mail server refused)",
        "stop mailing an address that does not work, and show agents why mail did not arrive "
        "(docs/notifications.md); an operator's address is recorded the same way",
        Basis.LEGITIMATE_INTEREST,
        "with the visitor's session (deleted with the conversation, erased on request) or "
        "the operator's account; an agent may remove it earlier",
    ),
    PersonalField(
        "mail_failures",
        "error",
        Subject.VISITOR,
        "contact (the mail server's answer, which may repeat the address)",
        "show agents why mail did not arrive",
        Basis.LEGITIMATE_INTEREST,
        "with the refused address",
    ),
    PersonalField(
        "mail_opt_outs",
        "created_at",
        Subject.VISITOR,
        "choice (unsubscribed from mail, and when)",
        "send no more mail to a visitor who unsubscribed (one click, RFC 8058)",
        Basis.LEGITIMATE_INTEREST,
        _TEMPORARY,
    ),
    PersonalField(
        "notification_preferences",
        "preferences",
        Subject.OPERATOR,
        "choice (which notifications to receive)",
        "notify the operator only of what they chose",
        Basis.CONTRACT,
        _ACCOUNT,
    ),
    PersonalField(
        "webhook_deliveries",
        "body",
        Subject.VISITOR,
        "the events sent to the website's webhooks (messages, conversation and visitor data)",
        "deliver, retry and redeliver the events the website's owners subscribed their own "
        "services to (P1, P11: each webhook is a recipient in the register)",
        Basis.CONTRACT,
        "with the session it is about (erasure, deletion, purge); otherwise 30 days after the "
        "event",
    ),
    PersonalField(
        "webhook_deliveries",
        "answer_head",
        Subject.VISITOR,
        "the first bytes of a webhook receiver's answer",
        "show the website's admins why a delivery failed (the delivery log)",
        Basis.LEGITIMATE_INTEREST,
        "with the delivery: with its session, otherwise 30 days after the event",
    ),
    PersonalField(
        "audit_log",
        "actor_id",
        Subject.OPERATOR,
        "activity (privileged actions)",
        "account for privileged actions: deletions, exports, settings (P4, P12, P20)",
        Basis.LEGITIMATE_INTEREST,
        "CAUSERIE_AUDIT_RETENTION (365 days)",
    ),
    PersonalField(
        "block_rules",
        "value",
        Subject.VISITOR,
        "connection data or contact (the IP address, network, email or user agent blocked)",
        "refuse the chatbox to an abusive visitor or network (P18)",
        Basis.LEGITIMATE_INTEREST,
        "until the rule's expiry (then the purge deletes it) or until an owner or admin removes "
        "it; a rule blocking a conversation's visitor goes, at the latest, when the chat IP "
        "retention (CAUSERIE_CHAT_IP_RETENTION or the website's shorter one, as it is at the "
        "purge) erases the address it copied",
    ),
    PersonalField(
        "block_rules",
        "ip_seen_at",
        Subject.VISITOR,
        "connection data (time)",
        "date the address a rule blocking a conversation's visitor copied was recorded, to "
        "delete the rule when the chat IP retention erases that address (P18)",
        Basis.LEGITIMATE_INTEREST,
        "with its rule",
    ),
    PersonalField(
        "block_rules",
        "reason",
        Subject.VISITOR,
        "free text about a blocked visitor, written by an owner or admin",
        "tell the website's managers why a visitor or network was blocked (P18)",
        Basis.LEGITIMATE_INTEREST,
        "with its rule: until its expiry or removal",
    ),
)


def declared(table: str, column: str) -> PersonalField | None:
    for item in PERSONAL:
        if item.table == table and item.column == column:
            return item
    return None


# The retention rules that erase each declared field (P6). The purge runs exactly the rules
# named here, in this order, plus the housekeeping of rows that hold no personal data; a test
# checks that every rule is reached and every visitor field is erased by some rule.
_WITH_SESSION = (Rule.TEMPORARY_SESSIONS, Rule.RESOLVED_CONVERSATIONS)
ERASED_BY: dict[str, tuple[Rule, ...]] = {
    "sessions.ip": (*_WITH_SESSION, Rule.CHAT_IPS),
    "sessions.ip_seen_at": (*_WITH_SESSION, Rule.CHAT_IPS),
    "sessions.*": _WITH_SESSION,
    "messages.body": _WITH_SESSION,
    "messages.event": _WITH_SESSION,
    "conversations.labels": _WITH_SESSION,
    "mail_failures.*": _WITH_SESSION,  # a visitor's; an operator's goes with the account
    "mail_opt_outs.*": _WITH_SESSION,
    "notification_preferences.*": (),  # kept while the account exists, and removed with it
    "files.*": (*_WITH_SESSION, Rule.FILES),
    "ratings.*": _WITH_SESSION,  # with their conversation (a cascading foreign key)
    "logins.*": (Rule.EXPIRED_LOGINS,),
    "audit_log.actor_id": (Rule.AUDIT_ENTRIES,),
    "webhook_deliveries.*": (*_WITH_SESSION, Rule.WEBHOOK_DELIVERIES),
    "operators.*": (),  # kept while the account exists, and removed with it
    # Kept while the operator keeps the browser subscribed; removed with the account (cascade).
    "push_subscriptions.*": (),
    "push_preferences.*": (),
    "block_rules.value": (Rule.EXPIRED_BLOCKS,),
    "block_rules.reason": (Rule.EXPIRED_BLOCKS,),
    "block_rules.ip_seen_at": (Rule.EXPIRED_BLOCKS,),
}
HOUSEKEEPING = (Rule.EXPIRED_LINKS,)


def erased_by(item: PersonalField) -> tuple[Rule, ...]:
    for key in (item.key, f"{item.table}.*"):
        if key in ERASED_BY:
            return ERASED_BY[key]
    raise KeyError(f"{item.key}: no retention rule declared in ERASED_BY")


def retention_rules() -> list[Rule]:
    """The rules the purge applies, in order: those the declarations name, then housekeeping."""
    rules = [rule for item in PERSONAL for rule in erased_by(item)]
    return list(dict.fromkeys([*rules, *HOUSEKEEPING]))
