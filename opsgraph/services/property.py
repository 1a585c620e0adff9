"""Properties (sites, addresses): propertyCreate, propertyUpdate, propertyDelete.

A property always belongs to exactly one existing customer. It may be moved to another
customer (a site changes hands), but not while its current customer still has business
on it:
- an open (draft or sent) invoice for it: ``PROPERTY_HAS_OPEN_INVOICES``;
- an order on it that is not cancelled and has no live (non-void) invoice yet, which
  ``invoiceCreateFromOrder`` would still invoice to the old customer with this property:
  ``HAS_DEPENDENTS``.
Paid and void invoices and invoiced orders stay with the old customer as history. (No
database key ties an order's or invoice's property to its customer, so nothing but these
checks would stop a move; orderCreate and invoiceCreate read the property ``FOR SHARE``,
which waits for the ``FOR UPDATE`` lock taken here, so they can't race a move.)

A property is deleted only while no order or invoice refers to it (``HAS_DEPENDENTS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    HasDependents,
    InvalidInput,
    NotFound,
    PropertyCustomerMismatch,
    PropertyHasOpenInvoices,
)
from opsgraph.graph.names import enum_values, name_of, named
from opsgraph.loaders.sql import Scope, in_scope
from opsgraph.models import Invoice, InvoiceStatus, Order, OrderStatus, Property
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.customer import PROPERTY_FIELDS, check_portal, lock_customer
from opsgraph.services.patch import KEEP, Patch, given
from opsgraph.services.rows import locked

FIELDS = PROPERTY_FIELDS
INPUT_NAMES = {
    "customer_id": "customerId",
    "label": "label",
    "address_line1": "addressLine1",
    "address_line2": "addressLine2",
    "postal_code": "postalCode",
    "city": "city",
    "country": "country",
    "notes": "notes",
}
LIMITS = {
    "label": 200,
    "address_line1": 200,
    "address_line2": 200,
    "postal_code": 20,
    "city": 100,
    "notes": 10_000,
}
DEFAULT_COUNTRY = "SE"
OPEN_INVOICE = (InvoiceStatus.draft.value, InvoiceStatus.sent.value)

# ISO 3166-1 alpha-2: the officially assigned codes
_ISO_3166_ALPHA_2 = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO
    BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ
    DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP
    GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG
    KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML
    MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE
    PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL
    SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM
    US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_3166_ALPHA_2.split())


def checked_country(value: str | None) -> str:
    code = (value or "").strip().upper()
    if code not in COUNTRIES:
        raise InvalidInput(
            f"country {value!r} is not an ISO 3166-1 alpha-2 code (such as SE, NO or DE)",
            field=["country"],
        )
    return code


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """The given property fields (column name -> value) as stored; None clears a field,
    except the label and country, which are required. Every broken rule is reported at
    once."""
    result: dict[str, Any] = {}
    checks = InputChecks()
    for name, value in values.items():
        with checks:
            result[name] = _checked_field(name, INPUT_NAMES[name], value)
    checks.done()
    return result


def _checked_field(name: str, field: str, value: Any) -> Any:
    if name == "customer_id":
        if value is None:
            raise InvalidInput("a property always belongs to a customer", field=[field])
        return value
    if name == "label":
        return checked_text(value, field=field, limit=LIMITS[name], blank=False)
    if name == "country":
        return checked_country(value)
    return checked_text(value, field=field, limit=LIMITS[name]) or None  # optional


async def _customer_kept(
    session: AsyncSession, customer_id: int, actor: Principal, *, field: str = "customerId"
) -> None:
    """The customer exists, locked ``FOR KEY SHARE``: it can't be deleted before this
    transaction ends (customerDelete locks it ``FOR UPDATE``), yet stays writable."""
    check_portal(actor, customer_id, field=field)
    await lock_customer(session, customer_id, field=field)


async def check_property_of(session: AsyncSession, property_id: int, customer_id: int) -> None:
    """The property exists and is the customer's, locked ``FOR SHARE``: it can't move to
    another customer before this transaction ends (orderCreate, invoiceCreate)."""
    owner = await session.scalar(
        select(Property.customer_id).where(Property.id == property_id).with_for_update(read=True)
    )
    if owner is None:
        raise NotFound(f"no {named('Property', property_id)}", field=["propertyId"])
    if owner != customer_id:
        raise PropertyCustomerMismatch(
            f"{named('Property', property_id)} belongs to another customer, not to "
            f"{named('Customer', customer_id)}",
            field=["propertyId"],
        )


async def _locked(session: AsyncSession, property_id: int, actor: Principal) -> Property:
    """The property, locked ``FOR UPDATE``: no order or invoice can be made for it (they
    lock it ``FOR SHARE``) or refer to it (foreign key checks) until this ends. A portal
    user's scope is its own customer's properties."""
    scope = in_scope("Property", Scope.of(actor))
    return await locked(session, Property, property_id, where=scope)


async def create_property(
    session: AsyncSession,
    *,
    customer_id: int,
    label: str,
    address_line1: str | None = None,
    address_line2: str | None = None,
    postal_code: str | None = None,
    city: str | None = None,
    country: str = DEFAULT_COUNTRY,
    notes: str | None = None,
    actor: Principal,
) -> Property:
    actor.require(Permission.PROPERTY_WRITE)
    values = checked(
        {
            "customer_id": customer_id,
            "label": label,
            "address_line1": address_line1,
            "address_line2": address_line2,
            "postal_code": postal_code,
            "city": city,
            "country": country,
            "notes": notes,
        }
    )
    await _customer_kept(session, customer_id, actor)
    prop = Property(**values)
    session.add(prop)
    await session.flush()
    record(session, actor, "property.create", "Property", prop.id, after=values)
    await session.flush()
    return prop


async def _count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _check_movable(session: AsyncSession, prop: Property) -> None:
    """Refuse moving ``prop`` (locked) while its customer still has business on it."""
    open_invoices = await _count(
        session, Invoice, Invoice.property_id == prop.id, Invoice.status.in_(OPEN_INVOICE)
    )
    if open_invoices:
        raise PropertyHasOpenInvoices(
            f"{name_of(prop)} ({prop.label!r}) has {open_invoices} open "
            f"({enum_values(OPEN_INVOICE)}) invoice(s): "
            "it can't move to another customer until they are paid or void",
            field=["customerId"],
        )
    live_invoice = select(Invoice.id).where(
        Invoice.order_id == Order.id, Invoice.status != InvoiceStatus.void.value
    )
    to_invoice = await _count(
        session,
        Order,
        Order.property_id == prop.id,
        Order.status != OrderStatus.cancelled.value,
        ~live_invoice.exists(),
    )
    if to_invoice:
        raise HasDependents(
            f"{name_of(prop)} ({prop.label!r}) has {to_invoice} order(s) not yet invoiced: "
            "it can't "
            "move to another customer until they are invoiced or cancelled",
            field=["customerId"],
        )


async def update_property(
    session: AsyncSession,
    *,
    property_id: int,
    customer_id: Patch[int | None] = KEEP,
    label: Patch[str | None] = KEEP,
    address_line1: Patch[str | None] = KEEP,
    address_line2: Patch[str | None] = KEEP,
    postal_code: Patch[str | None] = KEEP,
    city: Patch[str | None] = KEEP,
    country: Patch[str | None] = KEEP,
    notes: Patch[str | None] = KEEP,
    actor: Principal,
) -> Property:
    """Change the given fields (None clears an optional one; the customer, label and
    country can't be null), and possibly the customer (see the module's rules). A change
    that changes nothing records no audit event."""
    actor.require(Permission.PROPERTY_WRITE)
    values = checked(
        given(
            customer_id=customer_id,
            label=label,
            address_line1=address_line1,
            address_line2=address_line2,
            postal_code=postal_code,
            city=city,
            country=country,
            notes=notes,
        )
    )
    prop = await _locked(session, property_id, actor)
    changed = {name: value for name, value in values.items() if getattr(prop, name) != value}
    if not changed:
        return prop
    if "customer_id" in changed:
        await _customer_kept(session, changed["customer_id"], actor)
        await _check_movable(session, prop)
    before = snapshot(prop, FIELDS)
    for name, value in changed.items():
        setattr(prop, name, value)
    await session.flush()
    await session.refresh(prop)  # updated_at, set by the server
    record(
        session,
        actor,
        "property.update",
        "Property",
        prop.id,
        before=before,
        after=snapshot(prop, FIELDS),
    )
    await session.flush()
    return prop


async def delete_property(session: AsyncSession, *, property_id: int, actor: Principal) -> int:
    """Delete a property no order or invoice refers to; its id."""
    actor.require(Permission.PROPERTY_WRITE)
    prop = await _locked(session, property_id, actor)
    orders = await _count(session, Order, Order.property_id == prop.id)
    invoices = await _count(session, Invoice, Invoice.property_id == prop.id)
    refused = HasDependents(
        f"property {prop.label!r} can't be deleted while {orders} order(s) and "
        f"{invoices} invoice(s) refer to it",
        field=["id"],
    )
    if orders or invoices:
        raise refused
    before = snapshot(prop, FIELDS)
    try:
        await session.execute(
            delete(Property).where(Property.id == prop.id),
            execution_options={"synchronize_session": False},
        )
    except IntegrityError:  # a reference the checks did not foresee
        raise refused from None
    session.expunge(prop)
    record(session, actor, "property.delete", "Property", property_id, before=before)
    await session.flush()
    return property_id
