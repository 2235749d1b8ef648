"""The plan of `bench/seed_inbox.py`: every session, conversation and message, generated in
memory from a seeded random generator (what it makes is described there)."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

OTHER_SHARE = 0.10  # of the conversations, on the second website
SPAN = timedelta(days=730)
SIGMA = 1.1  # of the log-normal number of messages per conversation
US = 1_000_000  # microseconds per second
EPOCH = datetime(1970, 1, 1)

# Words the bench searches for (`q=`): one in about 1 message in 60, one in about 1 in 100,000.
COMMON_WORD = "refund"
RARE_WORD = "chargeback"

VISITOR_LINES = (
    "Hello, is anyone there?",
    "Hi! I have a question about my order #{n}.",
    "When will my parcel arrive? It has been a week.",
    "Can I change the delivery address of order #{n}?",
    "I would like a refund for the blue sweater, it is too small.",
    "Do you ship to Belgium and Switzerland?",
    "The promo code SPRING{n} does not work at checkout.",
    "Thanks a lot, that was quick!",
    "Is the {item} available in size M? The page says out of stock.",
    "My payment was taken twice, can you check please? Order #{n}.",
    "ok",
    "Perfect, thank you.",
    "I can't log in to my account, the reset email never arrives.",
    "What is the difference between the classic and the premium {item}?",
    "Hello, I ordered on Monday and still have no tracking number. The confirmation email "
    "says it should ship within 48 hours, and I need it before the weekend. Could you tell me "
    "where it is, or cancel it if it has not left yet? Order #{n}, thanks.",
    "Can I pick it up in store instead?",
    "Yes",
    "No, that's all. Have a nice day!",
)
OPERATOR_LINES = (
    "Hello! Let me check that for you.",
    "Your order #{n} left our warehouse yesterday; the tracking link is in your email.",
    "I have refunded the difference, you will see it in 3 to 5 days.",
    "Yes, we ship to all EU countries; delivery takes 3 to 6 working days.",
    "The code has expired, but I applied the same discount to your order.",
    "Could you send me the email address used for the order?",
    "Done! Anything else I can help with?",
    "The {item} is back in stock on Friday. Shall I reserve one?",
    "I am sorry for the trouble. I have forwarded this to our logistics team, who will contact "
    "the carrier today and get back to you by email within 24 hours with news of your parcel.",
    "You're welcome, have a great day!",
)
NOTE_LINES = (
    "Customer since 2021, VIP: be generous.",
    "Asked logistics about this one, waiting for their answer.",
    "Second complaint this month about the same carrier.",
    "Refund approved by Marie.",
)
ITEMS = ("sweater", "raincoat", "backpack", "kettle", "lamp", "sneakers", "scarf", "mug")
NAMES = (
    "Alice",
    "Bob",
    "Camille",
    "Dmitri",
    "Elena",
    "Farid",
    "Gina",
    "Hugo",
    "Ines",
    "Jonas",
    "Kenji",
    "Lea",
    "Marta",
    "Noah",
    "Olga",
    "Pablo",
    "Quentin",
    "Rosa",
    "Sami",
    "Zoe",
)
USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:133.0) Gecko/20100101 Firefox/133.0",
)
LOCALES = (
    ("en", "Europe/London"),
    ("fr", "Europe/Paris"),
    ("de", "Europe/Berlin"),
    ("en", "America/New_York"),
    (None, None),
)


@dataclass
class Plan:
    sessions: list[tuple[Any, ...]]
    conversations: list[tuple[Any, ...]]
    messages: list[tuple[Any, ...]]  # in time order; created_at (microseconds) last
    on_website: dict[str, int]
    big: tuple[str, int]
    typical: tuple[str, int]


def _counts(rng: random.Random, conversations: int, messages: int) -> list[int]:
    """Messages per conversation: log-normal, at least 1 each, summing to exactly `messages`."""
    weights = [rng.lognormvariate(0.0, SIGMA) for _ in range(conversations)]
    scale = messages / sum(weights)
    counts = [max(1, round(w * scale)) for w in weights]
    diff = messages - sum(counts)
    while diff:
        i = rng.randrange(conversations)
        if diff > 0:
            counts[i] += 1
            diff -= 1
        elif counts[i] > 1:
            counts[i] -= 1
            diff += 1
    return counts


def _line(rng: random.Random, lines: Sequence[str]) -> str:
    line = rng.choice(lines)
    if "{" in line:
        line = line.format(n=rng.randrange(10_000, 99_999), item=rng.choice(ITEMS))
    return line


def _id(rng: random.Random) -> str:
    # Like causerie.tokens.new_id (24 characters of [a-z2-7]), from the seeded generator.
    return base64.b32encode(rng.randbytes(15)).decode("ascii").lower()


def _times(rng: random.Random, start: int, count: int, now: int) -> list[int]:
    """`count` message times (microseconds) from `start`: a reply every minute or so, sometimes
    days later; squeezed to end before `now`."""
    times = [start]
    t = start
    for _ in range(count - 1):
        mean = 2 * 86_400 if rng.random() < 0.04 else 75
        t += int(rng.expovariate(1 / mean) * US) + US
        times.append(t)
    latest = now - 60 * US
    if t > latest:
        factor = (latest - start) / (t - start)
        times = [start + int((x - start) * factor) for x in times]
    return times


def make_plan(
    rng: random.Random,
    conversations: int,
    messages: int,
    websites: tuple[str, str],
    operators: dict[str, list[str]],  # website id -> operator ids
    now: datetime,
) -> Plan:
    now_us = (now.replace(tzinfo=None) - EPOCH) // timedelta(microseconds=1)
    span_us = SPAN // timedelta(microseconds=1)
    counts = _counts(rng, conversations, messages)
    on_other = int(conversations * OTHER_SHARE)
    sessions: list[tuple[Any, ...]] = []
    convs: list[tuple[Any, ...]] = []
    msgs: list[tuple[Any, ...]] = []
    on_website = {"conversations": 0, "open": 0, "unassigned_open": 0, "mine": 0, "messages": 0}
    big = ("", 0)
    typical: tuple[str, int, int] = ("", 0, 0)  # id, messages, last message time
    for i, count in enumerate(counts):
        website = websites[1] if i < on_other else websites[0]
        ops = operators[website]
        conv_id, session_id = _id(rng), _id(rng)
        start = now_us - int(rng.random() * span_us)
        times = _times(rng, start, count, now_us)
        last = times[-1]
        recent = now_us - last < 3 * 86_400 * US
        is_open = rng.random() < (0.7 if recent else 0.08)
        assignee = None if rng.random() < 0.35 else rng.choice(ops)
        # (author, type, operator) of each message, then the read marks.
        kinds: list[tuple[str, str, str | None]] = [("visitor", "text", None)]
        for _ in range(count - 1):
            r = rng.random()
            who = assignee or rng.choice(ops)
            if r < 0.50:
                kinds.append(("visitor", "text", None))
            elif r < 0.97:
                kinds.append(("operator", "text", who))
            else:
                kinds.append(("operator", "note", who))
        ids = [_id(rng) for _ in range(count)]
        for k in range(count):
            author, type_, op = kinds[k]
            lines = (
                NOTE_LINES
                if type_ == "note"
                else VISITOR_LINES
                if author == "visitor"
                else OPERATOR_LINES
            )
            body = _line(rng, lines)
            if author == "visitor" and rng.random() < 2e-5:
                body += f" Otherwise I will file a {RARE_WORD} with my bank."
            client_id = f"{rng.getrandbits(128):032x}"
            msgs.append((ids[k], conv_id, author, op, type_, body, client_id, times[k]))
        visible = [k for k in range(count) if kinds[k][1] != "note"]
        trailing_visitor = 0
        for k in reversed(visible):
            if kinds[k][0] != "visitor":
                break
            trailing_visitor += 1
        seen_by_operator = [k for k in visible if kinds[k][0] == "operator"]
        if is_open:
            unread_by_operator = trailing_visitor
            op_mark = (
                visible[len(visible) - trailing_visitor - 1]
                if trailing_visitor < len(visible)
                else None
            )
            vis_mark = max((k for k in visible if kinds[k][0] == "visitor"), default=None)
            unread_by_visitor = sum(1 for k in seen_by_operator if vis_mark is None or k > vis_mark)
        else:
            unread_by_operator = unread_by_visitor = 0
            op_mark = vis_mark = visible[-1]
        state = "open" if is_open else "resolved"
        updated = last + (rng.randrange(60, 3_600) * US if not is_open else 0)
        updated = min(updated, now_us)
        convs.append(
            (
                conv_id,
                website,
                session_id,
                state,
                assignee,
                start - 1_000,
                updated,
                last,
                unread_by_visitor,
                unread_by_operator,
                None if vis_mark is None else ids[vis_mark],
                None if op_mark is None else ids[op_mark],
            )
        )
        sessions.append(_session(rng, session_id, website, start, last, now_us))
        if website == websites[0]:
            on_website["conversations"] += 1
            on_website["messages"] += count
            on_website["open"] += is_open
            on_website["unassigned_open"] += is_open and assignee is None
            on_website["mine"] += assignee == ops[0]
            if count > big[1]:
                big = (conv_id, count)
            # typical: the median-ish thread, as recent as can be
            if count == 10 and last > typical[2]:
                typical = (conv_id, count, last)
    msgs.sort(key=lambda m: m[-1])
    return Plan(sessions, convs, msgs, on_website, big, typical[:2])


def _session(
    rng: random.Random, session_id: str, website: str, start: int, last: int, now: int
) -> tuple[Any, ...]:
    created = start - rng.randrange(5, 600) * US
    access = min(last + rng.randrange(0, 600) * US, now)
    named = rng.random() < 0.4
    name = rng.choice(NAMES)
    locale, timezone = rng.choice(LOCALES)
    data = {"plan": rng.choice(("free", "pro")), "customer": rng.randrange(1, 99_999)}
    return (
        session_id,
        website,
        f"{rng.getrandbits(256):064x}",
        "permanent",
        created,
        access,
        start,
        f"203.0.113.{rng.randrange(1, 255)}",
        access,
        rng.choice(USER_AGENTS),
        locale,
        timezone,
        f"https://shop.example/products/{rng.randrange(1, 500)}",
        f"{rng.choice(ITEMS).capitalize()} | Shop",
        rng.choice(("", "", "https://www.google.com/")),
        name if named else None,
        f"{name.lower()}.{rng.randrange(1, 9_999)}@mail.example" if named else None,
        None,
        json.dumps(data if rng.random() < 0.1 else {}),
    )
