"""Inputs and payloads of the ticket, time entry and purchase order mutations."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from opsgraph.schema.enums import PurchaseOrderState, TicketPriority, TicketStatus
from opsgraph.schema.errors import UserError, changed_field, errors_field

if TYPE_CHECKING:
    from opsgraph.schema.ticket import PurchaseOrder, Ticket, TimeEntry

TicketType = Annotated["Ticket", strawberry.lazy("opsgraph.schema.ticket")]
TimeEntryType = Annotated["TimeEntry", strawberry.lazy("opsgraph.schema.ticket")]
PurchaseOrderType = Annotated["PurchaseOrder", strawberry.lazy("opsgraph.schema.ticket")]

TICKET = "The ticket, as changed."


# --- tickets -------------------------------------------------------------------------------


@strawberry.input(
    description="A new ticket, `open`. Customer-portal users open tickets for their own "
    "customer only."
)
class TicketCreateInput:
    customer_id: strawberry.ID = strawberry.field(description="The customer it is for.")
    subject: str = strawberry.field(description="1-200 characters.")
    description: str = ""
    priority: TicketPriority = TicketPriority.MEDIUM


@strawberry.type(description="The result of `ticketCreate`.")
class TicketCreatePayload:
    ticket: TicketType | None = changed_field("The new ticket.")
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="Fields of a ticket to change; null leaves a field as it is. Not on a "
    "closed ticket; customer-portal users change the subject and description only."
)
class TicketUpdateInput:
    id: strawberry.ID
    subject: str | None = None
    description: str | None = None
    priority: TicketPriority | None = None


@strawberry.type(description="The result of `ticketUpdate`.")
class TicketUpdatePayload:
    ticket: TicketType | None = changed_field(TICKET)
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="The status to move a ticket to: one of its `availableTransitions`. "
    "Customer-portal users only close or reopen a resolved ticket."
)
class TicketChangeStatusInput:
    id: strawberry.ID
    status: TicketStatus


@strawberry.type(description="The result of `ticketChangeStatus`.")
class TicketChangeStatusPayload:
    ticket: TicketType | None = changed_field(TICKET)
    errors: list[UserError] = errors_field()


@strawberry.input(description="Who should work on a ticket: an active staff user.")
class TicketAssignInput:
    id: strawberry.ID
    user_id: strawberry.ID


@strawberry.type(description="The result of `ticketAssign`.")
class TicketAssignPayload:
    ticket: TicketType | None = changed_field(TICKET)
    errors: list[UserError] = errors_field()


@strawberry.input(description="The ticket to take from its assignee.")
class TicketUnassignInput:
    id: strawberry.ID


@strawberry.type(description="The result of `ticketUnassign`.")
class TicketUnassignPayload:
    ticket: TicketType | None = changed_field(TICKET)
    errors: list[UserError] = errors_field()


@strawberry.input(description="Time you spent on a ticket that is not closed.")
class TimeEntryLogInput:
    ticket_id: strawberry.ID
    minutes: int = strawberry.field(description="1-1440 (at most a day).")
    billable: bool = True
    note: str = ""
    started_at: dt.datetime | None = strawberry.field(
        default=None, description="When the work started, with a UTC offset; default now."
    )


@strawberry.type(description="The result of `timeEntryLog`.")
class TimeEntryLogPayload:
    time_entry: TimeEntryType | None = changed_field("The new time entry.")
    ticket: TicketType | None = changed_field("The ticket the time was logged on.")
    errors: list[UserError] = errors_field()


# --- purchase orders -----------------------------------------------------------------------


@strawberry.input(
    description="A purchase order as the partner system has it, by its external id: "
    "created (`received`, version 1) or updated. Completed and cancelled ones are final."
)
class PurchaseOrderUpsertInput:
    external_id: str = strawberry.field(description="Id in the partner system (1-64).")
    customer_external_id: str = strawberry.field(
        description="The customer's external id; it can't change once created."
    )
    amount: Decimal = strawberry.field(description="At least 0, at most 2 decimals.")
    source: str | None = strawberry.field(
        default=None, description="Where it came from; null keeps it (empty when new)."
    )
    description: str | None = strawberry.field(
        default=None, description="Null keeps it (empty when new)."
    )
    brand: str | None = strawberry.field(
        default=None, description="The brand sold (1-64); null keeps it."
    )
    car_model: str | None = strawberry.field(
        default=None, description="The model sold (1-100); null keeps it."
    )


@strawberry.type(description="The result of `purchaseOrderUpsert`.")
class PurchaseOrderUpsertPayload:
    purchase_order: PurchaseOrderType | None = changed_field("The purchase order, as it is now.")
    created: bool | None = strawberry.field(
        default=None, description="True when it was new; null when nothing was done."
    )
    errors: list[UserError] = errors_field()


@strawberry.input(
    description="A forward state change of a purchase order, named by `id` or by "
    "`externalId` (exactly one), made from the version you last read."
)
class PurchaseOrderChangeStateInput:
    id: strawberry.ID | None = None
    external_id: str | None = None
    state: PurchaseOrderState
    expected_version: int = strawberry.field(
        description="The `stateVersion` you read; refused (`STALE_VERSION`) if it moved on."
    )


@strawberry.type(description="The result of `purchaseOrderChangeState`.")
class PurchaseOrderChangeStatePayload:
    purchase_order: PurchaseOrderType | None = changed_field("The purchase order, as changed.")
    errors: list[UserError] = errors_field()
