"""Settings: one typed, immutable object built once at start (docs/settings.md).

Each setting is read from the environment (`CAUSERIE_*`) or from `causerie.toml` in the data
folder; the environment wins. One table, `SPECS`, drives parsing, validation and the docs test.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import stat
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from causerie.private_files import make_private_dir

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class SettingsError(ValueError):
    """A setting has a value Causerie cannot run with; the message names it."""


_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+)\s*(B|KiB|MiB)?\s*$")
_SIZE_UNITS = {None: 1, "B": 1, "KiB": 1024, "MiB": 1024 * 1024}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|m)\s*$")


def parse_duration(text: str, *, allow_forever: bool = False) -> timedelta | None:
    """`90s`, `30m`, `12h`, `182d`; `forever` (returned as None) where allowed."""
    if allow_forever and text.strip() == "forever":
        return None
    match = _DURATION.match(text)
    if not match or int(match.group(1)) == 0:
        hint = ", or 'forever'" if allow_forever else ""
        raise ValueError(f"expected a positive number and a unit s, m, h or d (e.g. 30m){hint}")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError("expected a positive size such as 64KiB or 1MiB")
    return int(match.group(1)) * _SIZE_UNITS[match.group(2)]


def _parse_positive_int(text: str) -> int:
    if not text.strip().isdigit() or int(text) == 0:
        raise ValueError("expected a positive whole number")
    return int(text)


def _parse_bits(text: str) -> int:
    value = _parse_positive_int(text)
    if value > 24:
        raise ValueError("expected a whole number from 1 to 24")
    return value


def _parse_emails(text: str) -> frozenset[str]:
    emails = frozenset(e.strip().lower() for e in text.split(",") if e.strip())
    for email in emails:
        if "@" not in email:
            raise ValueError(f"{email!r} is not an email address")
    return emails


def parse_rate(text: str) -> float:
    """Frames per second from `20/s` or `600/m`."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) == 0:
        raise ValueError("expected a rate such as 20/s or 600/m")
    return int(match.group(1)) / (1 if match.group(2) == "s" else 60)


def _parse_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("expected an http:// or https:// address")
    return text.strip().rstrip("/")


def _parse_database_url(text: str) -> str:
    text = text.strip()
    if not (text.startswith("sqlite") or text.startswith("postgres")):
        raise ValueError("expected sqlite:///PATH or postgresql://USER@HOST:PORT/DB")
    return text


def _parse_redis_url(text: str) -> str | None:
    text = text.strip()
    if not text:
        return None
    if not text.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("expected redis://HOST:PORT/DB")
    return text


def _parse_proxies(text: str) -> tuple[IpNetwork, ...]:
    networks = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or CIDR network") from None
    return tuple(networks)


def _parse_smtp_url(text: str) -> str | None:
    """`smtp://user:pass@host:port`, `smtps://...` (TLS from the start), `?starttls=true`."""
    text = text.strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("expected smtp://USER:PASSWORD@HOST:PORT or smtps://...")
    if parts.query and parts.query.lower() not in ("starttls=true", "starttls=false"):
        raise ValueError("the only option is ?starttls=true")
    try:
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise ValueError("the port must be a number") from None
    return text


_MAIL_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_MAIL_FROM = re.compile(r"^(?:[^<>]*<([^<>]+)>|([^<>]+))$")


def _parse_mail_from(text: str) -> str | None:
    """`chat@example.org` or `Example Chat <chat@example.org>`."""
    text = text.strip()
    if not text:
        return None
    match = _MAIL_FROM.match(text)
    address = (match.group(1) or match.group(2)).strip() if match else ""
    if not _MAIL_ADDRESS.match(address):
        raise ValueError("expected an address such as chat@example.org or Name <chat@example.org>")
    return text


_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]{1,63}$")


def _parse_mail_domain(text: str) -> str | None:
    text = text.strip().lower()
    if not text:
        return None
    if not _DOMAIN.match(text):
        raise ValueError("expected a domain name such as reply.example.org")
    return text


def _parse_listen(text: str) -> tuple[str, int] | None:
    """`HOST:PORT` (`[::1]:2525` for IPv6)."""
    text = text.strip()
    if not text:
        return None
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("expected HOST:PORT, such as 0.0.0.0:25 or 127.0.0.1:2525")
    return host, int(port)


def _parse_optional_url(text: str) -> str | None:
    return _parse_url(text) if text.strip() else None


@dataclass(frozen=True)
class S3Location:
    """Where `CAUSERIE_FILE_STORE=s3://bucket/prefix` keeps files: keys `prefix/ID` in `bucket`."""

    bucket: str
    prefix: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"


# S3's rules for bucket names (what S3-compatible servers accept too): 3 to 63 characters.
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_PREFIX = re.compile(r"[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*")


def _parse_file_store(text: str) -> S3Location | None:
    """`file` (the data folder: None) or `s3://bucket/prefix`."""
    text = text.strip()
    if text == "file":
        return None
    parts = urlsplit(text)
    if parts.scheme != "s3" or parts.query or parts.fragment or "@" in parts.netloc:
        raise ValueError("expected file (the data folder) or s3://BUCKET/PREFIX")
    if not _BUCKET.fullmatch(parts.netloc) or ".." in parts.netloc:
        raise ValueError(f"{parts.netloc!r} is not an S3 bucket name")
    prefix = parts.path.strip("/")
    if prefix and (not _PREFIX.fullmatch(prefix) or ".." in prefix.split("/")):
        raise ValueError(f"{prefix!r} is not a usable prefix (letters, digits, . _ - and /)")
    return S3Location(bucket=parts.netloc, prefix=prefix)


def _parse_secret(text: str) -> str:
    if len(text) < 32:
        raise ValueError("must be at least 32 characters of random text")
    return text


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ValueError("expected true or false")


def _parse_push_contact(text: str) -> str | None:
    value = text.strip()
    if not value:
        return None
    if not (value.startswith("mailto:") and "@" in value) and not value.startswith("https://"):
        raise ValueError("expected mailto:ADDRESS or an https:// URL")
    return value


def _parse_session_start(text: str) -> str:
    value = text.strip().lower()
    if value not in ("load", "open"):
        raise ValueError("expected load (on page load) or open (when the chatbox is opened)")
    return value


def _parse_log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ValueError("expected debug, info, warning or error")
    return level


# Values that may hold a password: never echoed in an error message.
_SECRET_VALUES = frozenset({"secret_key", "database_url", "redis_url", "smtp_url"})


@dataclass(frozen=True)
class Spec:
    """One setting: its variable name, default (as text), parser and a line of documentation."""

    name: str
    default: str | None
    parse: Callable[[str], Any]
    doc: str

    @property
    def env(self) -> str:
        return "CAUSERIE_" + self.name.upper()


SPECS: tuple[Spec, ...] = (
    Spec(
        "data_dir",
        "./causerie-data",
        str,
        "Folder for the SQLite file, the secret key and causerie.toml.",
    ),
    Spec(
        "database_url",
        None,
        _parse_database_url,
        "SQLite file in the data folder, or postgresql://...",
    ),
    Spec("redis_url", "", _parse_redis_url, "Unset: in-process broker and counters (one node)."),
    Spec(
        "public_url",
        "http://127.0.0.1:8000",
        _parse_url,
        "Address visitors' browsers use to reach the server.",
    ),
    Spec(
        "secret_key",
        None,
        _parse_secret,
        "Generated on first run and kept in the data folder (mode 600).",
    ),
    Spec(
        "trusted_proxies",
        "",
        _parse_proxies,
        "Proxies (addresses or CIDR) allowed to set X-Forwarded-For.",
    ),
    Spec("max_body", "64KiB", parse_size, "Largest JSON body accepted; larger ones get 413."),
    Spec(
        "max_file", "10MiB", parse_size, "Largest file accepted in an upload; larger ones get 413."
    ),
    Spec(
        "file_store",
        "file",
        _parse_file_store,
        "Where files are kept: file (the data folder) or s3://BUCKET/PREFIX.",
    ),
    Spec(
        "s3_endpoint",
        "",
        _parse_optional_url,
        "Address of an S3-compatible server; unset: AWS S3.",
    ),
    Spec(
        "frame_rate",
        "20/s",
        parse_rate,
        "WebSocket frames per second per socket (bursts of twice that).",
    ),
    Spec(
        "new_session_rate",
        "120/m",
        parse_rate,
        "New chatbox sessions from one network (IPv4 /24, IPv6 /48), across nodes with Redis.",
    ),
    Spec(
        "address_session_rate",
        "60/m",
        parse_rate,
        "New chatbox sessions from one address (token bucket, bursts of a minute's worth).",
    ),
    Spec(
        "website_session_rate",
        "3000/m",
        parse_rate,
        "New chatbox sessions on one website, whatever their networks.",
    ),
    Spec(
        "message_rate",
        "30/m",
        parse_rate,
        "Messages a visitor's session sends, over HTTP and WebSocket (bursts of 20 s' worth).",
    ),
    Spec(
        "network_message_rate",
        "600/m",
        parse_rate,
        "Visitor messages from one network (IPv4 /24, IPv6 /48), across its sessions.",
    ),
    Spec("profile_rate", "10/m", parse_rate, "Profile updates a visitor's session makes."),
    Spec("upload_rate", "10/m", parse_rate, "Files a visitor's session uploads."),
    Spec("network_upload_rate", "60/m", parse_rate, "Files visitors of one network upload."),
    Spec(
        "login_rate",
        "20/m",
        parse_rate,
        "Agent login attempts from one address, right or wrong (failures have their own limits).",
    ),
    Spec(
        "shield_challenge_rate",
        "30/m",
        parse_rate,
        "New sessions from one network before each further one needs a proof of work.",
    ),
    Spec(
        "shield_challenge_bits",
        "14",
        _parse_bits,
        "Difficulty of the proof of work: leading zero bits of a SHA-256 (1 to 24).",
    ),
    Spec(
        "shield_block_score",
        "20",
        _parse_positive_int,
        "A network whose bot score reaches this is blocked until the score decays below it.",
    ),
    Spec(
        "shield_half_life",
        "10m",
        lambda t: parse_duration(t),
        "A network's bot score halves every this long (the block decays with it).",
    ),
    Spec(
        "shield_retention",
        "30d",
        lambda t: parse_duration(t),
        "How long the shield's per-network counts per 10 minutes are kept (keyed hashes, P18).",
    ),
    Spec(
        "shield_admins",
        "",
        _parse_emails,
        "Emails of the operators who manage server-wide block rules (/api/v1/blocks).",
    ),
    Spec(
        "ws_idle_timeout",
        "90s",
        lambda t: parse_duration(t),
        "A WebSocket that sends nothing (not even a ping) for this long is closed.",
    ),
    Spec(
        "cookie_max_age",
        "182d",
        lambda t: parse_duration(t),
        "Lifetime of the chatbox cookie, renewed on every load (P14).",
    ),
    Spec(
        "login_ttl",
        "14d",
        lambda t: parse_duration(t),
        "An inbox login ends after this long without use.",
    ),
    Spec(
        "temporary_session_ttl",
        "30m",
        lambda t: parse_duration(t),
        "A session without messages is destroyed this long after its last access (P15, P17).",
    ),
    Spec(
        "chat_ip_retention",
        "365d",
        lambda t: parse_duration(t, allow_forever=True),
        "How long the IP of a visitor who chatted is kept (P18); 'forever' allowed.",
    ),
    Spec(
        "conversation_retention",
        "forever",
        lambda t: parse_duration(t, allow_forever=True),
        "Resolved conversations idle this long are deleted; 'forever' keeps them.",
    ),
    Spec(
        "audit_retention",
        "365d",
        lambda t: parse_duration(t, allow_forever=True),
        "How long audit entries are kept; 'forever' allowed.",
    ),
    Spec(
        "session_start",
        "load",
        _parse_session_start,
        "load: the chatbox session starts on page load (P14, P15); open: nothing is stored "
        "on the device and no session exists until the visitor opens the chatbox.",
    ),
    Spec(
        "purge_interval",
        "1m",
        lambda t: parse_duration(t),
        "How often the server runs the retention rules by itself.",
    ),
    Spec(
        "job_lease",
        "5m",
        lambda t: parse_duration(t),
        "A background job whose node stops renewing its claim for this long (the node died) "
        "runs again on another node.",
    ),
    Spec(
        "smtp_url",
        "",
        _parse_smtp_url,
        "Unset: no email. smtp://USER:PASSWORD@HOST:PORT, smtps:// for TLS, ?starttls=true.",
    ),
    Spec(
        "mail_from",
        "",
        _parse_mail_from,
        "Sender of the mail Causerie sends; unset: causerie@ the public URL's host.",
    ),
    Spec(
        "notify_delay",
        "2m",
        lambda t: parse_duration(t),
        "How long a new conversation or an agent's reply waits unanswered or unseen before "
        "it is mailed (docs/notifications.md).",
    ),
    Spec(
        "mail_domain",
        "",
        _parse_mail_domain,
        "Domain of the reply addresses reply+TOKEN@DOMAIN; unset: no Reply-To, replies by mail "
        "off.",
    ),
    Spec(
        "smtp_listen",
        "",
        _parse_listen,
        "HOST:PORT where `causerie serve` receives replies by mail (SMTP); unset: not received.",
    ),
    Spec(
        "push_contact",
        "",
        _parse_push_contact,
        "A mailto: or https: address push services may contact about this server's pushes "
        "(the VAPID subject); unset: CAUSERIE_PUBLIC_URL.",
    ),
    Spec(
        "push_allow_private",
        "false",
        _parse_bool,
        "Let Web Push endpoints be loopback, private or link-local addresses, or plain http "
        "(tests and private networks only).",
    ),
    Spec(
        "webhook_allow_private",
        "false",
        _parse_bool,
        "true: webhooks may target loopback, private and link-local addresses, and plain "
        "http:// (tests, private networks). false: https:// public addresses only.",
    ),
    Spec(
        "webhook_timeout",
        "10s",
        lambda t: parse_duration(t),
        "How long a webhook receiver has to answer an attempt (the contract says 10 s).",
    ),
    Spec(
        "access_log",
        "true",
        _parse_bool,
        "Log one line per request (method, path, status, time; never an IP).",
    ),
    Spec("log_level", "info", _parse_log_level, "debug, info, warning or error."),
)


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    trusted_proxies: tuple[IpNetwork, ...] = ()
    max_body: int = 64 * 1024
    max_file: int = 10 * 1024 * 1024
    file_store: S3Location | None = None
    s3_endpoint: str | None = None
    frame_rate: float = 20.0
    new_session_rate: float = 2.0  # per second: 120 a minute
    address_session_rate: float = 1.0
    website_session_rate: float = 50.0
    message_rate: float = 0.5
    network_message_rate: float = 10.0
    profile_rate: float = 10 / 60
    upload_rate: float = 10 / 60
    network_upload_rate: float = 1.0
    login_rate: float = 20 / 60
    shield_challenge_rate: float = 0.5
    shield_challenge_bits: int = 14
    shield_block_score: int = 20
    shield_half_life: timedelta = timedelta(minutes=10)
    shield_retention: timedelta = timedelta(days=30)
    shield_admins: frozenset[str] = frozenset()
    ws_idle_timeout: timedelta = timedelta(seconds=90)
    cookie_max_age: timedelta = timedelta(days=182)
    login_ttl: timedelta = timedelta(days=14)
    temporary_session_ttl: timedelta = timedelta(minutes=30)
    chat_ip_retention: timedelta | None = timedelta(days=365)
    conversation_retention: timedelta | None = None
    audit_retention: timedelta | None = timedelta(days=365)
    session_start: str = "load"
    purge_interval: timedelta = timedelta(minutes=1)
    job_lease: timedelta = timedelta(minutes=5)
    smtp_url: str | None = None
    push_contact: str | None = None
    push_allow_private: bool = False
    mail_from: str | None = None
    notify_delay: timedelta = timedelta(minutes=2)
    mail_domain: str | None = None
    smtp_listen: tuple[str, int] | None = None
    webhook_allow_private: bool = False
    webhook_timeout: timedelta = timedelta(seconds=10)
    access_log: bool = True
    log_level: str = "INFO"
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sender(self) -> str:
        """Who the mail Causerie sends is from."""
        host = urlsplit(self.public_url).hostname or "localhost"
        return self.mail_from or f"Causerie <causerie@{host}>"


def _read_toml(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        raw = tomllib.loads(path.read_text("utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML ({exc})") from None
    known = {spec.name for spec in SPECS}
    values = {}
    for key, value in raw.items():
        name = key.lower().removeprefix("causerie_")
        if name not in known:
            raise SettingsError(f"{path}: unknown setting {key!r}")
        if name == "data_dir":
            raise SettingsError(f"{path}: data_dir cannot be set in the file that lives in it")
        values[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return values


def _secret_key(data_dir: Path) -> str:
    """Read the data folder's secret key, creating it (mode 600) on first run.

    The key is written to a private temporary file and linked into place, so a process starting
    at the same moment sees either no key or a whole one, never a half-written file.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        temporary = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process created it first: use theirs
        finally:
            temporary.unlink()
    try:
        return _parse_secret(path.read_text("ascii").strip())
    except (ValueError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not a usable secret key ({exc})") from None


def _unusable(data_dir: Path, exc: OSError) -> SettingsError:
    where = f" ({exc.filename})" if exc.filename else ""
    return SettingsError(
        f"CAUSERIE_DATA_DIR: cannot use {data_dir}: {exc.strerror or exc}{where}; "
        "it must be a folder this account can read and write"
    )


def load_settings(environ: Mapping[str, str] | None = None, **overrides: str) -> Settings:
    """Build the settings from overrides, then the environment, then causerie.toml, then defaults.

    Creates the data folder (its owner's only, tightened if an older version left it readable)
    and its secret key on first use. Raises SettingsError naming the
    first bad setting.
    """
    env = os.environ if environ is None else environ
    by_name = {spec.name: spec for spec in SPECS}

    def raw(name: str, file_values: Mapping[str, str]) -> tuple[str | None, str]:
        if name in overrides:
            return overrides[name], "the command line"
        spec = by_name[name]
        if spec.env in env:
            return env[spec.env], "the environment"
        if name in file_values:
            return file_values[name], "causerie.toml"
        return spec.default, "the default"

    data_dir_text, _ = raw("data_dir", {})
    data_dir = Path(data_dir_text or "./causerie-data").expanduser().resolve()
    try:
        make_private_dir(data_dir)
    except OSError as exc:
        raise SettingsError(
            f"CAUSERIE_DATA_DIR: cannot create {data_dir}: {exc.strerror}"
        ) from None
    try:
        file_values = _read_toml(data_dir / "causerie.toml")
    except OSError as exc:
        raise _unusable(data_dir, exc) from None

    values: dict[str, Any] = {"data_dir": data_dir}
    sources: dict[str, str] = {}
    for spec in SPECS[1:]:
        text, source = raw(spec.name, file_values)
        sources[spec.name] = source
        if text is None:
            continue
        try:
            values[spec.name] = spec.parse(text)
        except ValueError as exc:
            shown = "(value hidden)" if spec.name in _SECRET_VALUES else f"= {text!r}"
            raise SettingsError(f"{spec.env} {shown} (from {source}): {exc}") from None

    if values.get("s3_endpoint") and values.get("file_store") is None:
        raise SettingsError(
            "CAUSERIE_S3_ENDPOINT is set, but CAUSERIE_FILE_STORE is not an s3:// URL: files "
            "would stay in the data folder"
        )
    values.setdefault("database_url", f"sqlite:///{data_dir / 'causerie.db'}")
    if "secret_key" not in values:
        try:
            values["secret_key"] = _secret_key(data_dir)
        except OSError as exc:
            raise _unusable(data_dir, exc) from None
    return Settings(**values, sources=sources)
