"""A website's origins are stored as a browser's `Origin` header writes them, or refused
(`422 invalid_origin` naming `origins`, nothing stored): a name in another script was stored as
typed (`https://bücher.example`), which no browser sends (it sends the name's ASCII form), so
the chatbox was refused on the very site it was made for; a list pasted in one entry
(`https://a.example,https://b.example`) was stored as the origin `https://a.example,https`, a
wildcard (`https://*.example`) as such, and port 0 dropped, each answered 201 and matching no
page. Origins do not depend on the database: SQLite only."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.conftest import Harness, Site


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'causerie.db'}"


def test_origins_are_stored_as_browsers_send_them_or_refused_naming_them(
    http: httpx.Client, harness: Harness, site: Site
) -> None:
    owner = {"Authorization": f"Bearer {site.tokens['owner']}"}
    websites = harness.scalar("SELECT count(*) FROM websites")
    for origin in (
        "https://a.example,https://b.example",
        "https://*.example",
        "https://shop.example:0",
        "https://-shop.example",
        "https://shop..example",
    ):
        refused = http.post(
            "/api/v1/websites", json={"name": "Shop", "origins": [origin]}, headers=owner
        )
        assert refused.status_code == 422, (origin, refused.text)
        error = refused.json()["error"]
        assert error["code"] == "invalid_origin", error
        assert error["message"].startswith("origins: "), error
        changed = http.patch(
            f"/api/v1/websites/{site.website_id}",
            json={"origins": ["https://shop.example", origin]},
            headers=owner,
        )
        assert changed.status_code == 422, (origin, changed.text)
    assert harness.scalar("SELECT count(*) FROM websites") == websites

    made = http.post(
        "/api/v1/websites",
        json={"name": "Bücher", "origins": ["https://Bücher.example", "https://straße.example"]},
        headers=owner,
    )
    assert made.status_code == 201, made.text
    website = made.json()["website"]
    assert website["origins"] == ["https://xn--bcher-kva.example", "https://xn--strae-oqa.example"]

    # What a browser on that site sends, as Chromium, Firefox and Safari write it.
    loaded = http.post(
        f"/api/widget/v1/websites/{website['id']}/session",
        json={"page": {"url": "https://xn--bcher-kva.example/"}},
        headers={"Origin": "https://xn--bcher-kva.example"},
    )
    assert loaded.status_code == 201, loaded.text
    assert loaded.headers["access-control-allow-origin"] == "https://xn--bcher-kva.example"
