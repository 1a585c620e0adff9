"""GraphQL types for support tickets, time entries and purchase orders."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from opsgraph.schema.enums import PurchaseOrderState, TicketPriority, TicketStatus
from opsgraph.schema.fields import from_row, history_of, many, node_id, one
from opsgraph.schema.node import Node
from opsgraph.services.transitions import PURCHASE_ORDER, TICKET


@strawberry.type(description="A support ticket raised for a customer.")
class Ticket(Node):
    id: strawberry.ID = node_id("Ticket")
    subject: str
    description: str
    status: TicketStatus
    priority: TicketPriority
    resolved_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    available_transitions = from_row(
        lambda row: TICKET.available(row.status),
        list[TicketStatus],
        "The statuses `ticketChangeStatus` can move the ticket to now (the same table "
        "that enforces them).",
    )

    customer = one("Ticket", "customer", "The customer the ticket is for.", nullable=False)
    assignee = one("Ticket", "assignee", "Who works on it, if anyone.")
    time_entries = many("Ticket", "time_entries", "Time logged on the ticket.")
    history = history_of("Ticket")


@strawberry.type(description="Time a user spent on a ticket.")
class TimeEntry(Node):
    id: strawberry.ID = node_id("TimeEntry")
    minutes: int
    billable: bool
    note: str
    started_at: dt.datetime
    created_at: dt.datetime

    ticket = one("TimeEntry", "ticket", "The ticket.", nullable=False)
    user = one("TimeEntry", "user", "Who logged the time.")
    history = history_of("TimeEntry")


@strawberry.type(description="A purchase order sent in by a partner system.")
class PurchaseOrder(Node):
    id: strawberry.ID = node_id("PurchaseOrder")
    external_id: str = strawberry.field(description="Id in the partner system.")
    source: str = strawberry.field(description="Where it came from, e.g. a regional office.")
    state: PurchaseOrderState
    description: str
    brand: str | None = strawberry.field(
        description="The brand sold, as a sales office reported it."
    )
    car_model: str | None = strawberry.field(description="The model sold.")
    amount: Decimal
    state_version: int = strawberry.field(description="Bumped on every state change.")
    created_at: dt.datetime
    updated_at: dt.datetime
    available_transitions = from_row(
        lambda row: PURCHASE_ORDER.available(row.state),
        list[PurchaseOrderState],
        "The states `purchaseOrderChangeState` can move it to now (forward only).",
    )

    customer = one("PurchaseOrder", "customer", "The customer.", nullable=False)
    history = history_of("PurchaseOrder")
