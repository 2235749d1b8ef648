"""Where Causerie keeps its data and how it is reached: the data folder, the database, Redis,
the public address, the secret key, proxies, body and file sizes, the file store."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict

from causerie.settings.addresses import DatabaseUrl, DataDir, OptionalUrl, Proxies, RedisUrl, Url
from causerie.settings.declare import setting
from causerie.settings.file_store import FileStore
from causerie.settings.units import from_text, size_between

# The smallest limits that leave Causerie usable (a smaller one was taken, and refused every
# message or file). A JSON body: a message of 10,000 characters (`actions.messages.MAX_BODY_CHARS`)
# of 4 bytes each in UTF-8 (emoji), with its JSON; tests/test_body_limit.py sends it.
BODY_AT_LEAST = 48 * 1024
# A file: a small photo or PDF.
FILE_AT_LEAST = 64 * 1024
# The largest: a JSON body is read whole into memory before it is parsed, and a WebSocket frame
# may take 4 times CAUSERIE_MAX_BODY (`server.UTF8_MAX_BYTES`), held whole, on every socket; no
# request Causerie takes comes near 16 MiB.
BODY_AT_MOST = 16 * 1024 * 1024
# An upload is spooled to a temporary file, measured, then copied to the file store (an image
# cleaned into another spool first): several times its size on disk while it is judged. 1 GiB is
# far past any chat attachment, and a mailed reply carries at most 10 MiB anyway.
FILE_AT_MOST = 1024 * 1024 * 1024
_BODY_WHY = "a message of 10,000 characters must fit (emoji take 4 bytes each)"
_BODY_CEILING_WHY = "a body is held whole in memory, a WebSocket frame 4 times it"
_FILE_WHY = "a small photo or PDF must fit"
_FILE_CEILING_WHY = "an upload is held on disk several times while it is judged"
BodySize = Annotated[
    int, from_text(size_between(BODY_AT_LEAST, BODY_AT_MOST, _BODY_WHY, _BODY_CEILING_WHY))
]
FileSize = Annotated[
    int, from_text(size_between(FILE_AT_LEAST, FILE_AT_MOST, _FILE_WHY, _FILE_CEILING_WHY))
]


def parse_secret(text: str) -> str:
    if len(text) < 32:
        raise ValueError("must be at least 32 characters of random text")
    return text


SecretKey = Annotated[str, from_text(parse_secret)]


class ServerSettings(BaseModel):
    model_config = ConfigDict(defer_build=True)  # only validated as part of Settings

    data_dir: DataDir = setting(
        "./causerie-data",
        "Folder for the SQLite file, the secret key and causerie.toml; its owner's only "
        "(0700, files 0600, tightened on every start: give Causerie a folder of its own).",
    )
    database_url: DatabaseUrl = setting(
        None,
        "SQLite file in the data folder, or postgresql://...",
        hidden=True,
    )
    redis_url: RedisUrl = setting(
        "",
        "Unset: in-process broker and counters (one node). Set, it needs redis-py: `pip "
        "install 'causerie[redis]'` (without it Causerie stops with one line naming the "
        "extra).",
        hidden=True,
    )
    public_url: Url = setting(
        "http://127.0.0.1:8000",
        "Address visitors' browsers use to reach the server. Kept as browsers name its "
        "origin: the scheme and host in lower case, without a default port "
        "(`https://Chat.Example:443/` is `https://chat.example`), since the inbox's requests "
        "are checked against their `Origin`. A path is kept (without its last `/`); a user or "
        "password, a query, a fragment, a space or a port outside 1 to 65535 is refused at start.",
    )
    secret_key: SecretKey = setting(
        None,
        "Generated on first run and kept in the data folder (mode 600).",
        hidden=True,
    )
    trusted_proxies: Proxies = setting(
        "",
        "Proxies (addresses or CIDR) allowed to set X-Forwarded-For.",
    )
    max_body: BodySize = setting(
        "64KiB",
        "Largest JSON body accepted, from 48KiB to 16MiB; larger ones get 413.",
    )
    max_file: FileSize = setting(
        "10MiB",
        "Largest file accepted in an upload, from 64KiB to 1024MiB; larger ones get 413.",
    )
    file_store: FileStore = setting(
        "file",
        "Where files are kept: file (the data folder) or s3://BUCKET/PREFIX.",
    )
    s3_endpoint: OptionalUrl = setting(
        "",
        "Address of an S3-compatible server; unset: AWS S3.",
    )
