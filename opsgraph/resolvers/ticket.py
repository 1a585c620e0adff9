"""Root mutation fields of tickets and time entries:
ticketCreate, ticketUpdate, ticketChangeStatus, ticketAssign, ticketUnassign, timeEntryLog.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

from typing import Any

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.schema.ticket_mutations import (
    TicketAssignInput,
    TicketAssignPayload,
    TicketChangeStatusInput,
    TicketChangeStatusPayload,
    TicketCreateInput,
    TicketCreatePayload,
    TicketUnassignInput,
    TicketUnassignPayload,
    TicketUpdateInput,
    TicketUpdatePayload,
    TimeEntryLogInput,
    TimeEntryLogPayload,
)
from opsgraph.services import ticket as service


def _value(member: Any) -> Any:
    """A GraphQL enum member as the database's string (None stays None)."""
    return None if member is None else str(member.value)


def _ticket(ticket: Any) -> dict[str, Any]:
    return {"ticket": Ref("Ticket", ticket.id)}


@strawberry.type
class TicketMutation:
    @strawberry.mutation(
        description="Open a ticket for a customer (`ticket:write`).",
        metadata=requires("ticket:write"),
    )
    async def ticket_create(self, info: Info, input: TicketCreateInput) -> TicketCreatePayload:
        return await mutate(
            info,
            TicketCreatePayload,
            lambda session, actor: service.create_ticket(
                session,
                customer_id=parse_global_id(input.customer_id, "Customer", field="customerId"),
                subject=input.subject,
                description=input.description,
                priority=_value(input.priority),
                actor=actor,
            ),
            _ticket,
        )

    @strawberry.mutation(
        description="Change a ticket's subject, description or priority (`ticket:write`).",
        metadata=requires("ticket:write"),
    )
    async def ticket_update(self, info: Info, input: TicketUpdateInput) -> TicketUpdatePayload:
        return await mutate(
            info,
            TicketUpdatePayload,
            lambda session, actor: service.update_ticket(
                session,
                ticket_id=parse_global_id(input.id, "Ticket"),
                subject=patch(input.subject),
                description=patch(input.description),
                priority=patch(_value(input.priority)),
                actor=actor,
            ),
            _ticket,
        )

    @strawberry.mutation(
        description="Move a ticket to one of its `availableTransitions` (`ticket:write`).",
        metadata=requires("ticket:write"),
    )
    async def ticket_change_status(
        self, info: Info, input: TicketChangeStatusInput
    ) -> TicketChangeStatusPayload:
        return await mutate(
            info,
            TicketChangeStatusPayload,
            lambda session, actor: service.change_ticket_status(
                session,
                ticket_id=parse_global_id(input.id, "Ticket"),
                status=_value(input.status),
                actor=actor,
            ),
            _ticket,
        )

    @strawberry.mutation(
        description="Give a ticket to an active staff user (`ticket:write`).",
        metadata=requires("ticket:write"),
    )
    async def ticket_assign(self, info: Info, input: TicketAssignInput) -> TicketAssignPayload:
        return await mutate(
            info,
            TicketAssignPayload,
            lambda session, actor: service.assign_ticket(
                session,
                ticket_id=parse_global_id(input.id, "Ticket"),
                user_id=parse_global_id(input.user_id, "User", field="userId"),
                actor=actor,
            ),
            _ticket,
        )

    @strawberry.mutation(
        description="Take a ticket from its assignee (`ticket:write`).",
        metadata=requires("ticket:write"),
    )
    async def ticket_unassign(
        self, info: Info, input: TicketUnassignInput
    ) -> TicketUnassignPayload:
        return await mutate(
            info,
            TicketUnassignPayload,
            lambda session, actor: service.unassign_ticket(
                session, ticket_id=parse_global_id(input.id, "Ticket"), actor=actor
            ),
            _ticket,
        )

    @strawberry.mutation(
        description="Log time you spent on a ticket that is not closed (`time_entry:write`).",
        metadata=requires("time_entry:write"),
    )
    async def time_entry_log(self, info: Info, input: TimeEntryLogInput) -> TimeEntryLogPayload:
        return await mutate(
            info,
            TimeEntryLogPayload,
            lambda session, actor: service.log_time(
                session,
                ticket_id=parse_global_id(input.ticket_id, "Ticket", field="ticketId"),
                minutes=input.minutes,
                billable=input.billable,
                note=input.note,
                started_at=input.started_at,
                actor=actor,
            ),
            lambda entry: {
                "time_entry": Ref("TimeEntry", entry.id),
                "ticket": Ref("Ticket", entry.ticket_id),
            },
        )
