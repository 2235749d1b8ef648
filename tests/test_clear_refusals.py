"""Requests a route refused unclearly, or not at all, now refused naming what is wrong and
changing nothing (docs/api.md): a webhook target with a fragment, the transcript-by-mail body,
an empty `before=`, and `OPTIONS` on the API."""

from __future__ import annotations

import httpx

from tests.conftest import ServerThread, Site
from tests.test_spec_audit5 import _subscription


def owner(site: Site) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens['owner']}"}


def test_a_webhook_or_push_target_with_a_fragment_is_refused_naming_it(
    server: ServerThread, http: httpx.Client, site: Site
) -> None:
    """A fragment never leaves the client: the target would be the URL without it, not what
    was written."""
    hooks = f"/api/v1/websites/{site.website_id}/webhooks"
    for url in ("https://example.com/hook#secret", "https://example.com/#"):
        created = http.post(
            hooks, headers=owner(site), json={"url": url, "events": ["message.created"]}
        )
        assert created.status_code == 422, created.text
        error = created.json()["error"]
        assert error["code"] == "invalid_webhook_url"
        assert error["message"].startswith("url: ") and "#fragment" in error["message"]
    assert http.get(hooks, headers=owner(site)).json()["webhooks"] == []
    encoded = http.post(
        hooks,
        headers=owner(site),
        json={"url": "https://example.com/hook?tag=%23one", "events": ["message.created"]},
    )
    assert encoded.status_code == 201, encoded.text  # a `#` written %23 is no fragment

    pushes = "/api/v1/push/subscriptions"
    refused = http.post(pushes, headers=owner(site), json=_subscription("https://push.example/a#b"))
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "invalid_subscription"
    assert "#fragment" in refused.json()["error"]["message"]
    assert http.get(pushes, headers=owner(site)).json()["subscriptions"] == []
