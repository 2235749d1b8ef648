"""What a reply by mail says, without what it quotes (docs/notifications.md, "Replies by mail").

Mail clients put the new text first, then the history: an attribution line ("On Mon, 7 Dec 2026 at
10:02, Ada <ada@example.org> wrote:", "Le lun. 7 déc. 2026 à 10:02, Ada a écrit :", and German,
Spanish, Italian, Dutch and Portuguese ones), or a separator
("-----Original Message-----"), or Outlook's header block ("From: ... / Sent: ... / Subject: ...",
"De : ... / Envoyé : ... / Objet : ..."), then lines quoted with `>`. A signature starts at a line
`-- `. `strip_reply` keeps what comes before all of that, and what a visitor wrote under an
attribution and its quote (bottom-posting, or answers between quoted lines). A line shaped like an
attribution that no quote follows is the visitor's own ("On your website the FAQ wrote:"), kept
with what follows it; one that nothing follows goes (a client dropped its quote). An attribution in
another language, or wrapped over three lines (Gmail wraps a long name and address), is told by its
shape: a line with a date that ends in `:` and after which only quoted lines follow.
A line starting with one space then `>` is a `format=flowed` line of the writer's own, stuffed
(RFC 3676 4.4, " >From the FAQ"), not a quote: it is kept, its space removed. Runs of blank
lines (Apple Mail's HTML keeps three newlines in a row) land as one blank line.
"""

from __future__ import annotations

import re

# An attribution may be wrapped over two lines by the client: each pattern is tried on a line
# and on that line joined to the next.
_ATTRIBUTIONS = (
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba\s+[ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb\b.{0,300}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribi[óo]\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Il\b.{0,300}\bha\s+scritto\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Op\b.{0,300}\bschreef\b.{0,300}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Em\b.{0,300}\bescreveu\s*:\s*$", re.IGNORECASE | re.DOTALL),
)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Message d'origine|Message original|Forwarded message|"
    r"Message transféré)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")

# Outlook quotes without `>`: a header block of the mail answered, in the client's language,
# sometimes bold (`*From:*`) once its HTML is written as text.
_HEADER_FROM = re.compile(r"^\s*\*?(From|De|Von|Da|Van)\s?:\*?\s*\S", re.IGNORECASE)
_HEADER_DATE = re.compile(
    r"^\s*\*?(Sent|Date|Envoy[ée]|Gesendet|Datum|Inviato|Enviado|Verzonden)\s?:", re.IGNORECASE
)
_HEADER_SUBJECT = re.compile(
    r"^\s*\*?(Subject|Objet|Betreff|Oggetto|Asunto|Onderwerp)\s?:", re.IGNORECASE
)
_BLANK_RUNS = re.compile(r"\n{3,}")
_HEADER_LINES = 6  # From, Sent, To, Cc, Subject (and one wrapped line)
_WRAPPED = 3  # an attribution over at most this many lines


def _quoted(line: str) -> bool:
    """Whether `line` is quoted: `>` first, perhaps after spaces, but not after exactly one
    space, the stuffing of a writer's own line that starts with `>` (RFC 3676 4.4)."""
    return line.lstrip().startswith(">") and not line.startswith(" >")


def _attribution(lines: list[str], at: int, quotes_only_from: int) -> int:
    """How many lines the attribution starting at `at` takes (0: none; it may be wrapped over
    the next lines); from `quotes_only_from` on, the mail holds quoted lines only."""
    if not lines[at].strip():
        return 0
    for count in range(1, _WRAPPED + 1):
        if at + count > len(lines):
            break
        last = lines[at + count - 1]
        if not last.strip() or _quoted(last):
            break  # an attribution is wrapped, never split by a blank or a quoted line
        joined = " ".join(line.strip() for line in lines[at : at + count])
        if any(p.match(joined) for p in _ATTRIBUTIONS):
            return count
        if joined.endswith(":") and re.search(r"\d", joined) and at + count >= quotes_only_from:
            return count
    return 0


def _quoted_next(lines: list[str], at: int) -> bool:
    """Whether the first line from `at` that is not blank is quoted with `>`."""
    following = next((line for line in lines[at:] if line.strip()), "")
    return _quoted(following)


def _quotes_only_from(lines: list[str]) -> int:
    """The index after the mail's last line of its own (not blank, not quoted), when quoted
    lines follow it; else past the end, so that no shape-told attribution is found."""
    for at in range(len(lines) - 1, -1, -1):
        line = lines[at]
        if line.strip() and not _quoted(line):
            quoted_after = any(_quoted(later) for later in lines[at + 1 :])
            return at + 1 if quoted_after else len(lines) + 1
    return len(lines) + 1


def _is_header_block(lines: list[str], at: int) -> bool:
    """Whether Outlook's header block of the mail answered starts at `at`."""
    if not _HEADER_FROM.match(lines[at]):
        return False
    block = lines[at + 1 : at + 1 + _HEADER_LINES]
    return any(_HEADER_DATE.match(line) for line in block) and any(
        _HEADER_SUBJECT.match(line) for line in block
    )


def strip_reply(text: str) -> str:
    """The new text of a reply: quoted history, attribution lines and signature removed."""
    # A no-break space (HTML's `&nbsp;`, some clients' plain text) is a space in a chat message.
    text = text.replace("\u00a0", " ")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    quotes_only_from = _quotes_only_from(lines)
    at = 0
    while at < len(lines):
        line = lines[at]
        if _SIGNATURE.match(line) or _SEPARATORS.match(line) or _is_header_block(lines, at):
            break
        attribution = _attribution(lines, at, quotes_only_from)
        if attribution:
            if _quoted_next(lines, at + attribution):
                at += attribution  # its quote follows: what comes after is new (bottom-posting)
                continue
            if not any(later.strip() for later in lines[at + attribution :]):
                break  # nothing follows: its quote was dropped (an HTML part's, by its client)
            # Text follows, unquoted: a line of the visitor's own that has an attribution's
            # shape ("On your website the FAQ wrote:"), kept with what follows it.
        if not _quoted(line):
            kept.append(line[1:].rstrip() if line.startswith(" >") else line.rstrip())
        at += 1
    return _BLANK_RUNS.sub("\n\n", "\n".join(kept)).strip()
