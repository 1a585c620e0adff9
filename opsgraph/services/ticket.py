"""Support tickets and the time logged on them: ticketCreate, ticketUpdate,
ticketChangeStatus, ticketAssign, ticketUnassign, timeEntryLog.

Rules:
- status follows ``transitions.TICKET`` (open -> in_progress -> resolved -> closed;
  resolved -> in_progress reopens). ``resolved_at`` is set on resolve, kept on close and
  cleared on reopen (the table's CHECK: set exactly while resolved or closed).
- a closed ticket is final: it can't be edited, (un)assigned or have time logged on it
  (``TICKET_CLOSED``).
- the assignee exists, is active and is staff (not a customer-portal user).
- minutes of a time entry: 1..1440 (one day, as the table's CHECK); the entry is the
  actor's own; it can't start in the future.

Customer-portal principals (``Principal.portal``; the built-in ``customer`` role has
``ticket:write``) act only on their own customer's tickets (none while linked to no
customer): another customer's ticket or
customer is ``NOT_FOUND`` (a WHERE clause of the lookup, never a check afterwards). What
they may do is deliberately narrow:
- create tickets for their own customer (with the priority they report),
- change the subject and description of their tickets (not the priority: staff triage),
- close or reopen a *resolved* ticket (accept the resolution or object to it); any other
  status change is staff work (``FORBIDDEN``),
- not assign, unassign or log time (``FORBIDDEN``, whatever permissions they hold).

A change that changes nothing (assigning the current assignee, an update to the same
values) succeeds without an audit event: the audit trail records changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, func
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import Forbidden, Inactive, InvalidInput, TicketClosed
from opsgraph.events.emit import emit
from opsgraph.events.payload import diff, fields_of
from opsgraph.graph.names import enum_value, name_of
from opsgraph.loaders.sql import Scope, in_scope
from opsgraph.models import Ticket, TicketPriority, TicketStatus, TimeEntry, User
from opsgraph.permissions import Permission
from opsgraph.services.audit import record, snapshot
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.customer import lock_customer
from opsgraph.services.patch import KEEP, Patch, mapped, required
from opsgraph.services.role import holds_portal_role
from opsgraph.services.rows import locked
from opsgraph.services.transitions import TICKET

MAX_SUBJECT = 200
MAX_DESCRIPTION = 20_000
MAX_NOTE = 10_000
MAX_MINUTES = 1440
# how far in the future a time entry may start (clock skew between client and server)
CLOCK_SKEW = dt.timedelta(minutes=5)

FIELDS = (
    "customer_id",
    "subject",
    "description",
    "status",
    "priority",
    "assignee_id",
    "resolved_at",
)
# what ticket.created carries; what identifies a ticket in ticket.status_changed
EVENT_FIELDS = ("id", *FIELDS, "created_at")
IDENTIFYING = ("id", "customer_id", "subject")
TIME_ENTRY_FIELDS = ("ticket_id", "user_id", "minutes", "billable", "note", "started_at")


def _scope(actor: Principal) -> list[ColumnElement[bool]]:
    """The WHERE clause limiting a portal principal to its own customer's tickets."""
    return in_scope("Ticket", Scope.of(actor))


async def _ticket(
    session: AsyncSession,
    ticket_id: int,
    actor: Principal,
    *,
    field: str = "id",
    share: bool = False,
) -> Ticket:
    """The ticket, locked (FOR UPDATE, or FOR SHARE when only its status must hold), if the
    actor may see it; ``NotFound`` otherwise, the same for absent and out of scope."""
    return await locked(session, Ticket, ticket_id, field=field, where=_scope(actor), read=share)


def _open(ticket: Ticket, *, field: str = "id") -> None:
    if ticket.status == TicketStatus.closed:
        raise TicketClosed(
            f"{name_of(ticket)} is {enum_value(ticket.status)}: it can't change any more",
            field=[field],
        )


def _subject(subject: str) -> str:
    return checked_text(subject, field="subject", limit=MAX_SUBJECT, blank=False)


def _description(description: str) -> str:
    return checked_text(description, field="description", limit=MAX_DESCRIPTION)


def _priority(priority: str) -> str:
    if priority not in {member.value for member in TicketPriority}:
        raise InvalidInput(f"unknown priority {priority!r}", field=["priority"])
    return str(priority)


async def _saved(
    session: AsyncSession, actor: Principal, ticket: Ticket, action: str, before: dict[str, Any]
) -> Ticket:
    """Flush the changed ticket, read it back and record ``action`` (if anything changed)."""
    await session.flush()
    await session.refresh(ticket)
    after = snapshot(ticket, FIELDS)
    if after != before:
        record(session, actor, action, "Ticket", ticket.id, before=before, after=after)
        await session.flush()
    return ticket


async def create_ticket(
    session: AsyncSession,
    *,
    customer_id: int,
    subject: str,
    description: str = "",
    priority: str = TicketPriority.medium.value,
    actor: Principal,
) -> Ticket:
    actor.require(Permission.TICKET_WRITE)
    checks = InputChecks()  # every broken input rule at once
    with checks:
        subject = _subject(subject)
    with checks:
        description = _description(description)
    with checks:
        priority = _priority(priority)
    checks.done()
    # FOR KEY SHARE: the customer can't be deleted under the new ticket
    await lock_customer(session, customer_id, scope=in_scope("Customer", Scope.of(actor)))
    ticket = Ticket(
        customer_id=customer_id,
        subject=subject,
        description=description,
        priority=priority,
        created_by=actor.user_id,
    )
    session.add(ticket)
    await session.flush()
    await session.refresh(ticket)
    record(session, actor, "ticket.create", "Ticket", ticket.id, after=snapshot(ticket, FIELDS))
    await emit(
        session,
        "ticket.created",
        entity_type="Ticket",
        entity_id=ticket.id,
        customer_id=ticket.customer_id,
        data=fields_of(ticket, EVENT_FIELDS, type_name="Ticket"),
        actor=actor,
    )
    await session.flush()
    return ticket


async def update_ticket(
    session: AsyncSession,
    *,
    ticket_id: int,
    subject: Patch[str | None] = KEEP,
    description: Patch[str | None] = KEEP,
    priority: Patch[str | None] = KEEP,
    actor: Principal,
) -> Ticket:
    """Change the given fields (none can be null). Not on a closed ticket; portal users
    change the subject and description only."""
    actor.require(Permission.TICKET_WRITE)
    if priority is not KEEP:
        actor.require_staff("change a ticket's priority")
    checks = InputChecks()  # every broken input rule at once
    new_subject: Patch[str] = KEEP
    new_description: Patch[str] = KEEP
    new_priority: Patch[str] = KEEP
    with checks:
        new_subject = mapped(required(subject, field="subject"), _subject)
    with checks:
        new_description = mapped(required(description, field="description"), _description)
    with checks:
        new_priority = mapped(required(priority, field="priority"), _priority)
    checks.done()
    ticket = await _ticket(session, ticket_id, actor)
    _open(ticket)
    before = snapshot(ticket, FIELDS)
    if new_subject is not KEEP:
        ticket.subject = new_subject
    if new_description is not KEEP:
        ticket.description = new_description
    if new_priority is not KEEP:
        ticket.priority = new_priority
    return await _saved(session, actor, ticket, "ticket.update", before)


async def change_ticket_status(
    session: AsyncSession, *, ticket_id: int, status: str, actor: Principal
) -> Ticket:
    """Move the ticket along ``transitions.TICKET``; resolving sets ``resolved_at``,
    reopening clears it. Portal users only close or reopen a resolved ticket."""
    actor.require(Permission.TICKET_WRITE)
    ticket = await _ticket(session, ticket_id, actor)
    if actor.portal and ticket.status != TicketStatus.resolved:
        raise Forbidden(
            "customer-portal users can only close or reopen a RESOLVED ticket; "
            f"{name_of(ticket)} is {enum_value(ticket.status)}"
        )
    TICKET.check(ticket.status, status)
    before = snapshot(ticket, FIELDS)
    if status == TicketStatus.resolved:
        # the transaction's time, never before the ticket was opened (the table's CHECK)
        ticket.resolved_at = func.greatest(func.now(), Ticket.created_at)
    elif status == TicketStatus.in_progress:
        ticket.resolved_at = None  # started, or reopened
    ticket.status = status
    await _saved(session, actor, ticket, "ticket.change_status", before)
    after = snapshot(ticket, FIELDS)
    if after["status"] != before["status"]:
        moved = ("status", "resolved_at")
        await emit(
            session,
            "ticket.status_changed",
            entity_type="Ticket",
            entity_id=ticket.id,
            customer_id=ticket.customer_id,
            data={
                **fields_of(ticket, IDENTIFYING, type_name="Ticket"),
                "changes": diff(
                    {name: before[name] for name in moved}, {name: after[name] for name in moved}
                ),
            },
            actor=actor,
        )
        await session.flush()
    return ticket


async def assign_ticket(
    session: AsyncSession, *, ticket_id: int, user_id: int, actor: Principal
) -> Ticket:
    """Give the ticket to an active staff user (the same one again: nothing changes)."""
    actor.require(Permission.TICKET_WRITE)
    actor.require_staff("assign tickets")
    ticket = await _ticket(session, ticket_id, actor)
    _open(ticket)
    # FOR SHARE: the user can't be deactivated until this assignment is committed
    user = await locked(session, User, user_id, field="userId", read=True)
    if not user.is_active:
        raise Inactive(f"{name_of(user)} is deactivated", field=["userId"])
    if await holds_portal_role(session, user.id):
        raise InvalidInput(
            f"{name_of(user)} is a customer-portal user: tickets go to staff",
            field=["userId"],
        )
    before = snapshot(ticket, FIELDS)
    ticket.assignee_id = user.id
    return await _saved(session, actor, ticket, "ticket.assign", before)


async def unassign_ticket(session: AsyncSession, *, ticket_id: int, actor: Principal) -> Ticket:
    """Take the ticket from its assignee (none: nothing changes)."""
    actor.require(Permission.TICKET_WRITE)
    actor.require_staff("unassign tickets")
    ticket = await _ticket(session, ticket_id, actor)
    _open(ticket)
    before = snapshot(ticket, FIELDS)
    ticket.assignee_id = None
    return await _saved(session, actor, ticket, "ticket.unassign", before)


async def log_time(
    session: AsyncSession,
    *,
    ticket_id: int,
    minutes: int,
    billable: bool = True,
    note: str = "",
    started_at: dt.datetime | None = None,
    actor: Principal,
) -> TimeEntry:
    """Log the actor's own time on a ticket that is not closed."""
    actor.require(Permission.TIME_ENTRY_WRITE)
    actor.require_staff("log time")
    checks = InputChecks()  # every broken input rule at once
    if not 0 < minutes <= MAX_MINUTES:
        checks.add(
            InvalidInput(
                f"minutes must be between 1 and {MAX_MINUTES} (one day), not {minutes}",
                field=["minutes"],
            )
        )
    with checks:
        note = checked_text(note, field="note", limit=MAX_NOTE)
    if started_at is not None:
        if started_at.tzinfo is None or started_at.utcoffset() is None:
            checks.add(InvalidInput("startedAt needs a UTC offset", field=["startedAt"]))
        elif started_at > dt.datetime.now(dt.UTC) + CLOCK_SKEW:
            checks.add(InvalidInput("startedAt must not be in the future", field=["startedAt"]))
    checks.done()
    # FOR SHARE: the ticket can't be closed until this entry is committed
    ticket = await _ticket(session, ticket_id, actor, field="ticketId", share=True)
    _open(ticket, field="ticketId")
    entry = TimeEntry(
        ticket_id=ticket.id,
        user_id=actor.user_id,
        minutes=minutes,
        billable=billable,
        note=note,
        started_at=started_at if started_at is not None else func.now(),
    )
    session.add(entry)
    await session.flush()
    await session.refresh(entry)
    record(
        session,
        actor,
        "time_entry.log",
        "TimeEntry",
        entry.id,
        after=snapshot(entry, TIME_ENTRY_FIELDS),
    )
    await session.flush()
    return entry
