"""The `Mailer` port's adapter (SMTP through aiosmtplib) and the inbound SMTP listener's server
side; docs/notifications.md."""

from __future__ import annotations

from causerie.domain.mail import Mailer
from causerie.settings import Settings


def open_mailer(settings: Settings) -> Mailer | None:
    """The mailer `CAUSERIE_SMTP_URL` names; None when it is unset (mail features are off)."""
    if settings.smtp_url is None:
        return None
    from causerie.mail.smtp import SmtpMailer

    return SmtpMailer(settings.smtp_url, settings.sender)
