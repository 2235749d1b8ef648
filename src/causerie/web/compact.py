"""Compacting the chatbox's and the inbox's files as they are served: the same code in fewer
bytes, with no build step and nothing generated on disk (docs/widget.md, "Weight").

JavaScript goes through rjsmin, CSS through rcssmin: comments go, and so does every space or
line break that separates nothing; literals are kept as written. The callers compact each file
once, when their module is imported, and hash the result into the files' version.

rjsmin reads a template literal as a string that ends at the next backtick, so a template
literal nested in another's `${...}` (or a backtick inside a `${...}` at all) would be compacted
as code (rjsmin issue #22): the modules never nest them. tests/test_widget_assets.py compares the
syntax tree of every served module before and after, so a nested one fails there.
"""

from __future__ import annotations

import rcssmin
import rjsmin


def compact(source: str, css: bool = False) -> str:
    """The served form of a JavaScript module, or of a stylesheet if `css`."""
    compacted: str = rcssmin.cssmin(source) if css else rjsmin.jsmin(source)
    return compacted
