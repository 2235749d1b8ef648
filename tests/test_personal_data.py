"""P2: every column of the schema that can hold personal data is declared with its purpose, legal
basis and retention; every other column is listed as holding none, with a reason."""

from __future__ import annotations

from causerie.domain.not_personal import NOT_PERSONAL, not_personal_reason
from causerie.domain.personal_data import (
    PERSONAL,
    Subject,
    declared,
    erased_by,
    retention_rules,
)
from causerie.domain.retention import Rule
from causerie.store.schema import metadata


def _columns() -> list[tuple[str, str]]:
    return [(table.name, column.name) for table in metadata.tables.values() for column in table.c]


def test_p2_every_column_is_declared_personal_or_not() -> None:
    unclassified = [
        f"{table}.{column}"
        for table, column in _columns()
        if declared(table, column) is None and not_personal_reason(table, column) is None
    ]
    assert unclassified == [], (
        "declare these columns in causerie/domain/personal_data.py (PERSONAL with a purpose, "
        "or causerie/domain/not_personal.py NOT_PERSONAL with a reason)"
    )


def test_p2_no_column_is_both_personal_and_not() -> None:
    both = [item.key for item in PERSONAL if not_personal_reason(item.table, item.column)]
    assert both == []


def test_p2_every_declaration_names_a_real_column() -> None:
    real = set(_columns())
    tables = {table for table, _ in real}
    assert [item.key for item in PERSONAL if (item.table, item.column) not in real] == []
    for key in NOT_PERSONAL:
        table, column = key.split(".")
        assert table in tables, key
        assert column == "*" or (table, column) in real, key


def test_p2_each_declaration_says_why_on_what_basis_and_how_long() -> None:
    keys = [item.key for item in PERSONAL]
    assert len(keys) == len(set(keys))
    for item in PERSONAL:
        assert item.category and item.purpose and item.retention, item.key


MACHINERY = {"purge_runs", "network_stats", "streams"}


def test_p2_only_machinery_tables_are_waved_through_whole() -> None:
    """A table that people's data could reach lists its columns one by one, so a new column
    there must be classified."""
    whole = {key.split(".")[0] for key in NOT_PERSONAL if key.endswith(".*")}
    assert whole <= MACHINERY


def test_p6_the_purge_runs_the_rules_the_declarations_name_and_reaches_every_rule() -> None:
    assert set(retention_rules()) == set(Rule)
    for item in PERSONAL:
        rules = erased_by(item)  # raises for a field with no declared rule
        if item.subject is Subject.VISITOR:
            assert rules, f"{item.key}: a visitor's data must be erased by some rule"
