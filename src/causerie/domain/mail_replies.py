"""What a reply by mail says, without what it quotes (docs/notifications.md, "Replies by mail").

Mail clients put the new text first, then the history: an attribution line ("On Mon, 7 Dec 2026
at 10:02, Ada <ada@example.org> wrote:", "Le lun. 7 déc. 2026 à 10:02, Ada a écrit :"), or a
separator ("-----Original Message-----"), then lines quoted with `>`. A signature starts at a
line `-- `. `strip_reply` keeps what comes before all of that.
"""

from __future__ import annotations

import re

# An attribution may be wrapped over two lines by the client: each pattern is tried on a line
# and on that line joined to the next.
_ATTRIBUTIONS = (
    re.compile(r"^\s*On\b.{0,300}\bwrote\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba\s+[ée]crit\s*:\s*$", re.IGNORECASE | re.DOTALL),
)
_SEPARATORS = re.compile(
    r"^\s*(-{2,}\s*(Original Message|Message d'origine|Message original|Forwarded message|"
    r"Message transféré)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_SIGNATURE = re.compile(r"^--\s?$")


def _is_attribution(line: str, following: str | None) -> bool:
    if any(p.match(line) for p in _ATTRIBUTIONS):
        return True
    if following is not None and line.strip():
        joined = f"{line.rstrip()} {following.strip()}"
        return any(p.match(joined) for p in _ATTRIBUTIONS)
    return False


def strip_reply(text: str) -> str:
    """The new text of a reply: quoted history, attribution lines and signature removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    for at, line in enumerate(lines):
        following = lines[at + 1] if at + 1 < len(lines) else None
        if _SIGNATURE.match(line) or _SEPARATORS.match(line):
            break
        if _is_attribution(line, following):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()
