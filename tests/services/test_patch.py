"""The partial-update convention without HTTP: ``Patch`` in the services (``KEEP`` keeps a
field, a value sets it, None clears it or is refused at the field), and the one conversion
from an update input's field to a ``Patch``."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import Some

from opsgraph.errors import InvalidInput
from opsgraph.models import Customer
from opsgraph.schema.patch import patch
from opsgraph.services import customer as customers
from opsgraph.services.patch import KEEP, given, mapped, required
from tests.events.catalogue_run import admin


def test_given_drops_what_is_kept() -> None:
    assert given(name="Acme", email=None, phone=KEEP) == {"name": "Acme", "email": None}


def test_mapped_converts_a_value_only() -> None:
    assert mapped("7", int) == 7
    assert mapped(None, int) is None
    assert mapped(KEEP, int) is KEEP


def test_required_refuses_null_at_the_field() -> None:
    assert required("Acme", field="name") == "Acme"
    assert required(KEEP, field="name") is KEEP
    with pytest.raises(InvalidInput) as refused:
        required(None, field="name")
    assert refused.value.field == ["name"]


def test_an_input_field_becomes_a_patch() -> None:
    assert patch(None) is KEEP  # left out
    assert patch(Some(None)) is None  # an explicit null
    assert patch(Some("x")) == "x"
    assert patch("x") == "x"  # an input whose null keeps (SDL default null)


async def test_a_service_keeps_sets_and_clears(session: AsyncSession) -> None:
    actor = await admin(session)
    made = await customers.create_customer(
        session, name="Acme", email="ops@acme.example", phone="42", actor=actor
    )
    await customers.update_customer(session, customer_id=made.id, phone=None, actor=actor)
    await customers.update_customer(session, customer_id=made.id, org_no="556", actor=actor)
    row = (
        await session.execute(
            select(Customer.name, Customer.email, Customer.phone, Customer.org_no).where(
                Customer.id == made.id
            )
        )
    ).one()
    assert tuple(row) == ("Acme", "ops@acme.example", None, "556")


async def test_a_service_refuses_null_for_a_required_field(session: AsyncSession) -> None:
    actor = await admin(session)
    made = await customers.create_customer(session, name="Acme", actor=actor)
    with pytest.raises(InvalidInput) as refused:
        await customers.update_customer(session, customer_id=made.id, name=None, actor=actor)
    assert (refused.value.code, refused.value.field) == ("BAD_USER_INPUT", ["name"])
    assert await session.scalar(select(Customer.name).where(Customer.id == made.id)) == "Acme"
