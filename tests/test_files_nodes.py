"""Files on several nodes (SPEC.md "Files"): two servers sharing PostgreSQL, Redis and an
S3-compatible bucket (moto's server). A file uploaded through one node is served by the other,
and the bytes of a conversation deleted through either leave the bucket.

Skipped when PostgreSQL, Redis or moto is unavailable, except under CI (`CI` set).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from causerie.settings import Settings
from tests.conftest import ORIGIN, Harness, ServerThread, Site
from tests.files_support import PDF, jpeg_with_metadata
from tests.redis_support import shared_redis_url
from tests.s3_support import AWS_ENV, MotoServer, moto_server
from tests.support import wait_until

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with moto_server() as server:
        yield server


def test_a_file_sent_through_one_node_is_served_by_another(
    moto: MotoServer,
    make_settings: Callable[..., Settings],
    start_server: Callable[[Settings], ServerThread],
    monkeypatch: pytest.MonkeyPatch,
    site: Site,
    harness: Harness,
) -> None:
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    bucket = moto.new_bucket()
    settings = make_settings(
        redis_url=shared_redis_url(),
        file_store=f"s3://{bucket}/chat",
        s3_endpoint=moto.endpoint,
    )
    a, b = start_server(settings), start_server(settings)
    agent = {"Authorization": f"Bearer {site.tokens['agent']}"}
    with httpx.Client(base_url=a.url, timeout=20) as on_a:
        opened = on_a.post(
            f"/api/widget/v1/websites/{site.website_id}/session",
            json={"page": {"url": f"{ORIGIN}/"}},
            headers={"Origin": ORIGIN},
        )
        visitor = {"Authorization": f"Bearer {opened.json()['token']}", "Origin": ORIGIN}
        sent = on_a.post(
            "/api/widget/v1/session/files",
            headers=visitor,
            files={"file": ("me.jpg", jpeg_with_metadata(), "image/jpeg")},
        )
        assert sent.status_code == 201, sent.text
        message = sent.json()["message"]
        conversation = message["conversation_id"]
        reply = on_a.post(
            f"/api/v1/conversations/{conversation}/files",
            headers=agent,
            files={"file": ("a.pdf", PDF, "application/pdf")},
        )
        assert reply.status_code == 201, reply.text
    assert len(moto.keys(bucket)) == 3  # the image, its thumbnail, the PDF
    file, pdf = message["file"], reply.json()["message"]["file"]
    with httpx.Client(base_url=b.url, timeout=20) as on_b:
        image = on_b.get(file["url"], headers=visitor)
        assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
        thumbnail = on_b.get(f"/api/v1/files/{file['id']}/thumbnail", headers=agent)
        assert thumbnail.headers["content-type"] == "image/webp"
        assert on_b.get(f"/api/widget/v1/session/files/{pdf['id']}", headers=visitor).content == PDF
        owner = {"Authorization": f"Bearer {site.tokens['owner']}"}
        deleted = on_b.delete(f"/api/v1/conversations/{conversation}", headers=owner)
        assert deleted.status_code == 200, deleted.text
        assert on_b.get(file["url"], headers=visitor).status_code == 401  # the session went
    # P20: the bytes leave the bucket once a node ran the deletion's job
    wait_until(lambda: moto.keys(bucket) == [], 20, lambda: f"left: {moto.keys(bucket)}")
