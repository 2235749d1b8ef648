"""What the OpenAPI document says a file's download answers is what it answers: a file is
served with the type judged at upload (`image/png`, `application/pdf`, ...), and the document
declared `application/octet-stream` alone for the four download operations, so that a client
generated from it, or a checker (schemathesis's `content_type_conformance`), refused a PNG.
The files live on disk whatever the database: SQLite only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import ORIGIN, Site
from tests.files_support import PDF, png_with_metadata


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def _documents(document: dict[str, object], media_type: str) -> bool:
    """Whether one of the documented media types (wildcards included) covers `media_type`."""
    main = media_type.split("/")[0]
    return any(documented in (media_type, f"{main}/*", "*/*") for documented in document["content"])


def test_every_download_is_of_a_type_its_operation_documents(
    http: httpx.Client, site: Site
) -> None:
    opened = http.post(
        f"/api/widget/v1/websites/{site.website_id}/session",
        json={"page": {"url": "https://shop.example/"}},
        headers={"Origin": ORIGIN},
    )
    assert opened.status_code == 201, opened.text
    visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
    agent = {"Authorization": f"Bearer {site.tokens['agent']}"}
    paths = http.get("/api/v1/openapi.json").json()["paths"]

    served = []
    for name, data in (("photo.png", png_with_metadata(640, 480)), ("invoice.pdf", PDF)):
        sent = http.post(
            "/api/widget/v1/session/files", files={"file": (name, data)}, headers=visitor
        )
        assert sent.status_code == 201, sent.text
        file = sent.json()["message"]["file"]
        fetches = [
            ("/api/widget/v1/session/files/{file_id}", file["url"], visitor),
            ("/api/v1/files/{file_id}", f"/api/v1/files/{file['id']}", agent),
        ]
        if "thumbnail_url" in file:
            fetches += [
                (
                    "/api/widget/v1/session/files/{file_id}/thumbnail",
                    file["thumbnail_url"],
                    visitor,
                ),
                (
                    "/api/v1/files/{file_id}/thumbnail",
                    f"/api/v1/files/{file['id']}/thumbnail",
                    agent,
                ),
            ]
        for operation, url, headers in fetches:
            answer = http.get(url, headers=headers)
            assert answer.status_code == 200, (url, answer.text)
            media_type = answer.headers["content-type"].split(";")[0]
            documented = paths[operation]["get"]["responses"]["200"]
            assert _documents(documented, media_type), (operation, media_type, documented)
            served.append(media_type)
    assert sorted(set(served)) == ["application/pdf", "image/png", "image/webp"]
