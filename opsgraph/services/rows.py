"""Rows the services change: read one locked (or ``NOT_FOUND``), and flush so that a
unique constraint a concurrent request beat us to becomes the caller's typed error.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import ColumnElement, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.errors import DomainError, NotFound
from opsgraph.graph.names import named
from opsgraph.models.base import Base

M = TypeVar("M", bound=Base)


async def locked(
    session: AsyncSession,
    model: type[M],
    row_id: int,
    *,
    field: str = "id",
    where: Iterable[ColumnElement[bool]] = (),
    read: bool = False,
    key_share: bool = False,
    populate_existing: bool = False,
) -> M:
    """The ``model`` row with id ``row_id`` (and ``where``: a portal user's scope), locked
    until the transaction ends: ``FOR UPDATE``, ``FOR NO KEY UPDATE`` with ``key_share``,
    ``FOR SHARE`` with ``read``. ``NotFound`` ("no ticket VGlja2V0OjE5": the model's
    noun and the row's global id) at ``field`` otherwise, the same for absent and out of
    scope. ``populate_existing``: an object this session loaded before is refreshed from
    the locked row."""
    primary_key = inspect(model).primary_key[0]
    query = (
        select(model)
        .where(primary_key == row_id, *where)
        .with_for_update(read=read, key_share=key_share)
    )
    if populate_existing:
        query = query.execution_options(populate_existing=True)
    found = await session.scalar(query)
    if found is None:
        raise NotFound(f"no {named(model.__name__, row_id)}", field=[field])
    return found


def constraint_of(error: IntegrityError) -> str | None:
    """The name of the constraint an IntegrityError broke, if PostgreSQL said."""
    diag = getattr(error.orig, "diag", None)
    name: str | None = getattr(diag, "constraint_name", None)
    return name


async def flush_unique(session: AsyncSession, *, constraint: str, error: DomainError) -> None:
    """Flush; when that breaks ``constraint`` (a concurrent request took the value
    meanwhile), raise ``error`` instead. Any other IntegrityError propagates."""
    try:
        await session.flush()
    except IntegrityError as exc:
        if constraint_of(exc) == constraint:
            raise error from None
        raise
