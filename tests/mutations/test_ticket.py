"""Tickets and time entries through GraphQL: ticketCreate, ticketUpdate,
ticketChangeStatus, ticketAssign, ticketUnassign, timeEntryLog; every rule with its
error code and field, and nothing changed when refused; audit events; permissions; the
customer-portal user's row scope."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph.ids import to_global_id
from opsgraph.models import AuditEvent, Customer, Ticket, TimeEntry, User, UserRole
from opsgraph.services.role import ensure_builtin_roles
from tests.conftest import GraphQLClient, create_and_sign_in
from tests.mutations.helpers import events, gid, payload_of, refused

PORTAL_FIELDS = """id subject description status priority resolvedAt availableTransitions
  customer { id }"""
TICKET_FIELDS = PORTAL_FIELDS + " assignee { id username }"  # users: user:read
ERRORS = "errors { code message field }"


def queries(fields: str) -> dict[str, str]:
    """Every mutation, selecting ``fields`` of the ticket."""
    return {
        "create": f"""mutation($input: TicketCreateInput!) {{ ticketCreate(input: $input) {{
  ticket {{ {fields} }} {ERRORS} }} }}""",
        "update": f"""mutation($input: TicketUpdateInput!) {{ ticketUpdate(input: $input) {{
  ticket {{ {fields} }} {ERRORS} }} }}""",
        "status": f"""mutation($id: ID!, $status: TicketStatus!) {{
  ticketChangeStatus(input: {{id: $id, status: $status}}) {{
  ticket {{ {fields} }} {ERRORS} }} }}""",
        "assign": f"""mutation($id: ID!, $user: ID!) {{
  ticketAssign(input: {{id: $id, userId: $user}}) {{ ticket {{ {fields} }} {ERRORS} }} }}""",
        "unassign": f"""mutation($id: ID!) {{ ticketUnassign(input: {{id: $id}}) {{
  ticket {{ {fields} }} {ERRORS} }} }}""",
        "log": f"""mutation($input: TimeEntryLogInput!) {{ timeEntryLog(input: $input) {{
  timeEntry {{ id minutes billable note startedAt user {{ id }} ticket {{ id }} }}
  ticket {{ id timeEntries {{ totalCount }} }} {ERRORS} }} }}""",
    }


STAFF = queries(TICKET_FIELDS)
PORTAL = queries(PORTAL_FIELDS)
CREATE, UPDATE, STATUS = STAFF["create"], STAFF["update"], STAFF["status"]
ASSIGN, UNASSIGN, LOG = STAFF["assign"], STAFF["unassign"], STAFF["log"]
HISTORY = """query($id: ID!) { node(id: $id) { ... on Ticket {
  history(orderBy: {field: ID}) { edges { node { action changes actor { username } } } } } } }"""


# --- helpers ---------------------------------------------------------------------------------


async def make_customer(session: AsyncSession, name: str = "Acme") -> int:
    customer_id: int = await session.scalar(
        insert(Customer).values(name=name).returning(Customer.id)
    )
    return customer_id


async def make_ticket(
    session: AsyncSession, customer_id: int, *, status: str = "open", subject: str = "Leak"
) -> int:
    resolved = func.now() if status in ("resolved", "closed") else None
    ticket_id: int = await session.scalar(
        insert(Ticket)
        .values(customer_id=customer_id, subject=subject, status=status, resolved_at=resolved)
        .returning(Ticket.id)
    )
    return ticket_id


async def make_user(
    session: AsyncSession, username: str, *, active: bool = True, customer_id: int | None = None
) -> int:
    """A user; with ``customer_id``, a portal user (the ``customer`` role) of that customer."""
    user_id: int = await session.scalar(
        insert(User)
        .values(
            username=username,
            email=f"{username}@example.com",
            password_hash="x",
            is_active=active,
            customer_id=customer_id,
        )
        .returning(User.id)
    )
    if customer_id is not None:
        roles = await ensure_builtin_roles(session)
        await session.execute(insert(UserRole).values(user_id=user_id, role_id=roles["customer"]))
    return user_id


async def state(session: AsyncSession) -> dict[str, Any]:
    """Every ticket and time entry row and the audit trail's size: what a refused
    mutation must leave as it was."""
    tickets = await session.execute(text("SELECT * FROM ticket ORDER BY id"))
    entries = await session.execute(text("SELECT * FROM time_entry ORDER BY id"))
    audits = await session.scalar(select(func.count()).select_from(AuditEvent))
    return {
        "tickets": [tuple(row) for row in tickets],
        "entries": [tuple(row) for row in entries],
        "audit": audits,
    }


async def top_error(
    client: GraphQLClient, query: str, variables: dict[str, Any], **headers: str
) -> tuple[int, str]:
    """The HTTP status and the code of a request refused as a whole (data null)."""
    response = await client.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    body = response.json()
    assert body.get("data") is None, body
    [error] = body["errors"]
    return response.status_code, str(error["extensions"]["code"])


async def admin_id(session: AsyncSession) -> int:
    found = await session.scalar(select(User.id).where(User.username == "test-admin"))
    assert found is not None
    return found


# --- ticketCreate ----------------------------------------------------------------------------


async def test_create_a_ticket(gql: GraphQLClient, session: AsyncSession) -> None:
    customer = await make_customer(session)
    body = await gql(
        CREATE,
        {
            "input": {
                "customerId": gid("Customer", customer),
                "subject": "  Water leak  ",
                "description": "In the basement",
                "priority": "HIGH",
            }
        },
    )
    payload = payload_of(body, "ticketCreate")
    assert payload["errors"] == []
    ticket = payload["ticket"]
    assert ticket["subject"] == "Water leak"
    assert (ticket["status"], ticket["priority"], ticket["resolvedAt"]) == ("OPEN", "HIGH", None)
    assert ticket["availableTransitions"] == ["IN_PROGRESS"]
    assert ticket["customer"] == {"id": gid("Customer", customer)}
    row = await session.scalar(select(Ticket))
    assert row is not None
    assert (row.customer_id, row.subject, row.description, row.priority, row.status) == (
        customer,
        "Water leak",
        "In the basement",
        "high",
        "open",
    )
    assert row.created_by == await admin_id(session)
    assert ticket["id"] == gid("Ticket", row.id)
    [event] = await events(session, "ticket.create")
    assert (event.entity_type, event.entity_id, event.actor_user_id) == (
        "Ticket",
        row.id,
        await admin_id(session),
    )
    assert event.changes["after"]["subject"] == "Water leak"
    assert event.changes["after"]["status"] == "open"
    # the history lists it
    history = await gql(HISTORY, {"id": ticket["id"]})
    [edge] = history["data"]["node"]["history"]["edges"]
    assert edge["node"]["action"] == "ticket.create"
    assert edge["node"]["actor"] == {"username": "test-admin"}


async def test_create_defaults_to_medium_priority(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    body = await gql(CREATE, {"input": {"customerId": gid("Customer", customer), "subject": "x"}})
    ticket = payload_of(body, "ticketCreate")["ticket"]
    assert (ticket["priority"], ticket["description"]) == ("MEDIUM", "")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"subject": "   "}, "BAD_USER_INPUT", ["subject"]),
        ({"subject": "s" * 201}, "BAD_USER_INPUT", ["subject"]),
        ({"description": "d" * 20_001}, "BAD_USER_INPUT", ["description"]),
        ({"customerId": to_global_id("Customer", 10**9)}, "NOT_FOUND", ["customerId"]),
        ({"customerId": "not an id"}, "BAD_USER_INPUT", ["customerId"]),
        ({"customerId": to_global_id("Order", 1)}, "BAD_USER_INPUT", ["customerId"]),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    customer = await make_customer(session)
    before = await state(session)
    body = await gql(
        CREATE, {"input": {"customerId": gid("Customer", customer), "subject": "ok", **fields}}
    )
    error = refused(body, "ticketCreate")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- ticketUpdate ----------------------------------------------------------------------------


async def test_update_changes_only_what_is_given(gql: GraphQLClient, session: AsyncSession) -> None:
    ticket = await make_ticket(session, await make_customer(session))
    body = await gql(
        UPDATE,
        {"input": {"id": gid("Ticket", ticket), "subject": "Big leak", "priority": "URGENT"}},
    )
    payload = payload_of(body, "ticketUpdate")
    assert payload["errors"] == []
    assert (payload["ticket"]["subject"], payload["ticket"]["priority"]) == ("Big leak", "URGENT")
    row = await session.get_one(Ticket, ticket, populate_existing=True)
    assert (row.subject, row.priority, row.description) == ("Big leak", "urgent", "")
    [event] = await events(session, "ticket.update")
    assert event.changes == {
        "before": {"subject": "Leak", "priority": "medium"},
        "after": {"subject": "Big leak", "priority": "urgent"},
    }
    # the same values again: nothing changes, nothing is recorded
    again = await gql(UPDATE, {"input": {"id": gid("Ticket", ticket), "subject": "Big leak"}})
    assert payload_of(again, "ticketUpdate")["errors"] == []
    assert len(await events(session, "ticket.update")) == 1


@pytest.mark.parametrize(
    ("status", "fields", "code", "field"),
    [
        ("closed", {"subject": "New"}, "TICKET_CLOSED", ["id"]),
        ("open", {"subject": " "}, "BAD_USER_INPUT", ["subject"]),
        ("open", {"description": "d" * 20_001}, "BAD_USER_INPUT", ["description"]),
        ("open", {"id": to_global_id("Ticket", 10**9)}, "NOT_FOUND", ["id"]),
        ("open", {"id": to_global_id("Customer", 1)}, "BAD_USER_INPUT", ["id"]),
    ],
)
async def test_update_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    status: str,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    ticket = await make_ticket(session, await make_customer(session), status=status)
    before = await state(session)
    body = await gql(UPDATE, {"input": {"id": gid("Ticket", ticket), **fields}})
    error = refused(body, "ticketUpdate")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- ticketChangeStatus ----------------------------------------------------------------------


async def test_status_follows_the_table_and_resolved_at_follows_status(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    ticket = await make_ticket(session, await make_customer(session))
    steps = [
        ("IN_PROGRESS", False, ["RESOLVED"]),
        ("RESOLVED", True, ["CLOSED", "IN_PROGRESS"]),
        ("IN_PROGRESS", False, ["RESOLVED"]),  # reopened: resolved_at cleared
        ("RESOLVED", True, ["CLOSED", "IN_PROGRESS"]),
        ("CLOSED", True, []),  # closing keeps resolved_at
    ]
    for status, resolved, available in steps:
        body = await gql(STATUS, {"id": gid("Ticket", ticket), "status": status})
        payload = payload_of(body, "ticketChangeStatus")
        assert payload["errors"] == [], status
        assert payload["ticket"]["status"] == status
        assert (payload["ticket"]["resolvedAt"] is not None) == resolved, status
        assert payload["ticket"]["availableTransitions"] == available
        row = await session.get_one(Ticket, ticket, populate_existing=True)
        assert (row.status, row.resolved_at is not None) == (status.lower(), resolved)
    changes = [event.changes for event in await events(session, "ticket.change_status")]
    assert [(c["before"]["status"], c["after"]["status"]) for c in changes] == [
        ("open", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "closed"),
    ]
    assert changes[2]["after"]["resolved_at"] is None
    assert changes[1]["after"]["resolved_at"] is not None


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("open", "RESOLVED"),
        ("open", "CLOSED"),
        ("open", "OPEN"),
        ("in_progress", "CLOSED"),
        ("in_progress", "OPEN"),
        ("resolved", "OPEN"),
        ("closed", "IN_PROGRESS"),
        ("closed", "OPEN"),
    ],
)
async def test_invalid_transitions_change_nothing(
    gql: GraphQLClient, session: AsyncSession, current: str, target: str
) -> None:
    ticket = await make_ticket(session, await make_customer(session), status=current)
    before = await state(session)
    body = await gql(STATUS, {"id": gid("Ticket", ticket), "status": target})
    error = refused(body, "ticketChangeStatus")
    assert (error["code"], error["field"]) == ("INVALID_TRANSITION", ["status"])
    assert error["message"].startswith(
        f"{'an' if current[0] in 'aeiou' else 'a'} {current.upper()}"
    )
    assert f"can't become {target}" in error["message"]
    assert await state(session) == before


async def test_change_status_of_a_missing_ticket(gql: GraphQLClient, session: AsyncSession) -> None:
    before = await state(session)
    body = await gql(STATUS, {"id": to_global_id("Ticket", 10**9), "status": "IN_PROGRESS"})
    error = refused(body, "ticketChangeStatus")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


# --- ticketAssign / ticketUnassign -----------------------------------------------------------


async def test_assign_and_unassign(gql: GraphQLClient, session: AsyncSession) -> None:
    ticket = await make_ticket(session, await make_customer(session))
    sam = await make_user(session, "sam")
    body = await gql(ASSIGN, {"id": gid("Ticket", ticket), "user": gid("User", sam)})
    payload = payload_of(body, "ticketAssign")
    assert payload["errors"] == []
    assert payload["ticket"]["assignee"] == {"id": gid("User", sam), "username": "sam"}
    assert (await session.get_one(Ticket, ticket, populate_existing=True)).assignee_id == sam
    [event] = await events(session, "ticket.assign")
    assert event.changes == {"before": {"assignee_id": None}, "after": {"assignee_id": sam}}
    # the same assignee again: nothing to record
    again = await gql(ASSIGN, {"id": gid("Ticket", ticket), "user": gid("User", sam)})
    assert payload_of(again, "ticketAssign")["errors"] == []
    assert len(await events(session, "ticket.assign")) == 1

    body = await gql(UNASSIGN, {"id": gid("Ticket", ticket)})
    payload = payload_of(body, "ticketUnassign")
    assert (payload["errors"], payload["ticket"]["assignee"]) == ([], None)
    assert (await session.get_one(Ticket, ticket, populate_existing=True)).assignee_id is None
    [event] = await events(session, "ticket.unassign")
    assert event.changes == {"before": {"assignee_id": sam}, "after": {"assignee_id": None}}


@pytest.mark.parametrize(
    ("case", "code", "field"),
    [
        ("missing user", "NOT_FOUND", ["userId"]),
        ("inactive user", "INACTIVE", ["userId"]),
        ("portal user", "BAD_USER_INPUT", ["userId"]),
        ("not a user id", "BAD_USER_INPUT", ["userId"]),
        ("closed ticket", "TICKET_CLOSED", ["id"]),
        ("missing ticket", "NOT_FOUND", ["id"]),
    ],
)
async def test_assign_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, case: str, code: str, field: list[str]
) -> None:
    customer = await make_customer(session)
    ticket = await make_ticket(session, customer, status="closed" if "closed" in case else "open")
    user = {
        "missing user": 10**9,
        "inactive user": await make_user(session, "gone", active=False),
        "portal user": await make_user(session, "kund", customer_id=customer),
    }.get(case, await make_user(session, "sam"))
    user_gid = gid("Ticket" if case == "not a user id" else "User", user)
    ticket_gid = gid("Ticket", 10**9 if case == "missing ticket" else ticket)
    before = await state(session)
    body = await gql(ASSIGN, {"id": ticket_gid, "user": user_gid})
    error = refused(body, "ticketAssign")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


@pytest.mark.parametrize(("status", "code"), [("closed", "TICKET_CLOSED"), (None, "NOT_FOUND")])
async def test_unassign_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, status: str | None, code: str
) -> None:
    ticket = await make_ticket(session, await make_customer(session), status=status or "open")
    await session.execute(
        update(Ticket).where(Ticket.id == ticket).values(assignee_id=await admin_id(session))
    )
    before = await state(session)
    body = await gql(UNASSIGN, {"id": gid("Ticket", ticket if status else 10**9)})
    error = refused(body, "ticketUnassign")
    assert (error["code"], error["field"]) == (code, ["id"])
    assert await state(session) == before


# --- timeEntryLog ----------------------------------------------------------------------------


async def test_log_time(gql: GraphQLClient, session: AsyncSession) -> None:
    ticket = await make_ticket(session, await make_customer(session), status="in_progress")
    started = "2025-03-01T08:30:00+01:00"
    body = await gql(
        LOG,
        {
            "input": {
                "ticketId": gid("Ticket", ticket),
                "minutes": 90,
                "billable": False,
                "note": " Fixed the pipe ",
                "startedAt": started,
            }
        },
    )
    payload = payload_of(body, "timeEntryLog")
    assert payload["errors"] == []
    entry = payload["timeEntry"]
    me = await admin_id(session)
    assert (entry["minutes"], entry["billable"], entry["note"]) == (90, False, "Fixed the pipe")
    assert dt.datetime.fromisoformat(entry["startedAt"]) == dt.datetime.fromisoformat(started)
    assert entry["user"] == {"id": gid("User", me)}
    assert entry["ticket"] == {"id": gid("Ticket", ticket)}
    assert payload["ticket"] == {"id": gid("Ticket", ticket), "timeEntries": {"totalCount": 1}}
    row = await session.scalar(select(TimeEntry))
    assert row is not None
    assert (row.ticket_id, row.user_id, row.minutes, row.billable) == (ticket, me, 90, False)
    [event] = await events(session, "time_entry.log")
    assert (event.entity_type, event.entity_id, event.actor_user_id) == ("TimeEntry", row.id, me)
    assert event.changes["after"]["minutes"] == 90
    assert event.changes["after"]["ticket_id"] == ticket
    # the defaults: billable, now, no note; also on an open or resolved ticket
    for status in ("open", "resolved"):
        other = await make_ticket(session, await make_customer(session, status), status=status)
        body = await gql(LOG, {"input": {"ticketId": gid("Ticket", other), "minutes": 1440}})
        entry = payload_of(body, "timeEntryLog")["timeEntry"]
        assert (entry["minutes"], entry["billable"], entry["note"]) == (1440, True, "")


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"minutes": 0}, "BAD_USER_INPUT", ["minutes"]),
        ({"minutes": -5}, "BAD_USER_INPUT", ["minutes"]),
        ({"minutes": 1441}, "BAD_USER_INPUT", ["minutes"]),
        ({"note": "n" * 10_001}, "BAD_USER_INPUT", ["note"]),
        ({"startedAt": "2999-01-01T00:00:00+00:00"}, "BAD_USER_INPUT", ["startedAt"]),
        ({"startedAt": "2025-01-01T10:00:00"}, "BAD_USER_INPUT", ["startedAt"]),
        ({"status": "closed"}, "TICKET_CLOSED", ["ticketId"]),
        ({"ticketId": to_global_id("Ticket", 10**9)}, "NOT_FOUND", ["ticketId"]),
        ({"ticketId": to_global_id("User", 1)}, "BAD_USER_INPUT", ["ticketId"]),
    ],
)
async def test_log_time_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
) -> None:
    status = fields.pop("status", "in_progress")
    ticket = await make_ticket(session, await make_customer(session), status=status)
    before = await state(session)
    body = await gql(LOG, {"input": {"ticketId": gid("Ticket", ticket), "minutes": 30, **fields}})
    error = refused(body, "timeEntryLog")
    assert (error["code"], error["field"]) == (code, field)
    assert await state(session) == before


# --- permissions -----------------------------------------------------------------------------


def every_mutation(ticket: str, customer: str, user: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (CREATE, {"input": {"customerId": customer, "subject": "x"}}),
        (UPDATE, {"input": {"id": ticket, "subject": "y"}}),
        (STATUS, {"id": ticket, "status": "IN_PROGRESS"}),
        (ASSIGN, {"id": ticket, "user": user}),
        (UNASSIGN, {"id": ticket}),
        (LOG, {"input": {"ticketId": ticket, "minutes": 5}}),
    ]


async def test_callers_without_the_write_permissions_are_forbidden(
    anon_gql: GraphQLClient,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    customer = await make_customer(session)
    ticket = await make_ticket(session, customer)
    headers = await create_and_sign_in(anon_client, session_factory, "anna", ["accountant"])
    user = await make_user(session, "sam")
    before = await state(session)
    for query, variables in every_mutation(
        gid("Ticket", ticket), gid("Customer", customer), gid("User", user)
    ):
        assert await top_error(anon_gql, query, variables, **headers) == (403, "FORBIDDEN")
        assert await top_error(anon_gql, query, variables) == (401, "UNAUTHENTICATED")
    assert await state(session) == before


# --- the customer portal ---------------------------------------------------------------------


@pytest.fixture
async def portal(
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> dict[str, Any]:
    """A portal user of customer ``own``, and another customer's resolved ticket."""
    own = await make_customer(session, "Own AB")
    other = await make_customer(session, "Other AB")
    headers = await create_and_sign_in(
        anon_client, session_factory, "kund", ["customer"], customer_id=own
    )
    return {
        "headers": headers,
        "own": own,
        "other": other,
        "other_ticket": await make_ticket(session, other, status="resolved"),
    }


async def test_portal_users_open_tickets_for_their_own_customer_only(
    anon_gql: GraphQLClient, session: AsyncSession, portal: dict[str, Any]
) -> None:
    headers = portal["headers"]
    body = await anon_gql(
        PORTAL["create"],
        {
            "input": {
                "customerId": gid("Customer", portal["own"]),
                "subject": "Help",
                "priority": "HIGH",
            }
        },
        **headers,
    )
    ticket = payload_of(body, "ticketCreate")["ticket"]
    assert (ticket["subject"], ticket["priority"]) == ("Help", "HIGH")
    assert ticket["customer"] == {"id": gid("Customer", portal["own"])}
    before = await state(session)
    body = await anon_gql(
        PORTAL["create"],
        {"input": {"customerId": gid("Customer", portal["other"]), "subject": "x"}},
        **headers,
    )
    error = refused(body, "ticketCreate")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["customerId"])
    # as if it did not exist
    assert error["message"] == f"no customer {gid('Customer', portal['other'])}"
    assert await state(session) == before


async def test_portal_users_edit_only_their_own_tickets_text(
    anon_gql: GraphQLClient, session: AsyncSession, portal: dict[str, Any]
) -> None:
    headers = portal["headers"]
    mine = await make_ticket(session, portal["own"])
    body = await anon_gql(
        PORTAL["update"],
        {"input": {"id": gid("Ticket", mine), "description": "More detail"}},
        **headers,
    )
    assert payload_of(body, "ticketUpdate")["ticket"]["description"] == "More detail"
    before = await state(session)
    # another customer's ticket looks like no ticket at all
    body = await anon_gql(
        PORTAL["update"],
        {"input": {"id": gid("Ticket", portal["other_ticket"]), "subject": "x"}},
        **headers,
    )
    error = refused(body, "ticketUpdate")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    # as if absent, named by the id the caller sent
    assert error["message"] == f"no ticket {gid('Ticket', portal['other_ticket'])}"
    # the priority is staff's triage
    refusal = await top_error(
        anon_gql,
        PORTAL["update"],
        {"input": {"id": gid("Ticket", mine), "priority": "URGENT"}},
        **headers,
    )
    assert refusal == (200, "FORBIDDEN")  # by the service: the guard let ticket:write pass
    assert await state(session) == before


async def test_portal_users_only_close_or_reopen_their_resolved_tickets(
    anon_gql: GraphQLClient, session: AsyncSession, portal: dict[str, Any]
) -> None:
    headers = portal["headers"]
    resolved = await make_ticket(session, portal["own"], status="resolved")
    reopened = await make_ticket(session, portal["own"], status="resolved")
    body = await anon_gql(
        PORTAL["status"], {"id": gid("Ticket", resolved), "status": "CLOSED"}, **headers
    )
    assert payload_of(body, "ticketChangeStatus")["ticket"]["status"] == "CLOSED"
    body = await anon_gql(
        PORTAL["status"], {"id": gid("Ticket", reopened), "status": "IN_PROGRESS"}, **headers
    )
    assert payload_of(body, "ticketChangeStatus")["ticket"]["resolvedAt"] is None
    before = await state(session)
    # work on the ticket is staff's: the reopened ticket can't be resolved by its customer
    refusal = await top_error(
        anon_gql, PORTAL["status"], {"id": gid("Ticket", reopened), "status": "RESOLVED"}, **headers
    )
    assert refusal == (200, "FORBIDDEN")  # by the service
    body = await anon_gql(
        PORTAL["status"],
        {"id": gid("Ticket", portal["other_ticket"]), "status": "CLOSED"},
        **headers,
    )
    error = refused(body, "ticketChangeStatus")
    assert (error["code"], error["field"]) == ("NOT_FOUND", ["id"])
    assert await state(session) == before


async def test_portal_users_neither_assign_nor_log_time(
    anon_gql: GraphQLClient, session: AsyncSession, portal: dict[str, Any]
) -> None:
    headers = portal["headers"]
    mine = gid("Ticket", await make_ticket(session, portal["own"]))
    staff = gid("User", await make_user(session, "sam"))
    before = await state(session)
    for query, variables, status in [
        (PORTAL["assign"], {"id": mine, "user": staff}, 200),  # refused by the service
        (PORTAL["unassign"], {"id": mine}, 200),
        (PORTAL["log"], {"input": {"ticketId": mine, "minutes": 5}}, 403),  # by the guard
    ]:
        refusal = await top_error(anon_gql, query, variables, **headers)
        assert refusal == (status, "FORBIDDEN"), query
    assert await state(session) == before
