"""The shield (P18): what is counted per network, how a network is named without its address, the
proof-of-work challenge, crawlers, and block rules. Pure: the counting and the state live behind
the `Counters` and `Aggregates` ports (docs/security.md "The shield")."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from causerie.domain.errors import shown
from causerie.domain.networks import network_of
from causerie.domain.profiles import MAX_EMAIL

# What is counted per network and time window (the aggregates of P18).
METRICS = (
    "loads",  # chatbox loads (session requests, renewed or not)
    "sessions",  # sessions created
    "conversations",  # conversations started
    "messages",  # visitor messages
    "uploads",  # files uploaded by visitors
    "limited",  # requests refused by a rate limit
    "challenged",  # session requests answered with a challenge
    "blocked",  # requests refused by a block (a rule or the automatic defence)
    "flagged",  # bot signs: the honeypot filled, a wrong or missing proof of work
)
AGGREGATE_WINDOW = timedelta(minutes=10)


def network_key(secret_key: str, ip: str) -> str:
    """The network of `ip` (IPv4 /24, IPv6 /48) as a keyed hash: stable on this server, meaning
    nothing without its secret key, and never the address. What every aggregate is keyed by."""
    return _network_hash(secret_key, network_of(ip))


@lru_cache(maxsize=4096)  # every chatbox load counts its network: the same few, hashed once
def _network_hash(secret_key: str, network: str) -> str:
    version = 6 if ":" in network else 4
    return f"v{version}-{hmac_hex(secret_key, 'network', network)[:21]}"


def hmac_hex(secret_key: str, purpose: str, value: str) -> str:
    return hmac.new(
        secret_key.encode("utf-8"), f"{purpose}:{value}".encode(), hashlib.sha256
    ).hexdigest()


# A conversation's first visitor message is a spam campaign's sign when many conversations of one
# website open with it within a window: people write their own questions, a botnet pastes one text
# into every session, at whatever pace the server answers (docs/security.md "The shield").
OPENING_WINDOW = timedelta(minutes=10)
_OPENING_MIN_WORDS = 3  # "hello", "bonjour", "hi there": greetings everyone types are not signs
_OPENING_MIN_LETTERS = 16
_WORD = re.compile(r"\w+")


def opening_key(secret_key: str, website_id: str, body: str) -> str | None:
    """The keyed hash of a conversation's opening text, as it is counted across the website's
    conversations: case, spacing and punctuation aside. None for an opening too short to be a
    sign. Only the hash is kept, for one window: never the text (P18)."""
    words = _WORD.findall(body.casefold())
    if len(words) < _OPENING_MIN_WORDS or sum(map(len, words)) < _OPENING_MIN_LETTERS:
        return None
    return hmac_hex(secret_key, "opening", f"{website_id}:{' '.join(words)}")[:32]


# A conversation started sooner after its session opened than `CAUSERIE_SHIELD_HASTY_DELAY` is
# at a bot's pace: a person's chatbox opens its session when the page loads (or when the chatbox
# is opened), and the person then finds it, reads it and types. One such opening says little (a
# website's own script may send a message at once); more than `CAUSERIE_SHIELD_HASTY_OPENINGS`
# of them from one network within `HASTY_WINDOW` is automation, however few sessions that is.
# Time, not counts of requests: the sign comes at the sessions' first messages, however few
# requests the node has served (docs/security.md "Conversations started at a bot's pace").
HASTY_WINDOW = timedelta(seconds=10)
# How long a network found starting conversations at a bot's pace is held at least: its score
# is raised by what decays to the block score in this long, so that it stays above it that long
# if the network stops; persisting keeps it blocked, as any block.
HASTY_HOLD = timedelta(seconds=30)


def is_hasty(opened: datetime, started: datetime, delay_seconds: float) -> bool:
    """True when a conversation started at `started` in a session opened at `opened` came
    sooner than a person could write (`delay_seconds`; 0: the sign is off)."""
    return delay_seconds > 0 and (started - opened).total_seconds() < delay_seconds


def hold_score(block_score: float, half_life: timedelta, hold: timedelta) -> float:
    """The score that decays below `block_score` in `hold`, halving every `half_life`."""
    return float(block_score * 2 ** (hold / half_life))


def network_label(key: str) -> str:
    """A label for the shield page that names no address and no country: the family (/24 or
    /48) and the start of the keyed hash."""
    family, _, digest = key.partition("-")
    size = "/48" if family == "v6" else "/24"
    return f"IPv{family[1:] or '?'} {size} #{digest[:6]}"


# -- a node's view of the automatic defence's blocks ---------------------------------------------


@dataclass
class HeldBlock:
    """A network this node found blocked by the automatic defence, so that its next requests are
    refused before any route, read or body (`web/shield_gate.py`). The bot score stays the truth,
    in the counters: it is asked again at `recheck`, with `persisting` (the refusals since)
    added to it, as each would have added itself."""

    ends: datetime  # when the score decays below the block score, if nothing more comes
    recheck: datetime  # min(ends, a few seconds on): the score is asked again from then
    persisting: int = 0


# -- proof of work (no third party, P16) -------------------------------------------------------

CHALLENGE_TTL = timedelta(minutes=5)


@dataclass(frozen=True)
class Challenge:
    """SHA-256 of `nonce:solution` must start with `bits` zero bits. The nonce is signed with the
    network's key and a time, so the server keeps no state and a solution serves one network."""

    nonce: str
    bits: int


def make_nonce(secret_key: str, network: str, now: datetime, bits: int) -> str:
    """A nonce of its own for each challenge: two browsers of one network challenged within the
    same second (an office opening the site at nine) each get theirs, since a nonce serves one
    session (a shared one refused the second browser's proof as reused, raising the score)."""
    stamp = str(int(now.timestamp()))
    unique = secrets.token_hex(8)
    signature = hmac_hex(secret_key, "challenge", f"{network}:{stamp}:{bits}:{unique}")[:24]
    return f"{stamp}.{bits}.{unique}.{signature}"


def check_solution(
    secret_key: str, network: str, now: datetime, nonce: str, solution: str, min_bits: int
) -> bool:
    """True when `solution` solves a nonce this server gave `network` within `CHALLENGE_TTL`,
    asking at least `min_bits`."""
    parts = nonce.split(".")
    if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
        return False
    stamp, bits = int(parts[0]), int(parts[1])
    if bits < min_bits or len(solution) > 64:
        return False
    expected = hmac_hex(secret_key, "challenge", f"{network}:{parts[0]}:{bits}:{parts[2]}")[:24]
    if not _equal(expected, parts[3]):
        return False
    age = now.timestamp() - stamp
    if age < -5 or age > CHALLENGE_TTL.total_seconds():
        return False
    return leading_zero_bits(hashlib.sha256(f"{nonce}:{solution}".encode()).digest()) >= bits


def _equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(nonce: str, bits: int) -> str:
    """What the chatbox computes (widget/challenge.js); here for tests and the bench."""
    counter = 0
    while True:
        candidate = str(counter)
        digest = hashlib.sha256(f"{nonce}:{candidate}".encode()).digest()
        if leading_zero_bits(digest) >= bits:
            return candidate
        counter += 1


# -- crawlers ----------------------------------------------------------------------------------

_CRAWLERS = re.compile(
    r"bot\b|crawler|spider|slurp|facebookexternalhit|embedly|bingpreview|scrapy",
    re.IGNORECASE,
)


def is_crawler(user_agent: str) -> bool:
    """Known crawlers (search engines, link previews) load the chatbox without a session being
    created for them. Headless browsers and HTTP libraries are not named: tests, monitoring and
    the website's own tools use them, and the rate limits hold them anyway."""
    return bool(user_agent) and _CRAWLERS.search(user_agent) is not None


# -- block rules -------------------------------------------------------------------------------


class BlockKind(StrEnum):
    ADDRESS = "address"
    NETWORK = "network"
    EMAIL = "email"
    USER_AGENT = "user_agent"


MAX_REASON = 500
MAX_VALUE = 512


@dataclass(frozen=True)
class BlockRule:
    id: str
    website_id: str | None  # None: server-wide
    kind: BlockKind
    value: str
    reason: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None = None
    # When the session recorded the address a rule made by "block this visitor" copied (None:
    # typed by hand): the purge ends the rule by the chat IP retention from then (P18).
    ip_seen_at: datetime | None = None


# The widest network a block rule may name, by IP version: a /8 holds 16 million IPv4 addresses.
WIDEST_BLOCK = {4: 8, 6: 16}


def normalize_value(kind: BlockKind, value: str) -> str:
    """The rule's value in the form it is matched in; ValueError naming what is wrong."""
    value = value.strip()
    if not value:
        raise ValueError("value must not be empty")
    if len(value) > MAX_VALUE:
        raise ValueError(f"value is longer than {MAX_VALUE} characters")
    if kind is BlockKind.ADDRESS:
        try:
            address = ipaddress.ip_address(value)
        except ValueError:
            raise ValueError(f"{shown(value)} is not an IP address") from None
        if isinstance(address, ipaddress.IPv6Address) and address.scope_id:
            # A visitor's address never carries a zone: the rule would never match.
            raise ValueError(f"{shown(value)} names a zone (%{address.scope_id}): give the address")
        return str(address)
    if kind is BlockKind.NETWORK:
        try:
            network = _as_visitors_network(ipaddress.ip_network(value, strict=False))
        except ValueError:
            raise ValueError(
                f"{shown(value)} is not a network (CIDR, e.g. 203.0.113.0/24)"
            ) from None
        widest = WIDEST_BLOCK[network.version]
        if network.prefixlen < widest:  # 0.0.0.0/0 would refuse every visitor
            raise ValueError(
                f"{network} is wider than a /{widest}: it would block a large part of the internet"
            )
        return str(network)
    if kind is BlockKind.EMAIL:
        # `name@domain` or `@domain`: a rule of another shape (`*@domain`, `name@`) was stored
        # and matched no email at all.
        local, at, domain = value.rpartition("@")
        if not at or not domain or "@" in local or re.search(r"[\s*]", value):
            raise ValueError(
                f"{shown(value)} is not an email address or @domain "
                "(@example.com blocks the domain)"
            )
        if len(value) > MAX_EMAIL:  # no visitor's email is longer: the rule would match none
            raise ValueError(f"an email is at most {MAX_EMAIL} characters")
        return value.lower()
    if not value.replace("*", "").strip():  # as 0.0.0.0/0 would, it refuses every visitor
        raise ValueError(f"{shown(value)} matches every browser: it would block every visitor")
    return value


def _as_visitors_network(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """An IPv4-mapped IPv6 network (`::ffff:203.0.113.0/120`) as the IPv4 network it holds: a
    visitor's mapped address is matched as IPv4 (`_address`), so the IPv6 form matched none."""
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.network_address.ipv4_mapped is not None
    ):
        mapped = network.network_address.ipv4_mapped
        return ipaddress.ip_network(f"{mapped}/{network.prefixlen - 96}")
    return network


def active(rule: BlockRule, now: datetime) -> bool:
    return rule.expires_at is None or rule.expires_at > now


def matching_rule(
    rules: tuple[BlockRule, ...],
    now: datetime,
    *,
    ip: str | None = None,
    user_agent: str | None = None,
    email: str | None = None,
) -> BlockRule | None:
    """The first active rule that matches what is known of a visitor."""
    address = _address(ip)
    for rule in rules:
        if active(rule, now) and _matches(rule, address, user_agent, email):
            return rule
    return None


def _matches(
    rule: BlockRule,
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    user_agent: str | None,
    email: str | None,
) -> bool:
    if rule.kind is BlockKind.ADDRESS:
        return address is not None and _address(rule.value) == address
    if rule.kind is BlockKind.NETWORK:
        if address is None:
            return False
        try:  # a mapped network stored before it was made IPv4 matches too
            return address in _as_visitors_network(ipaddress.ip_network(rule.value, strict=False))
        except (ValueError, TypeError):
            return False
    if rule.kind is BlockKind.EMAIL:
        return bool(email) and _email_matches(rule.value, (email or "").lower())
    return bool(user_agent) and _agent_matches(rule.value, user_agent or "")


def _address(ip: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def names_person(rule: BlockRule, ip: str | None, email: str | None) -> bool:
    """Whether the rule holds this person's own address or email (not a network or a domain,
    which name many): personal data about them, which their export shows (P9)."""
    if rule.kind is BlockKind.ADDRESS:
        address = _address(ip)
        return address is not None and _address(rule.value) == address
    return rule.kind is BlockKind.EMAIL and bool(email) and rule.value == (email or "").lower()


def _email_matches(rule: str, email: str) -> bool:
    """`someone@example.com` matches that address; `@example.com` every address of the domain."""
    if rule.startswith("@"):
        return email.endswith(rule)
    return email == rule


def _agent_matches(rule: str, user_agent: str) -> bool:
    """A user-agent pattern: `*` stands for anything; without one, a case-insensitive part."""
    if "*" not in rule:
        return rule.lower() in user_agent.lower()
    pattern = ".*".join(re.escape(part) for part in rule.lower().split("*"))
    return re.fullmatch(pattern, user_agent.lower()) is not None
