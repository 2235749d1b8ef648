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

from typing import Any

import orjson
from starlette.responses import JSONResponse as StarletteJSONResponse

_OPTIONS = orjson.OPT_NON_STR_KEYS


class JSONResponse(StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=_OPTIONS)
