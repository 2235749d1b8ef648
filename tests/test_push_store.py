"""Contract tests of the store's push area (`tx.push`, domain/repositories/push.py), on SQLite
and PostgreSQL; what the actions do with it is tested in test_push.py."""

from __future__ import annotations

from datetime import timedelta

from causerie.domain.models import Login
from causerie.domain.ports import Tx
from causerie.domain.push import PushSubscription
from causerie.tokens import hash_token, new_token
from tests.conftest import Harness, Site


def test_push_subscriptions_round_trip(harness: Harness, site: Site) -> None:
    agent, owner = site.operator_ids["agent"], site.operator_ids["owner"]
    now = harness.clock.now()
    phone = PushSubscription(
        "s1", agent, "https://push.example/a", "P" * 87, "A" * 22, "Firefox", now
    )
    laptop = PushSubscription(
        "s2",
        agent,
        "https://push.example/b",
        "Q" * 87,
        "B" * 22,
        "Chrome",
        now + timedelta(seconds=1),
    )
    theirs = PushSubscription("s3", owner, "https://other.example/c", "R" * 87, "C" * 22, "", now)

    async def run(tx: Tx) -> None:
        for subscription in (phone, laptop, theirs):
            await tx.push.save(subscription)
        assert await tx.push.get("s1") == phone
        assert await tx.push.get("nope") is None
        assert await tx.push.list_for_operators([agent]) == [phone, laptop]  # oldest first
        assert await tx.push.list_for_operators([agent, owner]) == [phone, theirs, laptop]
        assert await tx.push.list_for_operators([]) == []
        assert await tx.push.endpoints() == sorted(s.endpoint for s in (phone, laptop, theirs))
        # The same browser again, for the owner: the old subscription is replaced.
        moved = PushSubscription("s4", owner, phone.endpoint, "S" * 87, "D" * 22, "Firefox", now)
        await tx.push.save(moved)
        assert await tx.push.get("s1") is None
        assert await tx.push.list_for_operators([owner]) == [theirs, moved]  # same time: by id
        # Deleting: only the owner's own, when an owner is given.
        assert not await tx.push.delete("s2", owner)
        assert await tx.push.delete("s2", agent)
        assert not await tx.push.delete("s2")
        assert await tx.push.delete("s3")
        assert await tx.push.list_for_operators([agent, owner]) == [moved]

    harness.run(_in_transaction(harness, run))


def test_push_previews_are_off_until_chosen(harness: Harness, site: Site) -> None:
    agent = site.operator_ids["agent"]

    async def run(tx: Tx) -> None:
        assert await tx.push.previews(agent) is False
        await tx.push.set_previews(agent, True)
        assert await tx.push.previews(agent) is True
        await tx.push.set_previews(agent, False)
        assert await tx.push.previews(agent) is False
        assert await tx.push.previews(site.operator_ids["owner"]) is False

    harness.run(_in_transaction(harness, run))


def test_a_subscription_lasts_while_its_login_or_token_does(harness: Harness, site: Site) -> None:
    agent = site.operator_ids["agent"]
    now = harness.clock.now()
    login = Login("l1", agent, now, now, now + timedelta(days=1))

    async def run(tx: Tx) -> None:
        await tx.logins.insert(login, hash_token(new_token()))
        (token, *_) = await tx.api_tokens.list_for_operator(agent)
        made = [
            PushSubscription("s1", agent, "https://push.example/1", "P" * 87, "A" * 22, "", now),
            PushSubscription(
                "s2", agent, "https://push.example/2", "P" * 87, "A" * 22, "", now, login.id
            ),
            PushSubscription(
                "s3", agent, "https://push.example/3", "P" * 87, "A" * 22, "", now, None, token.id
            ),
        ]
        for subscription in made:
            await tx.push.save(subscription)
        assert await tx.push.get("s2") == made[1]  # the credential read back
        live = [await tx.push.get_live(s.id, now) for s in made]
        assert live == made
        # Past the login's end, its subscription is not live (its row stays until the purge).
        later = login.expires_at + timedelta(seconds=1)
        assert await tx.push.get_live("s2", later) is None
        assert await tx.push.get_live("s1", later) == made[0]
        # A revoked token's subscription is not live, and goes when asked.
        await tx.api_tokens.revoke(agent, token.id, now)
        assert await tx.push.get_live("s3", now) is None
        await tx.push.delete_for_token(token.id)
        assert await tx.push.get("s3") is None
        # A login's end removes its subscription (the foreign key cascades).
        await tx.logins.delete(login.id)
        assert await tx.push.get("s2") is None
        assert await tx.push.list_for_operators([agent]) == [made[0]]

    harness.run(_in_transaction(harness, run))


async def _in_transaction(harness: Harness, work: object) -> None:
    async with harness.rt.store.transaction() as tx:
        await work(tx)  # type: ignore[operator]
