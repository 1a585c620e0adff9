"""Invoices through GraphQL: invoiceCreate, invoiceCreateFromOrder, invoiceSend,
invoiceVoid. Every rule's refusal has its typed code and field path, and changes nothing
(invoices, payments, transactions, number counters, audit events). The helpers here make
the billing test data for the payment tests too."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.graph import clock
from opsgraph.models import AuditEvent, Customer, Invoice, Order, OrderLine, Product, Property
from opsgraph.services import invoice as invoice_service
from tests.conftest import GraphQLClient, create_and_sign_in
from tests.mutations.helpers import gid

ISSUED = dt.date(2026, 5, 1)
INVOICE_FIELDS = """id number status periodStart periodEnd issuedDate dueDate subtotal tax
  total availableTransitions customer { id } property { id } order { id }"""
CREATE = f"""mutation($input: InvoiceCreateInput!) {{ invoiceCreate(input: $input) {{
  invoice {{ {INVOICE_FIELDS} }} errors {{ code message field }} }} }}"""
FROM_ORDER = f"""mutation($input: InvoiceCreateFromOrderInput!) {{
  invoiceCreateFromOrder(input: $input) {{
  invoice {{ {INVOICE_FIELDS} lines {{ totalCount edges {{ node {{ quantity unitPrice lineTotal
  product {{ sku }} }} }} }} }} errors {{ code message field }} }} }}"""
SEND = """mutation($id: ID!) { invoiceSend(input: {id: $id}) {
  invoice { id status availableTransitions } errors { code message field } } }"""
VOID = """mutation($id: ID!, $reason: String) { invoiceVoid(input: {id: $id, reason: $reason}) {
  invoice { id status } errors { code message field } } }"""
LINES = """query($id: ID!) { node(id: $id) { ... on Invoice { lines { totalCount } } } }"""


# --- test data -------------------------------------------------------------------------


async def make_customer(session: AsyncSession, name: str = "Kund AB") -> int:
    customer = Customer(name=name, email="kund@example.com")
    session.add(customer)
    await session.flush()
    return customer.id


async def make_property(session: AsyncSession, customer_id: int, label: str = "Kontor") -> int:
    prop = Property(customer_id=customer_id, label=label)
    session.add(prop)
    await session.flush()
    return prop.id


async def make_order(
    session: AsyncSession,
    customer_id: int,
    *,
    property_id: int | None = None,
    status: str = "confirmed",
    lines: tuple[tuple[int, str], ...] = ((2, "100.00"), (1, "50.50")),
) -> int:
    """An order with ``lines`` of (quantity, unit price), each of a product of its own,
    25 % tax."""
    subtotal = sum((q * Decimal(p) for q, p in lines), Decimal("0.00"))
    tax = (subtotal / 4).quantize(Decimal("0.01"))
    order = Order(
        customer_id=customer_id,
        property_id=property_id,
        status=status,
        subtotal=subtotal,
        tax=tax,
        total=subtotal + tax,
        placed_at=dt.datetime(2026, 4, 20, 10, 0, tzinfo=dt.UTC),
    )
    session.add(order)
    await session.flush()
    for n, (quantity, price) in enumerate(lines):
        product = Product(sku=f"SKU-{order.id}-{n}", name=f"Vara {n}", unit_price=Decimal(price))
        session.add(product)
        await session.flush()
        session.add(
            OrderLine(
                order_id=order.id,
                product_id=product.id,
                quantity=quantity,
                unit_price=Decimal(price),
                line_total=quantity * Decimal(price),
            )
        )
    await session.flush()
    return order.id


async def make_invoice(
    session: AsyncSession,
    customer_id: int,
    *,
    status: str = "sent",
    total: str = "1000.00",
    number: str | None = None,
    order_id: int | None = None,
) -> int:
    """An invoice written directly (no tax), numbered ``T-<n>`` unless ``number``."""
    invoice = Invoice(
        number=number or f"T-{await _count(session, 'invoice') + 1}",
        customer_id=customer_id,
        order_id=order_id,
        period_start=dt.date(2026, 4, 1),
        period_end=dt.date(2026, 4, 30),
        issued_date=ISSUED,
        due_date=ISSUED + dt.timedelta(days=30),
        subtotal=Decimal(total),
        tax=Decimal("0.00"),
        total=Decimal(total),
        status=status,
    )
    session.add(invoice)
    await session.flush()
    return invoice.id


async def _count(session: AsyncSession, table: str) -> int:
    return int(await session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


async def billing_state(session: AsyncSession) -> dict[str, Any]:
    """Everything a billing mutation may change, to check a refusal changed nothing."""
    state: dict[str, Any] = {
        table: await _count(session, table)
        for table in ("invoice", "payment", "financial_transaction", "audit_event")
    }
    rows = await session.execute(text("SELECT id, number, status FROM invoice ORDER BY id"))
    state["invoices"] = [tuple(row) for row in rows]
    rows = await session.execute(
        text("SELECT year, last_number FROM invoice_number_counter ORDER BY year")
    )
    state["counters"] = [tuple(row) for row in rows]
    return state


async def audit_events(session: AsyncSession, action: str) -> list[AuditEvent]:
    found = await session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == action)
        .order_by(AuditEvent.id)
        .execution_options(populate_existing=True)
    )
    return list(found.all())


async def invoice_row(session: AsyncSession, invoice_id: int) -> Any:
    rows = await session.execute(text("SELECT * FROM invoice WHERE id = :id"), {"id": invoice_id})
    return rows.one()


def refusal(payload: dict[str, Any], code: str, field: list[str]) -> str:
    """The payload's one error, which must have ``code`` and ``field``; its message."""
    assert payload.get("invoice") is None, payload
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, field), error
    message: str = error["message"]
    return message


def top_code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


def create_input(customer_id: int, **fields: Any) -> dict[str, Any]:
    return {
        "customerId": gid("Customer", customer_id),
        "periodStart": "2026-04-01",
        "periodEnd": "2026-04-30",
        "issuedDate": ISSUED.isoformat(),
        "dueDate": "2026-05-31",
        "subtotal": "800.00",
        "tax": "200.00",
        **fields,
    }


async def create(gql: GraphQLClient, fields: dict[str, Any]) -> dict[str, Any]:
    body = await gql(CREATE, {"input": fields})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["invoiceCreate"]
    return payload


# --- invoiceCreate ---------------------------------------------------------------------


async def test_create_makes_a_numbered_draft(gql: GraphQLClient, session: AsyncSession) -> None:
    customer = await make_customer(session)
    prop = await make_property(session, customer)
    payload = await create(gql, create_input(customer, propertyId=gid("Property", prop)))
    assert payload["errors"] == []
    invoice = payload["invoice"]
    assert invoice["number"] == "INV-2026-00001"
    assert invoice["status"] == "DRAFT"
    assert invoice["availableTransitions"] == ["SENT", "VOID"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == (
        "800.00",
        "200.00",
        "1000.00",
    )
    assert invoice["customer"]["id"] == gid("Customer", customer)
    assert invoice["property"]["id"] == gid("Property", prop)
    assert invoice["order"] is None
    [event] = await audit_events(session, "invoice.create")
    assert event.entity_type == "Invoice"
    assert gid("Invoice", event.entity_id or 0) == invoice["id"]
    assert event.changes["after"]["number"] == "INV-2026-00001"
    assert event.changes["after"]["total"] == "1000.00"
    assert event.changes["after"]["status"] == "draft"
    # the next of the year follows; another year has its own sequence
    again = await create(gql, create_input(customer, total="1000.00"))
    assert again["invoice"]["number"] == "INV-2026-00002"
    other_year = await create(
        gql, create_input(customer, issuedDate="2027-01-02", dueDate="2027-02-01")
    )
    assert other_year["invoice"]["number"] == "INV-2027-00001"
    assert (await billing_state(session))["counters"] == [(2026, 2), (2027, 1)]
    # an invoice without an order has no lines
    lines = await gql(LINES, {"id": invoice["id"]})
    assert lines["data"]["node"]["lines"]["totalCount"] == 0


async def test_numbers_start_after_the_ones_there_and_skip_taken_ones(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    for number in ("INV-2026-00041", "INV-2026-00007", "B-INV-00000099", "INV-2025-00500"):
        await make_invoice(session, customer, number=number)
    first = await create(gql, create_input(customer))
    assert first["invoice"]["number"] == "INV-2026-00042"
    await make_invoice(session, customer, number="INV-2026-00043")  # taken by hand
    second = await create(gql, create_input(customer))
    assert second["invoice"]["number"] == "INV-2026-00044"


@pytest.mark.parametrize(
    ("fields", "code", "field", "named"),
    [
        ({"customerId": "missing customer"}, "NOT_FOUND", ["customerId"], "no customer"),
        ({"customerId": "wrong-type"}, "BAD_USER_INPUT", ["customerId"], "not a customer"),
        ({"propertyId": "missing property"}, "NOT_FOUND", ["propertyId"], "no property"),
        (
            {"propertyId": "other"},
            "PROPERTY_CUSTOMER_MISMATCH",
            ["propertyId"],
            "another customer",
        ),
        ({"periodStart": "2026-05-01"}, "BAD_USER_INPUT", ["periodEnd"], "before periodStart"),
        ({"dueDate": "2026-04-30"}, "BAD_USER_INPUT", ["dueDate"], "before issuedDate"),
        ({"total": "999.99"}, "BAD_USER_INPUT", ["total"], "subtotal + tax"),
        ({"subtotal": "-1.00", "total": None}, "BAD_USER_INPUT", ["subtotal"], "negative"),
        ({"tax": "200.001"}, "BAD_USER_INPUT", ["tax"], "2 decimals"),
        ({"total": "1000.005"}, "BAD_USER_INPUT", ["total"], "2 decimals"),
        ({"subtotal": "99999999999.00"}, "BAD_USER_INPUT", ["subtotal"], "at most"),
        ({"subtotal": "9999999999.99"}, "BAD_USER_INPUT", ["total"], "at most"),
    ],
)
async def test_create_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    fields: dict[str, Any],
    code: str,
    field: list[str],
    named: str,
) -> None:
    customer = await make_customer(session)
    other = await make_customer(session, "Annan AB")
    ids = {
        "missing customer": gid("Customer", other + 1000),
        "missing property": gid("Property", 10**9),
        "wrong-type": gid("Property", customer),
        "other": gid("Property", await make_property(session, other)),
    }
    given = {key: ids.get(value, value) for key, value in fields.items()}
    await create(gql, create_input(customer))  # the counter row exists
    before = await billing_state(session)
    payload = await create(gql, create_input(customer, **given))
    assert named in refusal(payload, code, field)
    assert await billing_state(session) == before


# --- invoiceCreateFromOrder ------------------------------------------------------------


async def test_create_from_order_copies_the_order(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    prop = await make_property(session, customer)
    order = await make_order(session, customer, property_id=prop)
    body = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order)}})
    payload = body["data"]["invoiceCreateFromOrder"]
    assert payload["errors"] == []
    invoice = payload["invoice"]
    today = clock.today()
    assert invoice["number"] == f"INV-{today.year}-00001"
    assert invoice["status"] == "DRAFT"
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("250.50", "62.62", "313.12")
    assert (invoice["periodStart"], invoice["periodEnd"]) == ("2026-04-20", "2026-04-20")
    assert invoice["issuedDate"] == today.isoformat()
    assert invoice["dueDate"] == (today + dt.timedelta(days=30)).isoformat()
    assert invoice["customer"]["id"] == gid("Customer", customer)
    assert invoice["property"]["id"] == gid("Property", prop)
    assert invoice["order"]["id"] == gid("Order", order)
    lines = invoice["lines"]
    assert lines["totalCount"] == 2
    assert [(e["node"]["quantity"], e["node"]["unitPrice"]) for e in lines["edges"]] == [
        (2, "100.00"),
        (1, "50.50"),
    ]
    [event] = await audit_events(session, "invoice.create")
    assert event.changes["order_id"] == order
    assert event.changes["after"]["order_id"] == order


@pytest.mark.parametrize(
    ("fields", "due"),
    [
        ({"issuedDate": "2026-06-01"}, "2026-07-01"),
        ({"issuedDate": "2026-06-01", "paymentTermsDays": 10}, "2026-06-11"),
        ({"issuedDate": "2026-06-01", "paymentTermsDays": 0}, "2026-06-01"),
        ({"issuedDate": "2026-06-01", "dueDate": "2026-06-15"}, "2026-06-15"),
    ],
)
async def test_create_from_order_dates(
    gql: GraphQLClient, session: AsyncSession, fields: dict[str, Any], due: str
) -> None:
    order = await make_order(session, await make_customer(session))
    body = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order), **fields}})
    invoice = body["data"]["invoiceCreateFromOrder"]["invoice"]
    assert (invoice["number"], invoice["issuedDate"], invoice["dueDate"]) == (
        "INV-2026-00001",
        "2026-06-01",
        due,
    )


@pytest.mark.parametrize(
    ("case", "code", "field", "named"),
    [
        ("cancelled", "INVALID_STATE", ["orderId"], "is CANCELLED: it can't be invoiced"),
        ("invoiced", "ALREADY_INVOICED", ["orderId"], "already invoiced: invoice T-1"),
        ("missing", "NOT_FOUND", ["orderId"], "no order"),
        ("bad id", "BAD_USER_INPUT", ["orderId"], "not a valid id"),
        ("both due", "BAD_USER_INPUT", ["paymentTermsDays"], "not both"),
        ("terms", "BAD_USER_INPUT", ["paymentTermsDays"], "0-365"),
        ("due early", "BAD_USER_INPUT", ["dueDate"], "before issuedDate"),
    ],
)
async def test_create_from_order_refusals_change_nothing(
    gql: GraphQLClient,
    session: AsyncSession,
    case: str,
    code: str,
    field: list[str],
    named: str,
) -> None:
    customer = await make_customer(session)
    order = await make_order(
        session, customer, status="cancelled" if case == "cancelled" else "completed"
    )
    if case == "invoiced":
        await make_invoice(session, customer, order_id=order, status="draft")
    cases: dict[str, dict[str, Any]] = {
        "missing": {"orderId": gid("Order", order + 1000)},
        "bad id": {"orderId": "!!"},
        "both due": {"dueDate": "2026-06-01", "paymentTermsDays": 5},
        "terms": {"paymentTermsDays": 366},
        "due early": {"issuedDate": "2026-06-01", "dueDate": "2026-05-31"},
    }
    fields = cases.get(case, {})
    before = await billing_state(session)
    body = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order), **fields}})
    assert named in refusal(body["data"]["invoiceCreateFromOrder"], code, field)
    assert await billing_state(session) == before


async def test_a_void_invoice_of_an_order_may_be_replaced(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    order = await make_order(session, customer)
    await make_invoice(session, customer, order_id=order, status="void")
    body = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order)}})
    assert body["data"]["invoiceCreateFromOrder"]["errors"] == []


async def test_the_unique_index_is_the_last_line_and_the_number_is_given_back(
    gql: GraphQLClient, session: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As if another request had invoiced the order between the check and the insert:
    the unique index refuses it, the error is typed and the number taken is given back."""
    customer = await make_customer(session)
    order = await make_order(session, customer)
    first = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order)}})
    number = first["data"]["invoiceCreateFromOrder"]["invoice"]["number"]
    before = await billing_state(session)

    real_scalar = AsyncSession.scalar

    async def blind_scalar(self: AsyncSession, statement: Any, *args: Any, **kw: Any) -> Any:
        if "invoice.number" in str(statement) and "invoice.order_id" in str(statement):
            return None  # the check sees no live invoice
        return await real_scalar(self, statement, *args, **kw)

    monkeypatch.setattr(AsyncSession, "scalar", blind_scalar)
    body = await gql(FROM_ORDER, {"input": {"orderId": gid("Order", order)}})
    monkeypatch.undo()
    assert "not VOID" in refusal(
        body["data"]["invoiceCreateFromOrder"], "ALREADY_INVOICED", ["orderId"]
    )
    assert await billing_state(session) == before
    today = clock.today()
    issued = {"issuedDate": today.isoformat(), "dueDate": today.isoformat()}
    other = await create(gql, create_input(customer, **issued))
    next_one = int(number.rsplit("-", 1)[1]) + 1
    assert other["invoice"]["number"] == invoice_service.format_number(today.year, next_one)


# --- invoiceSend / invoiceVoid ---------------------------------------------------------


async def test_send_and_void(gql: GraphQLClient, session: AsyncSession) -> None:
    customer = await make_customer(session)
    draft = await make_invoice(session, customer, status="draft")
    body = await gql(SEND, {"id": gid("Invoice", draft)})
    assert body["data"]["invoiceSend"] == {
        "invoice": {
            "id": gid("Invoice", draft),
            "status": "SENT",
            "availableTransitions": ["PAID", "VOID"],
        },
        "errors": [],
    }
    assert (await invoice_row(session, draft)).status == "sent"
    [sent] = await audit_events(session, "invoice.send")
    assert sent.entity_id == draft
    assert sent.changes == {"before": {"status": "draft"}, "after": {"status": "sent"}}

    body = await gql(VOID, {"id": gid("Invoice", draft), "reason": " Wrong customer "})
    assert body["data"]["invoiceVoid"]["invoice"]["status"] == "VOID"
    other = await make_invoice(session, customer, status="draft")
    body = await gql(VOID, {"id": gid("Invoice", other)})
    assert body["data"]["invoiceVoid"]["errors"] == []
    voided = await audit_events(session, "invoice.void")
    assert [event.changes for event in voided] == [
        {"before": {"status": "sent"}, "after": {"status": "void"}, "reason": "Wrong customer"},
        {"before": {"status": "draft"}, "after": {"status": "void"}},
    ]


async def _paid_invoice(session: AsyncSession, customer: int, status: str) -> int:
    invoice = await make_invoice(session, customer, status=status)
    await session.execute(
        text(
            "INSERT INTO payment (invoice_id, amount, paid_at, method, reference) "
            "VALUES (:id, :amount, now(), 'card', 'R-1')"
        ),
        {"id": invoice, "amount": Decimal("1000.00") if status == "paid" else Decimal("1.00")},
    )
    return invoice


@pytest.mark.parametrize(
    ("mutation", "status", "code", "named"),
    [
        (
            "invoiceSend",
            "sent",
            "INVALID_TRANSITION",
            "a SENT invoice can't become SENT: it can become PAID or VOID",
        ),
        (
            "invoiceSend",
            "paid",
            "INVALID_TRANSITION",
            "a PAID invoice can't become SENT: it can't change any more",
        ),
        ("invoiceSend", "void", "INVALID_TRANSITION", "can't change any more"),
        ("invoiceSend", "missing", "NOT_FOUND", "no invoice"),
        ("invoiceVoid", "paid", "INVOICE_ALREADY_PAID", "invoice T-1 is PAID"),
        ("invoiceVoid", "part paid", "INVOICE_HAS_PAYMENTS", "1 payment(s) of 1.00"),
        ("invoiceVoid", "void", "INVALID_TRANSITION", "a VOID invoice can't become VOID"),
        ("invoiceVoid", "missing", "NOT_FOUND", "no invoice"),
    ],
)
async def test_send_and_void_refusals_change_nothing(
    gql: GraphQLClient, session: AsyncSession, mutation: str, status: str, code: str, named: str
) -> None:
    customer = await make_customer(session)
    if status == "missing":
        invoice = 10**9
    elif status in ("paid", "part paid"):
        invoice = await _paid_invoice(session, customer, "paid" if status == "paid" else "sent")
    else:
        invoice = await make_invoice(session, customer, status=status)
    before = await billing_state(session)
    body = await gql(SEND if mutation == "invoiceSend" else VOID, {"id": gid("Invoice", invoice)})
    assert named in refusal(body["data"][mutation], code, ["id"])
    assert await billing_state(session) == before


# --- permissions -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["support", "staff"])
@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (CREATE, "create"),
        (FROM_ORDER, "from order"),
        (SEND, "send"),
        (VOID, "void"),
    ],
)
async def test_invoice_write_is_needed(
    gql: GraphQLClient,
    session: AsyncSession,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    query: str,
    variables: str,
    role: str,
) -> None:
    """``staff`` reads invoices (and orders) but may not write them."""
    customer = await make_customer(session)
    order = await make_order(session, customer)
    draft = await make_invoice(session, customer, status="draft")
    await session.commit()
    all_given: dict[str, dict[str, Any]] = {
        "create": {"input": create_input(customer)},
        "from order": {"input": {"orderId": gid("Order", order)}},
        "send": {"id": gid("Invoice", draft)},
        "void": {"id": gid("Invoice", draft)},
    }
    given = all_given[variables]
    headers = await create_and_sign_in(anon_client, session_factory, "sue", [role])
    before = await billing_state(session)
    body = await gql(query, given, status=403, **headers)
    assert top_code(body) == "FORBIDDEN"
    assert "needs the permission invoice:write" in body["errors"][0]["message"]
    assert await billing_state(session) == before


async def test_invoice_lines_in_lists_are_the_orders(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    customer = await make_customer(session)
    order = await make_order(session, customer, lines=((3, "10.00"),))
    await make_invoice(session, customer, order_id=order, number="A-1")
    await make_invoice(session, customer, number="A-2")
    body = await gql(
        """{ invoices(orderBy: {field: NUMBER}) { edges { node { number
        lines { totalCount edges { node { quantity lineTotal order { id } } } } } } } }"""
    )
    assert "errors" not in body, body
    found = {
        edge["node"]["number"]: edge["node"]["lines"] for edge in body["data"]["invoices"]["edges"]
    }
    assert found["A-1"]["totalCount"] == 1
    [line] = found["A-1"]["edges"]
    assert line["node"] == {
        "quantity": 3,
        "lineTotal": "30.00",
        "order": {"id": gid("Order", order)},
    }
    assert found["A-2"] == {"totalCount": 0, "edges": []}
