"""`SqlDpaAcceptances`: acceptances of the data processing agreement."""

from __future__ import annotations

from sqlalchemy import select

from causerie.domain.models import DpaAcceptance
from causerie.store.db import SqlRepository
from causerie.store.schema import dpa_acceptances, operators


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
        return [
            DpaAcceptance(
                id=row.id,
                website_id=row.website_id,
                version=row.version,
                operator_id=row.operator_id,
                accepted_at=row.accepted_at,
                operator_name=row.operator_name,
            )
            for row in rows
        ]
