"""`SmtpMailer`: sends each `Mail` through the SMTP server of `CAUSERIE_SMTP_URL` with aiosmtplib
(docs/notifications.md): `smtps://` speaks TLS from the start, `?starttls=true` upgrades a plain
connection, `user:password@` authenticates. One connection per mail: mail is rare next to chat.

Every mail is multipart/alternative (plain text, then HTML) and carries the one-click
unsubscribe headers of RFC 8058 (`List-Unsubscribe` with an https URL,
`List-Unsubscribe-Post: List-Unsubscribe=One-Click`).
"""

from __future__ import annotations

from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

import aiosmtplib

from causerie.domain.mail import Mail, MailRefused

SEND_TIMEOUT = 30.0  # seconds for the whole exchange; a slower server is retried later

# How a mail is written on the wire. aiosmtplib's own flattening folds headers at 78 characters,
# and Python folds a word longer than that (the unsubscribe URL) into RFC 2047 encoded words:
# `List-Unsubscribe: =?utf-8?q?=3Chttps=3A//...`, which RFC 2369 readers do not decode, so
# one-click unsubscribe found no URL. Lines may reach 998 characters (RFC 5322, 2.1.1).
WIRE = policy.SMTP.clone(max_line_length=998)


class SmtpMailer:
    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        self._tls = parts.scheme == "smtps"
        self._starttls = parts.query.lower() == "starttls=true"
        self._host = parts.hostname or "localhost"
        self._port = parts.port or (465 if self._tls else 587 if self._starttls else 25)
        self._username = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender
        self._sender_address = parseaddr(sender)[1]

    @property
    def relay(self) -> str:
        return f"{self._host}:{self._port}"

    def message(self, mail: Mail) -> EmailMessage:
        """The mail as it leaves: headers, a plain text part and an HTML part."""
        msg = EmailMessage()
        msg["From"] = self._sender
        msg["To"] = mail.to
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(usegmt=True)
        domain = self._sender_address.rpartition("@")[2] or None
        msg["Message-ID"] = make_msgid(domain=domain)
        if mail.reply_to:
            msg["Reply-To"] = mail.reply_to
        msg["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
        msg["Content-Language"] = mail.language
        msg.set_content(mail.text)
        msg.add_alternative(mail.html, subtype="html")
        return msg

    async def send(self, mail: Mail) -> None:
        try:
            Address(addr_spec=mail.to)
        except (ValueError, IndexError) as exc:
            raise MailRefused(f"not a mail address: {exc}") from None
        try:
            await aiosmtplib.send(
                self.message(mail).as_bytes(policy=WIRE),
                sender=self._sender_address,
                recipients=[mail.to],
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._tls,
                start_tls=self._starttls,
                timeout=SEND_TIMEOUT,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            # A 4xx at RCPT (greylisting, a full mailbox, a busy server) says "try again
            # later": the job is retried with its backoff. Only a 5xx refuses the address.
            if all(each.code >= 500 for each in exc.recipients):
                raise MailRefused(
                    "; ".join(f"{e.code} {e.message}" for e in exc.recipients)
                ) from None
            raise
        except aiosmtplib.SMTPRecipientRefused as exc:
            if exc.code >= 500:
                raise MailRefused(f"{exc.code} {exc.message}") from None
            raise
        except aiosmtplib.SMTPDataError as exc:
            # Refused after the recipient was accepted (content, size): as final for this mail.
            # Authentication or sender errors are the server's set-up, not the address's: they
            # are retried, and the job fails visibly (`causerie jobs list`).
            if exc.code >= 500:
                raise MailRefused(f"{exc.code} {exc.message}") from None
            raise

    async def close(self) -> None:
        return None
