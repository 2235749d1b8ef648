"""Rules for operators' accounts: passwords, logins, one-time links, login rate limits."""

from __future__ import annotations

from datetime import timedelta

from causerie.domain.errors import Invalid
from causerie.domain.models import LinkPurpose
from causerie.domain.profiles import check_email

PASSWORD_MIN = 10
PASSWORD_MAX = 200  # argon2 hashes anything, but a megabyte "password" costs CPU for nothing

LOGIN_EXTEND_EVERY = timedelta(hours=1)  # a login in use is pushed forward at most this often

LINK_TTL = {LinkPurpose.SETUP: timedelta(days=1), LinkPurpose.INVITE: timedelta(days=7)}

FAILURE_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5  # failed logins for one address per window, then 429 until it ends
FAILURES_PER_NETWORK = 30  # from one /24 (IPv4) or /48 (IPv6) per window


def check_password(password: str) -> str:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise Invalid(f"a password is {PASSWORD_MIN} to {PASSWORD_MAX} characters", "weak_password")
    return password


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise Invalid("name: 1 to 200 characters", "invalid_name")
    return name


def check_operator_email(email: str) -> str:
    """An operator's address, lowercased: it is their login."""
    address = check_email(email)
    if address is None:
        raise Invalid("email: an operator needs an email address", "invalid_email")
    return address.lower()
