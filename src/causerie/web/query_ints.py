"""Integer query parameters written in decimal digits alone (docs/api.md, "Query parameters").

Pydantic's lax mode reads `5.0`, `+5`, ` 5` and `5_0` (as 50) as integers; a query parameter
is refused unless it is plain digits, with the route's `422 invalid_request` naming it."""

from __future__ import annotations

import re

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

_DIGITS = re.compile(r"[0-9]{1,18}")


def _plain_digits(value: object) -> object:
    if isinstance(value, str) and _DIGITS.fullmatch(value) is None:
        raise PydanticCustomError(
            "int_digits",
            "must be a whole number in decimal digits alone (no sign, space, point or underscore)",
        )
    return value


#: `Annotated[int, Query(...), Digits]`: refused unless the text is digits alone.
Digits = BeforeValidator(_plain_digits)
