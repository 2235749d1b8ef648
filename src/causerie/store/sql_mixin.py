"""What the statement mixins of `SqlTx` (store/tx.py) rely on: `_execute` and `_one`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Executable, Result, Row


class SqlMixin:
    if TYPE_CHECKING:

        async def _execute(
            self, stmt: Executable, params: dict[str, Any] | None = None
        ) -> Result[Any]: ...

        async def _one(
            self, stmt: Executable, params: dict[str, Any] | None = None
        ) -> Row[Any] | None: ...
