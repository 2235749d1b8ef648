"""Every action that ends an agent's access (an API token, a login, a membership, a website)
publishes `access.ended` after its commit, naming what ended (docs/realtime.md "When access ends").
"""

from __future__ import annotations

from typing import Any

import pytest

from causerie.actions.accounts import do_change_password, do_login, do_logout
from causerie.actions.api_tokens import do_revoke_api_token
from causerie.actions.members import do_remove_member
from causerie.actions.operators import do_reset_password
from causerie.actions.websites import do_delete_website
from causerie.domain.access import ACCESS_CHANNEL
from causerie.domain.errors import NotFound
from causerie.domain.models import Actor, Scope
from tests.conftest import Harness, Site


def test_each_revoking_action_publishes_access_ended_naming_what_ended(
    harness: Harness, site: Site
) -> None:
    published: list[dict[str, Any]] = []

    def capture(channel: str, frame: dict[str, Any]) -> None:
        if channel == ACCESS_CHANNEL:
            published.append(frame)

    harness.rt.hub.publish = capture  # type: ignore[method-assign]
    rt, website_id = harness.run, site.website_id
    agent_id, owner_id = site.operator_ids["agent"], site.operator_ids["owner"]

    def logged_in(password: str = site.passwords["agent"]) -> Actor:
        done = rt(do_login(harness.rt, "agent@shop.example", password, "10.0.0.1"))
        return Actor("operator", agent_id, login_id=done.login.id)

    first, second, third = logged_in(), logged_in(), logged_in()
    rt(do_logout(harness.rt, first))
    assert published == [
        {"type": "access.ended", "code": "credential_revoked", "keys": [f"login:{first.login_id}"]}
    ]
    rt(do_change_password(harness.rt, second, site.passwords["agent"], "a new long one!"))
    assert published[-1]["keys"] == [f"login:{third.login_id}"]  # not the login that changed it
    password = rt(do_reset_password(harness.rt, Actor.cli(), "agent@shop.example"))
    assert published[-1] == {
        "type": "access.ended",
        "code": "credential_revoked",
        "keys": [f"login:{second.login_id}"],
    }

    async def token_id() -> str:
        async with harness.rt.store.read() as tx:
            return (await tx.list_api_tokens(agent_id))[0].id

    token = rt(token_id())
    rt(do_revoke_api_token(harness.rt, logged_in(password), token))
    assert published[-1]["keys"] == [f"token:{token}"]

    owner = Actor("operator", owner_id, frozenset(Scope))
    count = len(published)
    with pytest.raises(NotFound):  # refused, rolled back: nothing published
        rt(do_remove_member(harness.rt, owner, website_id, site.operator_ids["other_owner"]))
    assert len(published) == count
    rt(do_remove_member(harness.rt, owner, website_id, agent_id))
    assert published[-1] == {
        "type": "access.ended",
        "code": "access_revoked",
        "keys": [f"member:{website_id}:{agent_id}"],
    }
    rt(do_delete_website(harness.rt, owner, website_id))
    assert published[-1]["keys"] == [f"website:{website_id}"]
    assert len(published) == count + 2
