"""Inputs and payloads of the customer and property mutations: customerCreate,
customerUpdate, customerUpsert, customerDelete, propertyCreate, propertyUpdate,
propertyDelete.

Update inputs tell "leave it" from "clear it": a field left out keeps its value, a field
given as null is cleared (refused for a required one, such as `name`).
"""

from __future__ import annotations

from typing import Any

import strawberry

from opsgraph.schema.customer import Customer, Property
from opsgraph.schema.errors import UserError, changed_field, errors_field

NAME = "Not blank, at most 200 characters."
EMAIL = "A valid address (INVALID_EMAIL otherwise), stored normalised in lower case."
EXTERNAL_ID = "Id in the partner system: unique (DUPLICATE_EXTERNAL_ID), at most 64 characters."
COUNTRY = "ISO 3166-1 alpha-2 code, such as SE (any case)."
KEEP = "Left out: kept as it is; null: cleared."


def _keep(description: str = "", *, clearable: bool = True) -> Any:
    """An update input's field: left out, kept; null clears it (refused if not clearable)."""
    rule = KEEP if clearable else "Left out: kept as it is; can't be null."
    return strawberry.field(description=f"{description} {rule}".strip())


# --- customers ------------------------------------------------------------------------------


@strawberry.input(description="A new customer.")
class CustomerCreateInput:
    name: str = strawberry.field(description=NAME)
    external_id: str | None = strawberry.field(default=None, description=EXTERNAL_ID)
    email: str | None = strawberry.field(default=None, description=EMAIL)
    phone: str | None = strawberry.field(default=None, description="At most 40 characters.")
    org_no: str | None = strawberry.field(
        default=None, description="Organisation number, at most 32 characters."
    )


@strawberry.type(description="The result of `customerCreate`.")
class CustomerCreatePayload:
    customer: Customer | None = changed_field("The customer made.")
    errors: list[UserError] = errors_field()


@strawberry.input(description=f"Fields of a customer to change. {KEEP}")
class CustomerUpdateInput:
    id: strawberry.ID
    name: strawberry.Maybe[str | None] = _keep(NAME, clearable=False)
    external_id: strawberry.Maybe[str | None] = _keep(EXTERNAL_ID)
    email: strawberry.Maybe[str | None] = _keep(EMAIL)
    phone: strawberry.Maybe[str | None] = _keep()
    org_no: strawberry.Maybe[str | None] = _keep("Organisation number.")


@strawberry.type(description="The result of `customerUpdate`.")
class CustomerUpdatePayload:
    customer: Customer | None = changed_field("The customer, as changed.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A customer by its external id: created when no customer has the id, "
    "else that customer is updated (fields left out are kept; null clears)."
)
class CustomerUpsertInput:
    external_id: str = strawberry.field(description="Id in the partner system; not blank.")
    name: str = strawberry.field(description=NAME)
    email: strawberry.Maybe[str | None] = _keep(EMAIL)
    phone: strawberry.Maybe[str | None] = _keep()
    org_no: strawberry.Maybe[str | None] = _keep("Organisation number.")


@strawberry.type(description="The result of `customerUpsert`.")
class CustomerUpsertPayload:
    customer: Customer | None = changed_field("The customer, as created or updated.")
    created: bool | None = strawberry.field(
        default=None,
        description="True: no customer had the external id and this one was created; "
        "false: the customer that has it was updated; null when nothing was done.",
    )
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A customer to delete. Refused (HAS_DEPENDENTS) while it has orders, "
    "invoices, tickets, purchase orders or portal users, or an order or invoice refers "
    "to one of its properties; its properties are deleted with it."
)
class CustomerDeleteInput:
    id: strawberry.ID


@strawberry.type(description="The result of `customerDelete`.")
class CustomerDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id the customer had."
    )
    errors: list[UserError] = errors_field()


# --- properties -----------------------------------------------------------------------------


@strawberry.input(description="A new property of a customer.")
class PropertyCreateInput:
    customer_id: strawberry.ID
    label: str = strawberry.field(description=NAME)
    address_line1: str | None = None
    address_line2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str = strawberry.field(default="SE", description=COUNTRY)
    notes: str | None = None


@strawberry.type(description="The result of `propertyCreate`.")
class PropertyCreatePayload:
    property: Property | None = changed_field("The property made.")
    errors: list[UserError] = errors_field()


@strawberry.input(description=f"Fields of a property to change. {KEEP}")
class PropertyUpdateInput:
    id: strawberry.ID
    customer_id: strawberry.Maybe[strawberry.ID | None] = _keep(
        "Move the property to this customer: refused while its customer has open (draft "
        "or sent) invoices for it (PROPERTY_HAS_OPEN_INVOICES) or orders on it not yet "
        "invoiced (HAS_DEPENDENTS).",
        clearable=False,
    )
    label: strawberry.Maybe[str | None] = _keep(NAME, clearable=False)
    address_line1: strawberry.Maybe[str | None] = _keep()
    address_line2: strawberry.Maybe[str | None] = _keep()
    postal_code: strawberry.Maybe[str | None] = _keep()
    city: strawberry.Maybe[str | None] = _keep()
    country: strawberry.Maybe[str | None] = _keep(COUNTRY, clearable=False)
    notes: strawberry.Maybe[str | None] = _keep()


@strawberry.type(description="The result of `propertyUpdate`.")
class PropertyUpdatePayload:
    property: Property | None = changed_field("The property, as changed.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A property to delete; refused (HAS_DEPENDENTS) while orders or invoices "
    "refer to it."
)
class PropertyDeleteInput:
    id: strawberry.ID


@strawberry.type(description="The result of `propertyDelete`.")
class PropertyDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id the property had."
    )
    errors: list[UserError] = errors_field()
