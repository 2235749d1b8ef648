"""Every stored field that holds personal data, declared once (P2), with why it is kept, on what
legal basis, and for how long. The processing register, the privacy notice and the data-subject
export are built from this list; tests/test_personal_data.py fails when a column of the schema is
neither declared here nor listed in `NOT_PERSONAL` with a reason.
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
        "until the rule's expiry (then the purge deletes it) or until an owner or admin removes it",
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

# Columns that hold no personal data, by table, with the reason. Ids are random (tokens.new_id)
# and mean nothing outside the database; token hashes cannot be turned back into tokens.
_IDS = "random identifiers"
_TEAM = "the website's own configuration: a team's name, mode and capacity"
_TEAM_SEAT = "ids and the time of an operator's last assignment (round robin)"
_REPORTS = "reports' aggregates: hours, random ids of websites and agents, counts (P3)"
_REPORT_FACTS = "a conversation's times and agents' ids, gone with the conversation"
NOT_PERSONAL: dict[str, str] = {
    "block_rules.id": "a block rule's id, kind, scope, author and times",
    "block_rules.website_id": "a block rule's id, kind, scope, author and times",
    "block_rules.kind": "a block rule's id, kind, scope, author and times",
    "block_rules.created_at": "a block rule's id, kind, scope, author and times",
    "block_rules.created_by": "a block rule's id, kind, scope, author and times",
    "block_rules.expires_at": "a block rule's id, kind, scope, author and times",
    "spam_marks.conversation_id": "a conversation's id and when it was marked as spam",
    "spam_marks.marked_at": "a conversation's id and when it was marked as spam",
    "shield_counts.window_start": "aggregates keyed by a network's keyed hash, no address (P18)",
    "shield_counts.network": "aggregates keyed by a network's keyed hash, no address (P18)",
    "shield_counts.metric": "aggregates keyed by a network's keyed hash, no address (P18)",
    "shield_counts.count": "aggregates keyed by a network's keyed hash, no address (P18)",
    "websites.id": "the website's own configuration",
    "websites.name": "the website's own configuration",
    "websites.origins": "the website's own configuration",
    "websites.settings": "the website's own configuration",
    "websites.created_at": "the website's own configuration",
    "memberships.website_id": "ids, roles and times",
    "memberships.operator_id": "ids, roles and times",
    "memberships.role": "ids, roles and times",
    "memberships.created_at": "ids, roles and times",
    "api_tokens.id": "an integration's token: hash, name, scopes and times",
    "api_tokens.operator_id": "an integration's token: hash, name, scopes and times",
    "api_tokens.name": "an integration's token: hash, name, scopes and times",
    "api_tokens.token_hash": "an integration's token: hash, name, scopes and times",
    "api_tokens.scopes": "an integration's token: hash, name, scopes and times",
    "api_tokens.created_at": "an integration's token: hash, name, scopes and times",
    "api_tokens.last_used_at": "an integration's token: hash, name, scopes and times",
    "api_tokens.revoked_at": "an integration's token: hash, name, scopes and times",
    "api_tokens.website_ids": "an integration's token: hash, name, scopes and times",
    "account_links.id": "a one-time link's hash and times",
    "account_links.token_hash": "a one-time link's hash and times",
    "account_links.purpose": "a one-time link's hash and times",
    "account_links.operator_id": "a one-time link's hash and times",
    "account_links.created_at": "a one-time link's hash and times",
    "account_links.expires_at": "a one-time link's hash and times",
    "account_links.website_id": "a one-time link's hash and times",
    "account_links.role": "a one-time link's hash and times",
    # Background work (domain/jobs.py): listed column by column, since a job may be about a
    # person. It names them by their session's random id only, and goes with that session (the
    # foreign key cascades on erasure, deletion and purge: P9, P15, P20).
    "jobs.id": _IDS,
    "jobs.kind": "the kind of work (purge, search.reindex, ...)",
    "jobs.state": "queued, running or failed",
    "jobs.key": "an idempotency key made of kinds and random ids",
    "jobs.session_id": "the random id of the session a job is about; the job goes with it",
    "jobs.payload": "the job's arguments: random ids and settings, never contents",
    "jobs.attempts": "a count",
    "jobs.run_at": "scheduling times",
    "jobs.lease_until": "scheduling times",
    "jobs.last_error": "the last attempt's error: an exception's type and message from the code",
    "jobs.created_at": "scheduling times",
    "push_subscriptions.id": _IDS,
    "push_subscriptions.operator_id": _IDS,
    "push_subscriptions.created_at": "time a browser subscribed, kept with it",
    "push_subscriptions.login_id": _IDS,
    "push_subscriptions.token_id": _IDS,
    "push_preferences.operator_id": _IDS,
    "webhooks.id": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.website_id": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.url": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.events": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.secret": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.previous_secret": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.previous_until": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.enabled": "a website's own configuration: its endpoints, events and secrets",
    "webhooks.failing_since": "times of the endpoint's failures",
    "webhooks.disabled_at": "times of the endpoint's failures",
    "webhooks.created_at": "a website's own configuration: its endpoints, events and secrets",
    "webhook_deliveries.id": _IDS,
    "webhook_deliveries.webhook_id": _IDS,
    "webhook_deliveries.session_id": "the random id of the session a delivery is about; the "
    "delivery goes with it",
    "webhook_deliveries.event_type": "the event's type",
    "webhook_deliveries.state": "pending, delivered or failed",
    "webhook_deliveries.attempts": "a count",
    "webhook_deliveries.created_at": "times of the delivery",
    "webhook_deliveries.next_attempt_at": "times of the delivery",
    "webhook_deliveries.last_attempt_at": "times of the delivery",
    "webhook_deliveries.status_code": "the receiver's HTTP status",
    "webhook_deliveries.latency_ms": "a duration",
    "webhook_deliveries.error": "why an attempt failed: a status, a timeout or a refusal",
    "teams.id": _TEAM,
    "teams.website_id": _TEAM,
    "teams.name": _TEAM,
    "teams.mode": _TEAM,
    "teams.capacity": _TEAM,
    "teams.created_at": _TEAM,
    "team_members.team_id": _TEAM_SEAT,
    "team_members.operator_id": _TEAM_SEAT,
    "team_members.last_assigned_at": _TEAM_SEAT,
    "conversations.team_id": "a conversation's state, times, counts and ids",
    "conversations.resolved_at": "a conversation's state, times, counts and ids",
    "ratings.id": _IDS,
    "ratings.website_id": _IDS,
    "ratings.conversation_id": _IDS,
    "ratings.operator_id": _IDS,
    "ratings.resolved_at": "the time of the resolution rated, and of the rating",
    "ratings.created_at": "the time of the resolution rated, and of the rating",
    "purge_runs.*": "counts per retention rule",
    # Mail (docs/notifications.md): ids, hashes and times; the addresses are declared above.
    "reply_addresses.token_hash": "SHA-256 of a reply address's 256-bit token",
    "reply_addresses.conversation_id": _IDS,
    "reply_addresses.session_id": "the random id of the session; the row goes with it",
    "reply_addresses.operator_id": _IDS,
    "reply_addresses.created_at": "drives the reply address's expiry",
    "reply_addresses.expires_at": "drives the reply address's expiry",
    "mail_failures.id": _IDS,
    "mail_failures.website_id": _IDS,
    "mail_failures.session_id": "the random id of the session; the row goes with it",
    "mail_failures.operator_id": _IDS,
    "mail_failures.failed_at": "time of the refusal, kept with it",
    "mail_opt_outs.session_id": "the random id of the session; the row goes with it",
    "notification_preferences.operator_id": _IDS,
    "notification_preferences.updated_at": "time of the last change, kept with it",
    "network_stats.*": "counts per /24 or /48 network and day: aggregates (P18)",
    # Reports' hourly and daily rollups (docs/reports.md): counts and histograms of durations per
    # website and agent, label or team; aggregates that name no visitor (P3).
    "report_hours.website_id": _REPORTS,
    "report_hours.dimension": _REPORTS,
    "report_hours.key": _REPORTS,
    "report_hours.hour": _REPORTS,
    "report_hours.chatbox_loads": _REPORTS,
    "report_hours.sessions_created": _REPORTS,
    "report_hours.conversations_started": _REPORTS,
    "report_hours.conversations_resolved": _REPORTS,
    "report_hours.messages_visitor": _REPORTS,
    "report_hours.messages_operator": _REPORTS,
    "report_hours.ratings_count": _REPORTS,
    "report_hours.ratings_sum": _REPORTS,
    "report_days.started_hours": _REPORTS,
    "report_days.website_id": _REPORTS,
    "report_days.dimension": _REPORTS,
    "report_days.key": _REPORTS,
    "report_days.day": _REPORTS,
    "report_days.chatbox_loads": _REPORTS,
    "report_days.sessions_created": _REPORTS,
    "report_days.conversations_started": _REPORTS,
    "report_days.conversations_resolved": _REPORTS,
    "report_days.messages_visitor": _REPORTS,
    "report_days.messages_operator": _REPORTS,
    "report_days.ratings_count": _REPORTS,
    "report_days.ratings_sum": _REPORTS,
    "report_hour_buckets.website_id": _REPORTS,
    "report_hour_buckets.dimension": _REPORTS,
    "report_hour_buckets.key": _REPORTS,
    "report_hour_buckets.hour": _REPORTS,
    "report_hour_buckets.metric": _REPORTS,
    "report_hour_buckets.bucket": _REPORTS,
    "report_hour_buckets.n": _REPORTS,
    "report_day_buckets.website_id": _REPORTS,
    "report_day_buckets.dimension": _REPORTS,
    "report_day_buckets.key": _REPORTS,
    "report_day_buckets.day": _REPORTS,
    "report_day_buckets.metric": _REPORTS,
    "report_day_buckets.bucket": _REPORTS,
    "report_day_buckets.n": _REPORTS,
    "report_month_buckets.website_id": _REPORTS,
    "report_month_buckets.dimension": _REPORTS,
    "report_month_buckets.key": _REPORTS,
    "report_month_buckets.month": _REPORTS,
    "report_month_buckets.metric": _REPORTS,
    "report_month_buckets.bucket": _REPORTS,
    "report_month_buckets.n": _REPORTS,
    "report_day_histograms.website_id": _REPORTS,
    "report_day_histograms.day": _REPORTS,
    "report_day_histograms.metric": _REPORTS,
    "report_day_histograms.hist": _REPORTS,
    "report_day_histograms.median": _REPORTS,
    "report_day_histograms.p90": _REPORTS,
    "report_day_histograms.version": _REPORTS,
    "report_days.version": _REPORTS,
    "report_offset_days.website_id": _REPORTS,
    "report_offset_days.utc_offset": _REPORTS,
    "report_offset_days.day": _REPORTS,
    "report_offset_days.stamp": _REPORTS,
    "report_offset_days.chatbox_loads": _REPORTS,
    "report_offset_days.sessions_created": _REPORTS,
    "report_offset_days.conversations_started": _REPORTS,
    "report_offset_days.conversations_resolved": _REPORTS,
    "report_offset_days.messages_visitor": _REPORTS,
    "report_offset_days.messages_operator": _REPORTS,
    "report_offset_days.ratings_count": _REPORTS,
    "report_offset_days.ratings_sum": _REPORTS,
    "report_offset_days.first_response_median": _REPORTS,
    "report_offset_days.first_response_p90": _REPORTS,
    "report_offset_days.resolution_median": _REPORTS,
    "report_offset_days.resolution_p90": _REPORTS,
    # A conversation's times and the agents who answered and resolved it, like the
    # conversation's own row; goes with the conversation (cascade: P9, P15, P20).
    "report_conversations.conversation_id": _REPORT_FACTS,
    "report_conversations.website_id": _REPORT_FACTS,
    "report_conversations.started_at": _REPORT_FACTS,
    "report_conversations.visitor_started": _REPORT_FACTS,
    "report_conversations.first_response_at": _REPORT_FACTS,
    "report_conversations.first_responder_id": _REPORT_FACTS,
    "report_conversations.resolved_at": _REPORT_FACTS,
    "report_conversations.resolved_by": _REPORT_FACTS,
    "dpa_acceptances.id": "which agreement version a website accepted: ids and times",
    "dpa_acceptances.website_id": "which agreement version a website accepted: ids and times",
    "dpa_acceptances.version": "which agreement version a website accepted: ids and times",
    "dpa_acceptances.operator_id": "which agreement version a website accepted: ids and times",
    "dpa_acceptances.accepted_at": "which agreement version a website accepted: ids and times",
    "streams.*": "positions of event streams",
    "events.stream": "ids, types and positions; never content (docs/realtime.md)",
    "events.seq": "ids, types and positions; never content (docs/realtime.md)",
    "events.type": "ids, types and positions; never content (docs/realtime.md)",
    "events.object_id": "ids, types and positions; never content (docs/realtime.md)",
    "events.session_id": "ids, types and positions; never content (docs/realtime.md)",
    "events.data": "ids, types and positions; never content (docs/realtime.md)",
    "events.created_at": "ids, types and positions; never content (docs/realtime.md)",
    "conversations.id": "a conversation's state, times, counts and ids",
    "conversations.website_id": "a conversation's state, times, counts and ids",
    "conversations.session_id": "a conversation's state, times, counts and ids",
    "conversations.state": "a conversation's state, times, counts and ids",
    "conversations.assignee_id": "a conversation's state, times, counts and ids",
    "conversations.created_at": "a conversation's state, times, counts and ids",
    "conversations.updated_at": "a conversation's state, times, counts and ids",
    "conversations.last_message_at": "a conversation's state, times, counts and ids",
    "conversations.unread_by_visitor": "a conversation's state, times, counts and ids",
    "conversations.unread_by_operator": "a conversation's state, times, counts and ids",
    "conversations.visitor_read_up_to": "a conversation's state, times, counts and ids",
    "conversations.operator_read_up_to": "a conversation's state, times, counts and ids",
    # Canned replies and labels (domain/replies.py, domain/labels.py): texts and names the
    # website's admins write for every conversation, about no one in particular.
    "canned_replies.id": _IDS,
    "canned_replies.website_id": _IDS,
    "canned_replies.shortcut": "the website's prepared answers, written by its admins",
    "canned_replies.title": "the website's prepared answers, written by its admins",
    "canned_replies.body": "the website's prepared answers, written by its admins",
    "canned_replies.created_at": "times of the website's configuration",
    "canned_replies.updated_at": "times of the website's configuration",
    "labels.id": _IDS,
    "labels.website_id": _IDS,
    "labels.name": "the website's labels, named by its admins",
    "labels.color": "the website's labels, named by its admins",
    "labels.created_at": "times of the website's configuration",
    "files.id": _IDS,
    "files.message_id": _IDS,
    "files.size": "a file's size in bytes",
    "files.content_type": "a file's type, as judged from its content",
    "files.created_at": "time a file was sent, kept with it",
    "files.expired_at": "time a file's bytes were deleted by its retention",
    "messages.seq": _IDS,
    "messages.id": _IDS,
    "messages.conversation_id": _IDS,
    "messages.author": "visitor, operator or system",
    "messages.operator_id": _IDS,
    "messages.type": "text, note, file or event",
    "messages.client_id": "a random id the sender's device chose",
    "messages.created_at": "time of a message, kept with it",
    "sessions.id": _IDS,
    "sessions.website_id": _IDS,
    "sessions.token_hash": "SHA-256 of the cookie token",
    "sessions.state": "temporary or permanent",
    "sessions.created_at": "time of the session, kept with it",
    "sessions.last_access_at": "drives the temporary session's expiry",
    "sessions.permanent_since": "time of the first message",
    "operators.id": _IDS,
    "operators.password_is_temporary": "a flag",
    "operators.created_at": "time the account was made",
    "logins.id": _IDS,
    "logins.operator_id": _IDS,
    "logins.token_hash": "SHA-256 of the cookie token",
    "logins.expires_at": "drives the login's expiry",
    "audit_log.id": _IDS,
    "audit_log.at": "time of the action",
    "audit_log.actor_type": "operator, cli or system",
    "audit_log.action": "what was done",
    "audit_log.website_id": _IDS,
    "audit_log.target_type": "the kind of object",
    "audit_log.target_id": _IDS,
    "audit_log.details": "ids and counts only (tests/test_api_v1.py checks)",
}


def declared(table: str, column: str) -> PersonalField | None:
    for item in PERSONAL:
        if item.table == table and item.column == column:
            return item
    return None


def not_personal_reason(table: str, column: str) -> str | None:
    for key in (f"{table}.{column}", f"{table}.*"):
        if key in NOT_PERSONAL:
            return NOT_PERSONAL[key]
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
