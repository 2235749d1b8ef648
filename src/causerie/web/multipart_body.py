"""An upload's multipart body read whole, or refused as cut short.

python-multipart calls its `on_end` callback when it reads the closing boundary, and then only:
its `finalize()` checks nothing (0.0.x), so a body that stops before `--boundary--` parsed as a
form without its unfinished part, and the upload answered 422 `missing_file` as if the client had
left the part out. Starlette's parser, whose `on_end` this overrides, reads the body from the
stream given here; that stream fails once the body ends short of the closing boundary, and
Starlette then closes every file it began (its rule for a stream that fails), so nothing is left
spooled. Only the two libraries' public interfaces are used: the callback and the stream.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from starlette.datastructures import FormData, Headers
from starlette.formparsers import MultiPartParser


class BodyCutShort(Exception):
    """The body ended before its closing boundary."""


class _WholeBodyParser(MultiPartParser):
    def __init__(
        self, headers: Headers, stream: AsyncIterator[bytes], *, max_files: int, max_fields: int
    ) -> None:
        self.ended = False
        super().__init__(
            headers, self._to_the_end(stream), max_files=max_files, max_fields=max_fields
        )

    async def _to_the_end(self, stream: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
        async for chunk in stream:
            yield chunk  # parsed before the next one is asked for: `on_end` has run if it ends
        if not self.ended:
            raise BodyCutShort

    def on_end(self) -> None:
        self.ended = True


async def read_whole_form(
    headers: Headers, stream: AsyncGenerator[bytes, None], *, max_files: int, max_fields: int
) -> FormData:
    """The form of a multipart body; `BodyCutShort` if it ends before its closing boundary,
    Starlette's `MultiPartException` if its parser refuses it."""
    async with aclosing(stream) as body:
        parser = _WholeBodyParser(headers, body, max_files=max_files, max_fields=max_fields)
        return await parser.parse()
