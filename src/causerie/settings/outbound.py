"""What Causerie sends and receives beyond the web: mail, Web Push and webhooks
(docs/notifications.md, docs/webhooks.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from causerie.settings.addresses import ListenAddress, MailDomain, MailFrom, PushContact, SmtpUrl
from causerie.settings.declare import setting
from causerie.settings.units import Duration, Switch


class OutboundSettings(BaseModel):
    model_config = ConfigDict(defer_build=True)  # only validated as part of Settings

    smtp_url: SmtpUrl = setting(
        "",
        "Unset: no email. `smtp://USER:PASSWORD@HOST:PORT`, `smtps://` for TLS from the "
        "start, `?starttls=true` to upgrade a plain `smtp://` connection (not both); the "
        "password is never shown in an error (docs/notifications.md).",
        hidden=True,
    )
    mail_from: MailFrom = setting(
        "",
        "Sender of the mail Causerie sends (`chat@example.org` or `Example "
        "<chat@example.org>`); unset: `causerie@` the public URL's host.",
    )
    notify_delay: Duration = setting(
        "2m",
        "How long a new conversation stays unanswered (no agent online), or an agent's reply "
        "unseen by the visitor, before it is mailed.",
    )
    mail_domain: MailDomain = setting(
        "",
        "Domain of the reply addresses `reply+TOKEN@DOMAIN` set as `Reply-To`; unset: mail "
        "has no `Reply-To`, and replies by mail are off. Its MX must reach "
        "`CAUSERIE_SMTP_LISTEN`.",
    )
    smtp_listen: ListenAddress = setting(
        "",
        "`HOST:PORT` where `causerie serve` receives replies by mail (SMTP, aiosmtpd); unset: "
        "none received.",
    )
    push_contact: PushContact = setting(
        "",
        "A mailto: or https: address push services may contact about this server's pushes "
        "(the VAPID subject); unset: CAUSERIE_PUBLIC_URL.",
    )
    push_allow_private: Switch = setting(
        "false",
        "Let Web Push endpoints be loopback, private or link-local addresses, or plain http "
        "(tests and private networks only).",
    )
    webhook_allow_private: Switch = setting(
        "false",
        "true: webhooks may target loopback, private and link-local addresses, and plain "
        "http:// (tests, private networks). false: https:// public addresses only.",
    )
    webhook_timeout: Duration = setting(
        "10s",
        "How long a webhook receiver has to answer an attempt (the contract says 10 s).",
    )
