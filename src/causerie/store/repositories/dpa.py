"""`SqlDpaAcceptances`: acceptances of the data processing agreement."""

from __future__ import annotations

from sqlalchemy import select

from causerie.domain.models import DpaAcceptance
from causerie.store import codec
from causerie.store.db import SqlRepository
from causerie.store.schema.accounts import dpa_acceptances, operators


class SqlDpaAcceptances(SqlRepository):
    __slots__ = ()

    async def insert(self, acceptance: DpaAcceptance) -> None:
        await self._db.execute(
            dpa_acceptances.insert().values(
                id=acceptance.id,
                website_id=acceptance.website_id,
                version=acceptance.version,
                operator_id=acceptance.operator_id,
                accepted_at=acceptance.accepted_at,
            )
        )

    async def list_for_website(self, website_id: str) -> list[DpaAcceptance]:
        rows = await self._db.execute(
            select(dpa_acceptances, operators.c.name.label("operator_name"))
            .outerjoin(operators, operators.c.id == dpa_acceptances.c.operator_id)
            .where(dpa_acceptances.c.website_id == website_id)
            .order_by(dpa_acceptances.c.accepted_at.desc(), dpa_acceptances.c.id)
        )
        return [codec.dpa_acceptance(row) for row in rows]
