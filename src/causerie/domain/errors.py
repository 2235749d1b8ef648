"""Errors the domain and the actions raise; the transport maps each kind to a status."""

from __future__ import annotations


class DomainError(Exception):
    """Base: carries a snake_case code and a message meant for the client."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class Invalid(DomainError):
    code = "invalid_request"


class NotFound(DomainError):
    code = "not_found"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class AccessEnded(DomainError):
    """An agent socket's credential or membership ended: the socket says why, then closes.

    Codes: `credential_revoked` (token revoked, logged out), `credential_expired` (the login
    ran out), `access_revoked` (removed from the website, or the website deleted). See
    docs/realtime.md "When access ends".
    """

    code = "access_revoked"


class Conflict(DomainError):
    code = "conflict"


class TooLarge(DomainError):
    """What the client sent is larger than a limit allows (a file, an image's pixels): 413."""

    code = "file_too_large"


class UnsupportedType(DomainError):
    """The content is of a type this place does not take (a website's `file_types`): 415."""

    code = "file_type_refused"


class Gone(DomainError):
    """The thing existed and was removed on purpose (an expired file): 410."""

    code = "gone"


def try_again_in(seconds: int) -> str:
    """The wait a refusal tells, in the `Retry-After` seconds: "1 second", "5 seconds"."""
    return f"try again in {seconds} second{'' if seconds == 1 else 's'}"


class RateLimited(DomainError):
    code = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)


class Unavailable(Exception):
    """A shared service (the broker, presence) cannot be reached right now.

    Not the client's fault: callers degrade (presence unknown, catch-up later) rather than fail.
    """


SHOWN = 64  # the characters of a value an error message echoes (docs/api.md, "Errors")


def shown(value: object) -> str:
    """`value` as an error message names it (`repr`), its first `SHOWN` characters and an
    ellipsis when it is longer: a 5,000-character id sent back in full helps no one."""
    if isinstance(value, str) and len(value) > SHOWN:
        return repr(value[:SHOWN]) + "…"
    return repr(value)


def cut(text: str) -> str:
    """`text` (a field's name, a client's id) as an error names it unquoted: its first `SHOWN`
    characters and an ellipsis when it is longer, as `shown`."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
