"""Compacting the chatbox's and the inbox's files as they are served: the same code in fewer
bytes, with no build step and nothing generated on disk (docs/widget.md, "Weight").

JavaScript is read as tokens: strings, template literals (copied whole, `${...}` included),
regular expressions and comments are recognised, so nothing inside a literal changes. Comments
go, and so does every space or line break that separates nothing: a space stays only between two
tokens that would otherwise run together, a line break only where it may end a statement
(automatic semicolon insertion), i.e. not after `{ ( [ , ; :` nor before `} ) ]`. CSS loses its
whole-line comments, indentation, line breaks, and the spaces around `{ } ; ,` and after `:`
on lines that hold no string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$\\")
# Two characters that would read as one token (`+ +` is not `++`) or open a comment.
_PAIRS = frozenset(
    [
        "++",
        "--",
        "**",
        "==",
        "=>",
        "!=",
        "<=",
        ">=",
        "&&",
        "||",
        "??",
        "?.",
        "..",
        "<<",
        ">>",
        "+=",
        "-=",
        "*=",
        "/=",
        "%=",
        "&=",
        "|=",
        "^=",
        "//",
        "/*",
    ]
)
# After these, a `/` starts a regular expression; after anything else it divides.
_BEFORE_REGEX_WORDS = frozenset(
    {"return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw"}
)
_NO_BREAK_AFTER = frozenset("{([,;:")
_NO_BREAK_BEFORE = frozenset("})]")
_CSS_SPACE = re.compile(r"\s*([{};,])\s*")


def _is_word(char: str) -> bool:
    return char in _WORD or char > "\x7f"


def _skip_string(source: str, i: int) -> int:
    """The index after the string literal that starts at `i`."""
    quote, i = source[i], i + 1
    while source[i] != quote:
        i += 2 if source[i] == "\\" else 1
    return i + 1


def _skip_template(source: str, i: int) -> int:
    """The index after the template literal that starts at `i`, `${...}` parts included."""
    i += 1
    while source[i] != "`":
        if source[i] == "\\":
            i += 2
        elif source.startswith("${", i):
            i = _skip_braces(source, i + 2)
        else:
            i += 1
    return i + 1


def _skip_braces(source: str, i: int) -> int:
    """The index after the `}` that closes a `${` (or a `{`) opened just before `i`."""
    depth = 1
    while True:
        char = source[i]
        if char in "'\"":
            i = _skip_string(source, i)
        elif char == "`":
            i = _skip_template(source, i)
        else:
            depth += (char == "{") - (char == "}")
            i += 1
            if depth == 0:
                return i


def _skip_regex(source: str, i: int) -> int:
    """The index after the regular expression (flags included) that starts at `i`."""
    i += 1
    in_class = False
    while in_class or source[i] != "/":
        if source[i] == "\\":
            i += 1
        elif source[i] == "[":
            in_class = True
        elif source[i] == "]":
            in_class = False
        i += 1
    i += 1
    while i < len(source) and _is_word(source[i]):
        i += 1
    return i


def tokens(source: str) -> Iterator[tuple[str, str]]:
    """JavaScript as (gap, token) pairs: `gap` is "" (nothing before the token), " " (spaces or
    a comment) or "\\n" (a line break or a comment spanning lines)."""
    i, gap, previous = 0, "", ""
    while i < len(source):
        char = source[i]
        if char in " \t\r\n":
            gap = "\n" if char == "\n" or gap == "\n" else " "
            i += 1
            continue
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = len(source) if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.index("*/", i) + 2
            gap = "\n" if "\n" in source[i:end] or gap == "\n" else " "
            i = end
            continue
        if char in "'\"":
            end = _skip_string(source, i)
        elif char == "`":
            end = _skip_template(source, i)
        elif char == "/" and (
            not previous
            or previous in _BEFORE_REGEX_WORDS
            or not (_is_word(previous[-1]) or previous[-1] in ")]}'\"`")
        ):
            end = _skip_regex(source, i)
        elif _is_word(char):
            end = i + 1
            while end < len(source) and (
                _is_word(source[end]) or (source[end] == "." and char.isdigit())
            ):
                end += 1
        else:
            end = i + 1
        previous = source[i:end]
        yield gap, previous
        gap, i = "", end


def compact_js(source: str) -> str:
    out: list[str] = []
    last = ""
    for gap, token in tokens(source):
        if out and gap:
            left, right = last[-1], token[0]
            if gap == "\n" and left not in _NO_BREAK_AFTER and right not in _NO_BREAK_BEFORE:
                out.append("\n")
            elif (_is_word(left) and _is_word(right)) or left + right in _PAIRS:
                out.append(" ")
        out.append(token)
        last = token
    return "".join(out) + "\n"


def compact_css(source: str) -> str:
    lines: list[str] = []
    in_comment = False
    for line in source.splitlines():
        text = line.strip()
        if in_comment or text.startswith("/*"):
            in_comment = "*/" not in text
            text = "" if in_comment else text.partition("*/")[2].strip()
        if text and "'" not in text and '"' not in text:
            text = _CSS_SPACE.sub(r"\1", text).replace(": ", ":")
        if text:
            # A selector may go on over lines (`.a\n.b` is `.a .b`): a space keeps it apart.
            joint = "" if not lines or lines[-1][-1] in "{};," or text[0] == "}" else " "
            lines.append(joint + text)
    return "".join(lines) + "\n"


def compact(source: str, css: bool = False) -> str:
    """The served form of a JavaScript module, or of a stylesheet if `css`."""
    return compact_css(source) if css else compact_js(source)
