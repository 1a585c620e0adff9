"""A customer as the other services reach it: the row scope of customer-portal principals,
the lock that keeps a customer from being deleted under a change, and the look-up of a
customer by external id or id."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import NotFound
from opsgraph.graph.names import named
from opsgraph.loaders.sql import Scope
from opsgraph.models import Customer


def check_portal(actor: Principal, customer_id: int, *, field: str) -> None:
    """A customer-portal principal acts only on its own customer's rows: others (all of
    them, while it is linked to no customer) don't exist."""
    scope = Scope.of(actor)
    if scope is not None and not scope.owns(customer_id):
        raise NotFound(f"no {named('Customer', customer_id)}", field=[field])


async def lock_customer(
    session: AsyncSession,
    customer_id: int,
    *,
    field: str = "customerId",
    scope: Iterable[ColumnElement[bool]] = (),
) -> None:
    """The customer exists (within ``scope``), locked ``FOR KEY SHARE``: it can't be
    deleted before this transaction ends (customerDelete locks it ``FOR UPDATE``), yet
    stays writable; ``NotFound`` at ``field`` otherwise."""
    found = await session.scalar(
        select(Customer.id)
        .where(Customer.id == customer_id, *scope)
        .with_for_update(read=True, key_share=True)
    )
    if found is None:
        raise NotFound(f"no {named('Customer', customer_id)}", field=[field])


async def customer_id_for(session: AsyncSession, reference: str, *, field: str = "customer") -> int:
    """The id of the customer with the external id ``reference``, or else with the id
    ``reference`` (digits); ``NotFound`` at ``field`` when neither exists."""
    text = reference.strip()
    found = await session.scalar(select(Customer.id).where(Customer.external_id == text))
    if found is None and text.isascii() and text.isdigit() and len(text) <= 18:
        found = await session.scalar(select(Customer.id).where(Customer.id == int(text)))
    if found is None:
        raise NotFound(f"no customer with the external id or id {reference!r}", field=[field])
    return int(found)
