"""Rebuilding the search's trigram indexes on PostgreSQL after rows were deleted.

A GIN index never drops a key: once the rows behind a trigram are deleted, VACUUM empties the
key's list of rows but leaves the key, so three-letter fragments of erased text would stay in the
index files for good (docs/privacy.md). A purge or an erasure therefore enqueues the
`search.reindex` job (domain/jobs.py), due once deletions have settled for
`SEARCH_REINDEX_DELAY` (a burst of erasures is one job), which rebuilds the trigram indexes of
the tables that lost rows since this node's last rebuild, with `REINDEX INDEX CONCURRENTLY`
(reads and writes go on meanwhile).
"""

from __future__ import annotations

from sqlalchemy import bindparam, text
from sqlalchemy.ext.asyncio import AsyncEngine

from causerie.store.schema import TRIGRAM_INDEXES


def _by_table() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for name, column in TRIGRAM_INDEXES:
        found[column.table.name] = (*found.get(column.table.name, ()), name)
    return found


# The trigram indexes of migration 0006, by the table whose deletions leave keys in them.
SEARCH_INDEXES = _by_table()

# Rows deleted from each table since the server's statistics began: a table whose count has not
# moved since the last rebuild lost no row, and its indexes hold no key of a deleted one.
_DELETIONS = text(
    "SELECT relname, n_tup_del FROM pg_stat_user_tables "
    "WHERE schemaname = current_schema() AND relname IN :tables"
).bindparams(bindparam("tables", expanding=True))


# What an interrupted `REINDEX CONCURRENTLY` leaves behind (a server stopped during a rebuild): an
# invalid copy of the index, named after it with `_ccnew`, that writes would keep updating.
_LEFTOVERS = text(
    "SELECT c.relname FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "WHERE NOT i.indisvalid AND n.nspname = current_schema() AND c.relname LIKE :pattern"
)


class SearchIndexKeeper:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._rebuilt_at: dict[str, int] = {}  # table -> its deletions count at the last rebuild

    async def rebuild_stale(self) -> list[str]:
        """Rebuild the indexes of every table that lost rows since its last rebuild (all of them,
        the first time); the names rebuilt."""
        rebuilt: list[str] = []
        async with self._engine.connect() as conn:
            # REINDEX CONCURRENTLY cannot run inside a transaction block.
            auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
            for indexes in SEARCH_INDEXES.values():
                for index in indexes:
                    pattern = f"{index}_ccnew%".replace("_", "\\_")  # LIKE's `_`, literal
                    left = await auto.execute(_LEFTOVERS, {"pattern": pattern})
                    for (name,) in left.all():  # a name PostgreSQL gave, quoted as an identifier
                        quoted = name.replace('"', '""')
                        await auto.exec_driver_sql(f'DROP INDEX CONCURRENTLY IF EXISTS "{quoted}"')
            rows = await auto.execute(_DELETIONS, {"tables": list(SEARCH_INDEXES)})
            for table, deleted in rows.all():
                if self._rebuilt_at.get(table) == deleted:
                    continue
                for index in SEARCH_INDEXES[table]:
                    # `index` is one of the constant names above, never a value.
                    await auto.exec_driver_sql(f'REINDEX INDEX CONCURRENTLY "{index}"')
                    rebuilt.append(index)
                self._rebuilt_at[table] = deleted
        return rebuilt
