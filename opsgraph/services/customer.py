"""Customers: customerCreate, customerUpdate, customerUpsert (by external id) and
customerDelete.

Rules: the name is not blank; the email is valid (email-validator, no DNS look-up) and
kept normalised (lower case); an external id belongs to one customer
(``DUPLICATE_EXTERNAL_ID``, also when two requests race for it). A customer is deleted
only while nothing else needs it (``HAS_DEPENDENTS``): no orders, invoices, tickets,
purchase orders or portal users, and no order or invoice on one of its properties; its
properties are deleted with it (each gets a ``property.delete`` audit event).

Customer-portal principals (``actor.portal``) may only update their own customer;
creating, upserting and deleting customers is staff work.

Every function flushes, never commits: the caller owns the transaction. How the other
services reach a customer (portal scope, lock, look-up) is in ``customer_access``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import DuplicateExternalId, HasDependents, InvalidEmail, InvalidInput
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.graph.names import name_of
from opsgraph.models import Customer, Invoice, Order, Property, PurchaseOrder, Ticket, User
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_email, checked_text
from opsgraph.services.customer_access import check_portal as check_portal
from opsgraph.services.customer_access import customer_id_for as customer_id_for
from opsgraph.services.customer_access import lock_customer as lock_customer
from opsgraph.services.patch import KEEP, Patch, given
from opsgraph.services.rows import flush_unique, locked

FIELDS = ("external_id", "name", "email", "phone", "org_no")
# a property's audited fields (services.property uses them too)
PROPERTY_FIELDS = (
    "customer_id",
    "label",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "country",
    "notes",
)
# the name of each field in the GraphQL input, for error paths
INPUT_NAMES = {
    "external_id": "externalId",
    "name": "name",
    "email": "email",
    "phone": "phone",
    "org_no": "orgNo",
}
LIMITS = {"external_id": 64, "name": 200, "email": 320, "phone": 40, "org_no": 32}
EXTERNAL_ID_CONSTRAINT = "uq_customer_external_id"
UPSERT_ATTEMPTS = 3
# what customer.created carries, and what identifies a customer in customer.updated
EVENT_FIELDS = ("id", *FIELDS)
IDENTIFYING = ("id", "external_id", "name")


# --- shared with the property service ------------------------------------------------------


def normalise_email(raw: str | None) -> str | None:
    """The address as stored (normalised, lower case), None for none; ``INVALID_EMAIL``."""
    if raw is None or not raw.strip():
        return None
    address = checked_email(raw, error=InvalidEmail)
    if len(address) > LIMITS["email"]:
        raise InvalidEmail(f"email must be at most {LIMITS['email']} characters", field=["email"])
    return address


# --- customers ------------------------------------------------------------------------------


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given customer fields (column name -> value) as stored; None clears a field,
    except the name, which can't be blank. Every broken rule is reported at once."""
    result: dict[str, Any] = {}
    checks = InputChecks()
    for name, value in values.items():
        field = INPUT_NAMES[name]
        with checks:
            result[name] = _checked_field(name, field, value)
    checks.done()
    return result


def _checked_field(name: str, field: str, value: Any) -> Any:
    if name == "name":
        return checked_text(value, field=field, limit=LIMITS[name], blank=False)
    if name == "email":
        return normalise_email(value)
    if name == "external_id" and value is not None and not value.strip():
        raise InvalidInput("externalId must not be blank (give null for none)", field=[field])
    return checked_text(value, field=field, limit=LIMITS[name]) or None  # optional


def _duplicate(external_id: str | None) -> DuplicateExternalId:
    return DuplicateExternalId(
        f"a customer with the external id {external_id!r} already exists",
        field=["externalId"],
    )


async def _check_external_id_free(
    session: AsyncSession, external_id: str | None, *, other_than: int | None
) -> None:
    if external_id is None:
        return
    query = select(Customer.id).where(Customer.external_id == external_id)
    if other_than is not None:
        query = query.where(Customer.id != other_than)
    if await session.scalar(query) is not None:
        raise _duplicate(external_id)


async def _flush(session: AsyncSession, external_id: str | None) -> None:
    """Flush; an external id taken meanwhile by another request is ``DUPLICATE_EXTERNAL_ID``."""
    await flush_unique(session, constraint=EXTERNAL_ID_CONSTRAINT, error=_duplicate(external_id))


async def _locked(session: AsyncSession, customer_id: int, *, deleting: bool = False) -> Customer:
    """The customer, locked: ``FOR UPDATE`` to delete it (new rows referring to it wait,
    their key checks conflict), else ``FOR NO KEY UPDATE`` (orders, properties... of it
    can still be made meanwhile)."""
    return await locked(session, Customer, customer_id, key_share=not deleting)


async def create_customer(
    session: AsyncSession,
    *,
    name: str,
    external_id: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    org_no: str | None = None,
    actor: Principal,
) -> Customer:
    actor.require(Permission.CUSTOMER_WRITE)
    actor.require_staff("create or delete customers")
    values = checked(
        {"external_id": external_id, "name": name, "email": email, "phone": phone, "org_no": org_no}
    )
    await _check_external_id_free(session, values["external_id"], other_than=None)
    customer = Customer(**values)
    session.add(customer)
    await _flush(session, values["external_id"])
    record(session, actor, "customer.create", "Customer", customer.id, after=values)
    await _emit_created(session, customer.id, values, actor)
    await session.flush()
    return customer


async def _emit_created(
    session: AsyncSession, customer_id: int, values: Mapping[str, Any], actor: Principal
) -> None:
    await emit(
        session,
        "customer.created",
        entity_type="Customer",
        entity_id=customer_id,
        customer_id=customer_id,
        data=fields_of({**values, "id": customer_id}, EVENT_FIELDS, type_name="Customer"),
        actor=actor,
    )


async def _apply(
    session: AsyncSession,
    customer: Customer,
    values: Mapping[str, Any],
    actor: Principal,
    **extra: Any,
) -> bool:
    """Set ``values`` on the (locked) customer; record what changed. False: nothing did."""
    before = snapshot(customer, FIELDS)
    changed = {name: value for name, value in values.items() if getattr(customer, name) != value}
    if not changed:
        return False
    if "external_id" in changed:
        await _check_external_id_free(session, changed["external_id"], other_than=customer.id)
    for name, value in changed.items():
        setattr(customer, name, value)
    await _flush(session, changed.get("external_id"))
    await session.refresh(customer)  # updated_at, set by the server
    after = snapshot(customer, FIELDS)
    record(
        session,
        actor,
        "customer.update",
        "Customer",
        customer.id,
        before=before,
        after=after,
        **extra,
    )
    await emit(
        session,
        "customer.updated",
        entity_type="Customer",
        entity_id=customer.id,
        customer_id=customer.id,
        data={
            **fields_of(customer, IDENTIFYING, type_name="Customer"),
            "changes": diff(before, after),
        },
        actor=actor,
    )
    await session.flush()
    return True


async def update_customer(
    session: AsyncSession,
    *,
    customer_id: int,
    name: Patch[str | None] = KEEP,
    external_id: Patch[str | None] = KEEP,
    email: Patch[str | None] = KEEP,
    phone: Patch[str | None] = KEEP,
    org_no: Patch[str | None] = KEEP,
    actor: Principal,
) -> Customer:
    """Change the given fields (None clears one; the name can't be null). A change that
    changes nothing records no audit event."""
    actor.require(Permission.CUSTOMER_WRITE)
    check_portal(actor, customer_id, field="id")
    values = checked(
        given(name=name, external_id=external_id, email=email, phone=phone, org_no=org_no)
    )
    customer = await _locked(session, customer_id)
    await _apply(session, customer, values, actor)
    return customer


@dataclass(frozen=True)
class Upserted:
    customer: Customer
    created: bool


async def upsert_customer(
    session: AsyncSession,
    *,
    external_id: str,
    name: str,
    email: Patch[str | None] = KEEP,
    phone: Patch[str | None] = KEEP,
    org_no: Patch[str | None] = KEEP,
    actor: Principal,
) -> Upserted:
    """Create the customer with this external id, or update the one that has it (as the
    old mock API's POST did): ``name`` and the other fields given (None clears one) are
    set; fields not given are kept on update, empty on create.

    Safe when requests race for one new external id: ``INSERT ... ON CONFLICT DO
    NOTHING`` waits for the other insert, and when that one won this becomes its update.
    """
    actor.require(Permission.CUSTOMER_WRITE)
    actor.require_staff("create or delete customers")
    if not external_id.strip():
        raise InvalidInput("externalId must not be blank", field=["externalId"])
    values = checked(
        {**given(email=email, phone=phone, org_no=org_no), "external_id": external_id, "name": name}
    )
    key = values["external_id"]
    for _ in range(UPSERT_ATTEMPTS):
        customer = await session.scalar(
            select(Customer).where(Customer.external_id == key).with_for_update(key_share=True)
        )
        if customer is not None:
            await _apply(session, customer, values, actor, upsert=True)
            return Upserted(customer, created=False)
        created_id = await session.scalar(
            insert(Customer)
            .values(**values)
            .on_conflict_do_nothing(index_elements=[Customer.external_id])
            .returning(Customer.id)
        )
        if created_id is not None:
            made = await session.get(Customer, created_id)
            assert made is not None  # noqa: S101 - inserted just now
            after = {name: values.get(name) for name in FIELDS}
            record(session, actor, "customer.create", "Customer", made.id, after=after, upsert=True)
            await _emit_created(session, made.id, after, actor)
            await session.flush()
            return Upserted(made, created=True)
        # another request created it meanwhile (and has committed): update that one
    raise _duplicate(key)  # pragma: no cover - created and deleted again, repeatedly


async def _dependents(session: AsyncSession, customer_id: int) -> dict[str, int]:
    """What still refers to the customer, by kind (only the kinds with any)."""
    own_properties = select(Property.id).where(Property.customer_id == customer_id)

    def counted(model: Any, *where: Any) -> Any:
        return select(func.count()).select_from(model).where(*where).scalar_subquery()

    row = (
        await session.execute(
            select(
                counted(
                    Order,
                    or_(Order.customer_id == customer_id, Order.property_id.in_(own_properties)),
                ).label("orders"),
                counted(
                    Invoice,
                    or_(
                        Invoice.customer_id == customer_id,
                        Invoice.property_id.in_(own_properties),
                    ),
                ).label("invoices"),
                counted(Ticket, Ticket.customer_id == customer_id).label("tickets"),
                counted(PurchaseOrder, PurchaseOrder.customer_id == customer_id).label(
                    "purchase orders"
                ),
                counted(User, User.customer_id == customer_id).label("portal users"),
            )
        )
    ).one()
    return {kind: int(number) for kind, number in row._mapping.items() if number}


async def delete_customer(session: AsyncSession, *, customer_id: int, actor: Principal) -> int:
    """Delete a customer nothing needs any more, and its properties; its id.

    Refused (``HAS_DEPENDENTS``) while it has orders, invoices (also on its properties),
    tickets or purchase orders (history that stays), or portal users (their link would be
    cleared and they would see every customer's data). The customer's row and its
    properties are locked first, so nothing new can refer to them before the delete.
    """
    actor.require(Permission.CUSTOMER_WRITE)
    actor.require_staff("create or delete customers")
    customer = await _locked(session, customer_id, deleting=True)
    owned = (
        await session.execute(
            select(*Property.__table__.c)
            .where(Property.customer_id == customer_id)
            .order_by(Property.id)
            .with_for_update()
        )
    ).all()
    found = await _dependents(session, customer_id)
    if found:
        listed = ", ".join(f"{number} {kind}" for kind, number in found.items())
        raise HasDependents(
            f"{name_of(customer)} can't be deleted while it has {listed}; "
            "they are kept as history (portal users: remove their link first)",
            field=["id"],
        )
    before = snapshot(customer, FIELDS)
    for prop in owned:
        record(
            session,
            actor,
            "property.delete",
            "Property",
            prop.id,
            before=snapshot(prop, PROPERTY_FIELDS),
            reason="customer deleted",
        )
    try:
        await session.execute(
            delete(Customer).where(Customer.id == customer_id),
            execution_options={"synchronize_session": False},
        )
    except IntegrityError:  # a dependent the checks did not foresee
        raise HasDependents(
            f"{name_of(customer)} can't be deleted: other records still refer to it",
            field=["id"],
        ) from None
    session.expunge(customer)
    record(
        session,
        actor,
        "customer.delete",
        "Customer",
        customer_id,
        before=before,
        properties_deleted=[prop.id for prop in owned],
    )
    await session.flush()
    return customer_id
