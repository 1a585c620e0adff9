"""Counts SQL statements per request (or per block), for tests and the dev-mode extension."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine


@dataclass
class StatementLog:
    count: int = 0
    statements: list[str] = field(default_factory=list)
    keep_text: bool = False


_current: ContextVar[StatementLog | None] = ContextVar("opsgraph_statements", default=None)


@event.listens_for(Engine, "before_cursor_execute")
def _count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
    log = _current.get()
    if log is not None:
        log.count += 1
        if log.keep_text:
            log.statements.append(statement)


@contextmanager
def count_statements(*, keep_text: bool = False) -> Iterator[StatementLog]:
    """Count the statements run in this context (and the tasks it starts)."""
    log = StatementLog(keep_text=keep_text)
    token = _current.set(log)
    try:
        yield log
    finally:
        _current.reset(token)
