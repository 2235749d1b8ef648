"""`format=flowed` text (RFC 3676), as Thunderbird and Apple Mail send a plain-text part: a
paragraph wrapped at about 72 characters, each soft break a line ending in a space, lines
starting with a space, `From ` or `>` stuffed with one space. `unflow` gives the paragraphs
back, their quote marks (`>` per level) in front, so a reply reads as it was written. A line of
the writer's own that starts with `>` stays stuffed (` >`): only a `>` in a line's first column
marks a quote (RFC 3676 4.5), and `strip_reply` keeps such a line and unstuffs it."""

from __future__ import annotations

_SIGNATURE = "-- "


def unflow(text: str, *, delsp: bool = False) -> str:
    """The lines of flowed `text` joined where they were soft-broken; with `delsp` (DelSp=yes)
    the space before a soft break is the sender's, not the text's, and goes."""
    out: list[str] = []
    open_depth: int | None = None  # the quote depth of a paragraph still flowing, if any
    for line in text.splitlines():
        depth = len(line) - len(line.lstrip(">"))
        content = line[depth:]
        stuffed = content.startswith(" ")  # space-stuffing (or the space after the quote marks)
        if stuffed:
            content = content[1:]
        flowed = content.endswith(" ") and content != _SIGNATURE
        if flowed and delsp:
            content = content[:-1]
        if open_depth == depth:
            out[-1] += content
        elif depth or (stuffed and content.startswith(">")):  # quoted, or `>` of the writer's
            out.append(">" * depth + " " + content)
        else:
            out.append(content)
        open_depth = depth if flowed else None
    return "\n".join(out)
