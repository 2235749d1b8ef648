"""`format=flowed` text (RFC 3676), as Thunderbird and Apple Mail send a plain-text part: a
paragraph wrapped at about 72 characters, each soft break a line ending in a space, lines
starting with a space, `From ` or `>` stuffed with one space. `unflow` gives the paragraphs
back, their quote marks (`>` per level) in front, so a reply reads as it was written."""

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
        if content.startswith(" "):  # space-stuffing (or the space after the quote marks)
            content = content[1:]
        flowed = content.endswith(" ") and content != _SIGNATURE
        if flowed and delsp:
            content = content[:-1]
        if open_depth == depth:
            out[-1] += content
        else:
            out.append(">" * depth + (" " if depth else "") + content)
        open_depth = depth if flowed else None
    return "\n".join(out)
