"""A mutation whose input breaks several independent rules reports them all in one
response, each with its own code and field path; nothing is changed. Checks that need the
database (not found, wrong state) still stop at the first."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.models import Customer, Invoice, Order, Payment, Product, Ticket, TimeEntry
from tests.conftest import GraphQLClient
from tests.mutations.helpers import gid, payload_of
from tests.mutations.test_invoice import make_customer, make_invoice

ERRORS = "errors { code message field }"
LONG = "x" * 20_001


def errors_of(body: dict[str, Any], mutation: str) -> list[tuple[str, list[str], str]]:
    """The payload errors of a refused mutation as (code, field, message), in order; every
    other payload field null."""
    payload = payload_of(body, mutation)
    assert all(value is None for key, value in payload.items() if key != "errors"), payload
    return [(e["code"], e["field"], e["message"]) for e in payload["errors"]]


async def rows(session: AsyncSession, model: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_an_invoice_with_a_bad_period_due_date_and_total_reports_all_three(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    before = await rows(session, Invoice)
    body = await gql(
        f"mutation($input: InvoiceCreateInput!) {{ invoiceCreate(input: $input) {{ invoice {{ id }}"
        f" {ERRORS} }} }}",
        {
            "input": {
                "customerId": gid("Customer", customer),
                "periodStart": "2026-04-30",
                "periodEnd": "2026-04-01",
                "issuedDate": "2026-05-01",
                "dueDate": "2026-04-15",
                "subtotal": "800.00",
                "tax": "200.00",
                "total": "999.00",
            }
        },
    )
    assert errors_of(body, "invoiceCreate") == [
        (
            "BAD_USER_INPUT",
            ["total"],
            "total (999.00) must be subtotal + tax (800.00 + 200.00 = 1000.00)",
        ),
        (
            "BAD_USER_INPUT",
            ["periodEnd"],
            "periodEnd (2026-04-01) is before periodStart (2026-04-30)",
        ),
        ("BAD_USER_INPUT", ["dueDate"], "dueDate (2026-04-15) is before issuedDate (2026-05-01)"),
    ]
    assert await rows(session, Invoice) == before


async def test_bad_amounts_of_an_invoice_are_each_reported_and_the_sum_is_not(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    body = await gql(
        f"mutation($input: InvoiceCreateInput!) {{ invoiceCreate(input: $input) {{ {ERRORS} }} }}",
        {
            "input": {
                "customerId": gid("Customer", customer),
                "periodStart": "2026-04-01",
                "periodEnd": "2026-04-30",
                "issuedDate": "2026-05-01",
                "dueDate": "2026-05-31",
                "subtotal": "-1.00",
                "tax": "0.001",
                "total": "5.00",
            }
        },
    )
    found = errors_of(body, "invoiceCreate")
    assert [(code, field) for code, field, _ in found] == [
        ("BAD_USER_INPUT", ["subtotal"]),
        ("BAD_USER_INPUT", ["tax"]),
    ]


async def test_an_order_reports_every_bad_line_the_tax_and_the_external_id(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    before = await rows(session, Order)
    body = await gql(
        f"mutation($input: OrderCreateInput!) {{ orderCreate(input: $input) {{ order {{ id }}"
        f" {ERRORS} }} }}",
        {
            "input": {
                "customerId": gid("Customer", customer),
                "lines": [
                    {"productId": gid("Product", 1), "quantity": 0},
                    {"productId": gid("Product", 1), "quantity": 1, "unitPrice": "1.005"},
                ],
                "tax": "-5",
                "externalId": "   ",
            }
        },
    )
    assert [(code, field) for code, field, _ in errors_of(body, "orderCreate")] == [
        ("BAD_USER_INPUT", ["lines", "0", "quantity"]),
        ("BAD_USER_INPUT", ["lines", "1", "unitPrice"]),
        ("BAD_USER_INPUT", ["tax"]),
        ("BAD_USER_INPUT", ["externalId"]),
    ]
    assert await rows(session, Order) == before


async def test_a_customer_reports_its_blank_name_and_bad_email_together(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    before = await rows(session, Customer)
    body = await gql(
        f'mutation {{ customerCreate(input: {{name: " ", email: "not-an-address",'
        f' phone: "{"1" * 41}"}}) {{ customer {{ id }} {ERRORS} }} }}'
    )
    found = errors_of(body, "customerCreate")
    assert [(code, field) for code, field, _ in found] == [
        ("BAD_USER_INPUT", ["name"]),
        ("INVALID_EMAIL", ["email"]),
        ("BAD_USER_INPUT", ["phone"]),
    ]
    assert found[0][2] == "name must not be blank"
    assert await rows(session, Customer) == before


async def test_a_ticket_reports_its_blank_subject_and_long_description_together(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    before = await rows(session, Ticket)
    body = await gql(
        "mutation($input: TicketCreateInput!) { ticketCreate(input: $input) { ticket { id }"
        f" {ERRORS} }} }}",
        {"input": {"customerId": gid("Customer", customer), "subject": "", "description": LONG}},
    )
    assert [(code, field) for code, field, _ in errors_of(body, "ticketCreate")] == [
        ("BAD_USER_INPUT", ["subject"]),
        ("BAD_USER_INPUT", ["description"]),
    ]
    assert await rows(session, Ticket) == before


async def test_time_logged_with_bad_minutes_and_a_future_start_reports_both(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    ticket = Ticket(customer_id=customer, subject="Leak")
    session.add(ticket)
    await session.flush()
    body = await gql(
        "mutation($input: TimeEntryLogInput!) { timeEntryLog(input: $input) { timeEntry { id }"
        f" {ERRORS} }} }}",
        {
            "input": {
                "ticketId": gid("Ticket", ticket.id),
                "minutes": 0,
                "startedAt": "2999-01-01T00:00:00Z",
            }
        },
    )
    assert [(code, field) for code, field, _ in errors_of(body, "timeEntryLog")] == [
        ("BAD_USER_INPUT", ["minutes"]),
        ("BAD_USER_INPUT", ["startedAt"]),
    ]
    assert await rows(session, TimeEntry) == 0


async def test_a_payment_reports_its_amount_reference_and_time_together(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    invoice = await make_invoice(session, await make_customer(session))
    before = await rows(session, Payment)
    body = await gql(
        "mutation($input: PaymentRecordInput!) { paymentRecord(input: $input) { payment { id }"
        f" {ERRORS} }} }}",
        {
            "input": {
                "invoiceId": gid("Invoice", invoice),
                "amount": "0",
                "method": "CARD",
                "reference": " ",
                "paidAt": "2999-01-01T00:00:00Z",
            }
        },
    )
    assert [(code, field) for code, field, _ in errors_of(body, "paymentRecord")] == [
        ("BAD_USER_INPUT", ["amount"]),
        ("BAD_USER_INPUT", ["reference"]),
        ("BAD_USER_INPUT", ["paidAt"]),
    ]
    assert await rows(session, Payment) == before


async def test_a_product_reports_its_sku_name_price_and_levels_together(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    before = await rows(session, Product)
    body = await gql(
        "mutation($input: ProductCreateInput!) { productCreate(input: $input) { product { id }"
        f" {ERRORS} }} }}",
        {
            "input": {
                "sku": "bad sku",
                "name": "",
                "unitPrice": "1.234",
                "initialStock": -1,
                "reorderLevel": -1,
            }
        },
    )
    assert [(code, field) for code, field, _ in errors_of(body, "productCreate")] == [
        ("INVALID_SKU", ["sku"]),
        ("BAD_USER_INPUT", ["name"]),
        ("BAD_USER_INPUT", ["unitPrice"]),
        ("BAD_USER_INPUT", ["initialStock"]),
        ("BAD_USER_INPUT", ["reorderLevel"]),
    ]
    assert await rows(session, Product) == before


async def test_a_stateful_refusal_still_stops_at_the_first(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    """Good input, then the database: a paid invoice is refused once, whatever else."""
    invoice = await make_invoice(session, await make_customer(session), status="paid")
    body = await gql(
        "mutation($input: PaymentRecordInput!) { paymentRecord(input: $input) { payment { id }"
        f" {ERRORS} }} }}",
        {
            "input": {
                "invoiceId": gid("Invoice", invoice),
                "amount": "99999.00",
                "method": "CARD",
                "reference": "r-1",
            }
        },
    )
    [(code, field, message)] = errors_of(body, "paymentRecord")
    assert (code, field) == ("INVOICE_ALREADY_PAID", ["invoiceId"])
    assert message.startswith("invoice T-1 is PAID")


async def test_a_webhook_endpoint_reports_its_url_and_description_together(
    gql: GraphQLClient,
) -> None:
    body = await gql(
        "mutation($input: WebhookEndpointCreateInput!) { webhookEndpointCreate(input: $input) {"
        f" webhookEndpoint {{ id }} secret {ERRORS} }} }}",
        {"input": {"url": "http://127.0.0.1/hook", "description": LONG}},
    )
    assert [(code, field) for code, field, _ in errors_of(body, "webhookEndpointCreate")] == [
        ("UNSAFE_URL", ["url"]),
        ("BAD_USER_INPUT", ["description"]),
    ]
