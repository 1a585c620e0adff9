"""Inputs and payloads of the financial transaction mutations: transactionCreate,
transactionUpdate, transactionDelete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from opsgraph.schema.enums import TransactionKind
from opsgraph.schema.errors import UserError, changed_field, errors_field
from opsgraph.schema.invoice import FinancialTransaction

AMOUNT = "More than zero, at most 2 decimals."
DESCRIPTION = "At most 2,000 characters."
BOOKED = (
    "Refused (BOOKED_BY_PAYMENT) for a transaction a payment booked: it changes only with "
    "its payment."
)


@strawberry.input(description="A new bookkeeping entry (booked by the caller).")
class TransactionCreateInput:
    kind: TransactionKind
    amount: Decimal = strawberry.field(description=AMOUNT)
    occurred_on: dt.date
    description: str = strawberry.field(default="", description=DESCRIPTION)


@strawberry.type(description="The result of `transactionCreate`.")
class TransactionCreatePayload:
    transaction: FinancialTransaction | None = changed_field("The transaction booked.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description=f"Fields of a transaction to change; a field left out is kept. {BOOKED}"
)
class TransactionUpdateInput:
    id: strawberry.ID
    kind: strawberry.Maybe[TransactionKind | None] = strawberry.field(description="Can't be null.")
    amount: strawberry.Maybe[Decimal | None] = strawberry.field(
        description=f"{AMOUNT} Can't be null."
    )
    occurred_on: strawberry.Maybe[dt.date | None] = strawberry.field(description="Can't be null.")
    description: strawberry.Maybe[str | None] = strawberry.field(
        description=f"{DESCRIPTION} Null: made empty."
    )


@strawberry.type(description="The result of `transactionUpdate`.")
class TransactionUpdatePayload:
    transaction: FinancialTransaction | None = changed_field("The transaction, as changed.")
    errors: list[UserError] = errors_field()


@strawberry.input(description=f"A transaction to delete. {BOOKED}")
class TransactionDeleteInput:
    id: strawberry.ID


@strawberry.type(description="The result of `transactionDelete`.")
class TransactionDeletePayload:
    deleted_id: strawberry.ID | None = strawberry.field(
        default=None, description="The global id the transaction had."
    )
    errors: list[UserError] = errors_field()
