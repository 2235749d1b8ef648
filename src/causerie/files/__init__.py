"""File stores: where the bytes of files live (docs/architecture.md, "Files").

`folder` keeps them in the data folder (one machine); `s3` in an S3-compatible bucket (several
machines). Both pass the same contract tests (tests/test_file_store_contract.py).
"""

from __future__ import annotations

from causerie.domain.ports import FileStore
from causerie.settings import Settings

FOLDER = "files"  # under the data folder


def open_file_store(settings: Settings) -> FileStore:
    """The store `CAUSERIE_FILE_STORE` names. Makes no network call: an unreachable bucket shows
    on first use."""
    if settings.file_store is None:
        from causerie.files.folder import FolderFileStore

        return FolderFileStore(settings.data_dir / FOLDER)
    from causerie.files.s3 import S3FileStore

    return S3FileStore(settings.file_store, endpoint=settings.s3_endpoint)
