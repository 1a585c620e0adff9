"""Customers: reads now; the rules for changing them arrive with the mutations."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.errors import InvalidInput
from opsgraph.models import Customer


async def list_customers(
    session: AsyncSession, *, limit: int, after_id: int | None = None
) -> tuple[Sequence[Customer], bool, int]:
    """One page of customers by id, whether more follow, and the total count."""
    query = select(Customer).order_by(Customer.id).limit(limit + 1)
    if after_id is not None:
        query = query.where(Customer.id > after_id)
    rows = (await session.scalars(query)).all()
    total = await session.scalar(select(func.count()).select_from(Customer))
    return rows[:limit], len(rows) > limit, int(total or 0)


async def get_customer(
    session: AsyncSession, *, customer_id: int | None = None, external_id: str | None = None
) -> Customer | None:
    if (customer_id is None) == (external_id is None):
        raise InvalidInput("give exactly one of id and externalId", field=["id"])
    if customer_id is not None:
        return await session.get(Customer, customer_id)
    return await session.scalar(select(Customer).where(Customer.external_id == external_id))
