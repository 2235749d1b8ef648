"""The S3 file store: each file is the object `PREFIX/ID` of the bucket in
`CAUSERIE_FILE_STORE=s3://BUCKET/PREFIX`, on AWS or on the S3-compatible server at
`CAUSERIE_S3_ENDPOINT` (docs/architecture.md, "Files").

Through obstore (Rust's `object_store` underneath), which is asynchronous itself: no worker
thread, and the event loop is never blocked. A file up to one part (`PART_SIZE`) is sent in one
PUT; a larger one as a multipart upload, part by part as its chunks arrive, which obstore aborts
if the chunks fail. S3 makes an object visible only once whole, so a failed put leaves nothing
readable. Credentials come from the usual AWS variables (docs/settings.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator, Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import obstore
from obstore.exceptions import BaseError, NotFoundError
from obstore.store import S3Store

from causerie.domain.files import (
    CHUNK_SIZE,
    FileMissing,
    FilesUnavailable,
    StoredFile,
    check_file_id,
    is_file_id,
    new_file_id,
)
from causerie.settings import S3Location

if TYPE_CHECKING:  # typed dictionaries that exist only in obstore's stubs
    from obstore.store import ClientConfig, RetryConfig, S3Config

# S3's smallest part but the last; a transfer holds about this much per part in flight.
PART_SIZE = 5 * 1024 * 1024
PARTS_IN_FLIGHT = 2
_LIST_BATCH = 1000


@contextmanager
def _reaching_s3() -> Iterator[None]:
    """obstore's errors (no answer, refused credentials, ...) as `FilesUnavailable`; a missing
    object as `FileMissing`. Errors of the caller's chunks pass unchanged."""
    try:
        yield
    except (FileNotFoundError, NotFoundError):
        raise FileMissing("no file has this id") from None
    except BaseError as exc:
        raise FilesUnavailable(f"the S3 file store failed: {exc}") from exc


class S3FileStore:
    def __init__(self, location: S3Location, *, endpoint: str | None = None) -> None:
        config: S3Config = {}
        client: ClientConfig = {"connect_timeout": timedelta(seconds=5)}
        if endpoint is not None:
            config["endpoint"] = endpoint
            client["allow_http"] = endpoint.startswith("http://")
        # A bucket that does not answer fails a request within about half a minute, instead of
        # obstore's default of retrying for three.
        retry: RetryConfig = {"max_retries": 3, "retry_timeout": timedelta(seconds=30)}
        self._store = S3Store(
            location.bucket,
            prefix=location.prefix or None,
            config=config,
            client_options=client,
            retry_config=retry,
        )

    async def put(self, chunks: AsyncIterable[bytes]) -> StoredFile:
        file_id = new_file_id()
        digest = hashlib.sha256()
        size = 0
        iterator = aiter(chunks)
        first: list[bytes] = []  # up to one part, read before choosing one PUT or several
        async for chunk in iterator:
            digest.update(chunk)
            size += len(chunk)
            first.append(chunk)
            if size >= PART_SIZE:
                break
        else:
            with _reaching_s3():
                await obstore.put_async(self._store, file_id, b"".join(first), use_multipart=False)
            return StoredFile(id=file_id, size=size, sha256=digest.hexdigest())

        async def parts() -> AsyncIterator[bytes]:
            nonlocal size
            while first:
                yield first.pop(0)
            async for chunk in iterator:
                digest.update(chunk)
                size += len(chunk)
                yield chunk

        with _reaching_s3():
            await obstore.put_async(
                self._store,
                file_id,
                parts(),
                use_multipart=True,
                chunk_size=PART_SIZE,
                max_concurrency=PARTS_IN_FLIGHT,
            )
        return StoredFile(id=file_id, size=size, sha256=digest.hexdigest())

    async def open(self, file_id: str) -> _S3Reader:
        key = check_file_id(file_id)
        with _reaching_s3():
            result = await obstore.get_async(self._store, key)
        # At least half a chunk per read, so most need no splitting and none is tiny.
        return _S3Reader(result.meta["size"], result.stream(min_chunk_size=CHUNK_SIZE // 2))

    async def delete(self, file_ids: Collection[str]) -> None:
        keys = [check_file_id(file_id) for file_id in file_ids]
        if keys:
            # DeleteObjects, up to 1000 keys a request; S3 skips keys that are not there.
            with _reaching_s3():
                await obstore.delete_async(self._store, keys)

    async def list_ids(self) -> AsyncIterator[str]:
        batches = obstore.list(self._store, chunk_size=_LIST_BATCH)
        while True:
            with _reaching_s3():
                batch = await anext(batches, None)
            if batch is None:
                return
            for meta in batch:
                if is_file_id(meta["path"]):
                    yield meta["path"]

    async def close(self) -> None:
        pass


class _S3Reader:
    def __init__(self, size: int, stream: obstore.BytesStream) -> None:
        self._size = size
        self._stream: obstore.BytesStream | None = stream

    @property
    def size(self) -> int:
        return self._size

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            while self._stream is not None:
                with _reaching_s3():
                    received = await anext(self._stream, None)
                if received is None:
                    break
                for start in range(0, len(received), CHUNK_SIZE):
                    yield received[start : start + CHUNK_SIZE]
        finally:
            self._stream = None

    async def aclose(self) -> None:
        # Dropping the stream ends the response and gives its connection back.
        self._stream = None
