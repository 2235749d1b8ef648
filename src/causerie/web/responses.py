"""The JSON answers of Causerie's routes, encoded by orjson.

The same bytes as Starlette's `JSONResponse` (compact separators, UTF-8 rather than `\\u`
escapes, keys in insertion order, integer keys written as strings), in a fraction of the time:
on a chatbox load the standard library's encoder cost about as much as reading the database.
Differences (tests/test_json_answers.py): a float written in exponent form may be written in
another one (`1e-7` rather than `1e-07`, `0.00001` rather than `1e-05`), the same number; a NaN
or an infinity (refused in every input, `web/wire_values.py`) would be written `null` rather than
raising, and an integer beyond 64 bits raises rather than being written.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse

_OPTIONS = orjson.OPT_NON_STR_KEYS


_CONTENT_TYPE = (b"content-type", b"application/json")
_NO_LENGTH = frozenset((204, 304))  # and below 200: Starlette writes no Content-Length then


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Starlette's headers, written directly in the usual case (no headers given, the JSON
        media type): about half of a response's own Python (tests/test_json_answers.py)."""
        status = self.status_code
        if headers is not None or self.media_type != "application/json" or status < 200:
            super().init_headers(headers)
        elif status in _NO_LENGTH:
            self.raw_headers = [_CONTENT_TYPE]
        else:
            self.raw_headers = [(b"content-length", b"%d" % len(self.body)), _CONTENT_TYPE]
