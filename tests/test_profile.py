"""The visitor corrects their own profile (P7); agents hear of it as session.updated."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ORIGIN, Harness, Site
from tests.test_errors import error_of
from tests.test_session_endpoint import open_session


def patch(http: httpx.Client, token: str, body: object) -> httpx.Response:
    return http.patch(
        "/api/widget/v1/session/profile",
        json=body,
        headers={"Authorization": f"Bearer {token}", "Origin": ORIGIN},
    )


def test_p7_visitor_sets_and_corrects_their_profile(
    http: httpx.Client, site: Site, harness: Harness
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    response = patch(
        http, token, {"email": "ada@mail.example", "nickname": "Ada", "data": {"plan": "pro"}}
    )
    assert response.status_code == 200
    assert response.json()["session"]["profile"] == {
        "nickname": "Ada",
        "email": "ada@mail.example",
        "phone": None,
        "data": {"plan": "pro"},
    }
    patch(http, token, {"email": "ada@other.example", "data": {"seats": 3, "plan": None}})
    assert harness.rows("SELECT nickname, email FROM sessions") == [("Ada", "ada@other.example")]
    profile = open_session(http, site.website_id, token=token).json()["session"]["profile"]
    assert profile["data"] == {"seats": 3}
    assert harness.scalar("SELECT count(*) FROM events WHERE type = 'session.updated'") == 4


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"email": "not-an-email"}, "invalid_email"),
        ({"phone": "call me maybe"}, "invalid_phone"),
        ({"nickname": "x" * 101}, "invalid_nickname"),
        ({"data": {"nested": {"a": 1}}}, "invalid_data"),
        ({"data": {f"k{i}": i for i in range(51)}}, "invalid_data"),
        ({"unknown": 1}, "invalid_request"),
    ],
)
def test_bad_profile_fields_are_refused_and_change_nothing(
    http: httpx.Client, site: Site, harness: Harness, body: object, code: str
) -> None:
    token = open_session(http, site.website_id).json()["token"]
    assert error_of(patch(http, token, body), 422)["code"] == code
    assert harness.rows("SELECT nickname, email, phone FROM sessions") == [(None, None, None)]
