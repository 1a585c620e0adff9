"""Reports against direct SQL."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph.ids import to_global_id
from tests.conftest import GraphQLClient
from tests.resolvers.graph_data import make_graph

STATEMENT = """
query($id: ID!, $from: Date!, $to: Date!) {
  customerStatement(customerId: $id, from: $from, to: $to) {
    from to totalInvoiced totalPaid totalOutstanding invoiceCount
    customer { name }
    invoices(first: 100) { totalCount edges { node { number issuedDate } } }
  }
}"""


async def test_customer_statement(gql: GraphQLClient, session: AsyncSession) -> None:
    [customer] = await make_graph(session, 1)
    await session.execute(
        text(
            "UPDATE invoice SET issued_date = '2026-06-01', due_date = '2026-06-30'"
            " WHERE id = (SELECT max(id) FROM invoice WHERE customer_id = :c)"
        ),
        {"c": customer},
    )
    variables = {"id": to_global_id("Customer", customer), "from": "2026-04-01", "to": "2026-04-30"}
    body = await gql(STATEMENT, variables)
    statement = body["data"]["customerStatement"]
    invoiced, paid, count = (
        await session.execute(
            text(
                "SELECT sum(total), sum((SELECT sum(amount) FROM payment WHERE invoice_id = i.id)),"
                " count(*) FROM invoice i WHERE customer_id = :c"
                " AND issued_date BETWEEN '2026-04-01' AND '2026-04-30'"
            ),
            {"c": customer},
        )
    ).one()
    assert statement["totalInvoiced"] == str(invoiced)
    assert statement["totalPaid"] == str(paid)
    assert Decimal(statement["totalOutstanding"]) == invoiced - paid
    assert statement["invoiceCount"] == count
    assert statement["invoices"]["totalCount"] == count
    assert all(e["node"]["issuedDate"] == "2026-04-01" for e in statement["invoices"]["edges"])
    assert statement["customer"]["name"] == "Graph Kund 000"
    assert (statement["from"], statement["to"]) == ("2026-04-01", "2026-04-30")

    reversed_period = await gql(STATEMENT, {**variables, "from": "2026-05-01"})
    assert "is after" in reversed_period["errors"][0]["message"]
    missing = await gql(STATEMENT, {**variables, "id": to_global_id("Customer", 10**12)})
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_daily_kpis(gql: GraphQLClient, session: AsyncSession) -> None:
    await make_graph(session, 4)  # orders on 2026-03-01 .. 03-04, one a day per customer
    await session.execute(
        text(
            "INSERT INTO ticket (customer_id, subject, status, created_at, resolved_at)"
            " SELECT id, 'Done', 'resolved', '2026-03-02T08:00:00Z', '2026-03-02T11:00:00Z'"
            " FROM customer LIMIT 2"
        )
    )
    body = await gql(
        """{ dailyKpis(date: "2026-03-02") { date ordersPlaced revenue paymentsReceived
             ticketsOpened ticketsResolved meanResolutionHours billableMinutes } }"""
    )
    kpis = body["data"]["dailyKpis"]
    placed, revenue = (
        await session.execute(
            text(
                "SELECT count(*), sum(total) FROM \"order\" WHERE status <> 'cancelled'"
                " AND placed_at >= '2026-03-02T00:00:00Z' AND placed_at < '2026-03-03T00:00:00Z'"
            )
        )
    ).one()
    assert kpis["ordersPlaced"] == placed
    assert kpis["revenue"] == str(revenue)
    assert kpis["ticketsResolved"] == 2
    assert kpis["meanResolutionHours"] == 3.0
    assert kpis["ticketsOpened"] >= 2


async def test_transactions_by_period(gql: GraphQLClient, session: AsyncSession) -> None:
    await session.execute(
        text(
            "INSERT INTO financial_transaction (kind, amount, occurred_on) VALUES"
            " ('expense', 10, '2026-01-05'), ('income', 20, '2026-01-10'),"
            " ('expense', 30, '2026-02-01')"
        )
    )
    body = await gql(
        '{ transactions(from: "2026-01-01", to: "2026-01-31") { totalCount'
        " edges { node { amount kind occurredOn } } } }"
    )
    got = body["data"]["transactions"]
    expected = (
        await session.execute(
            text(
                "SELECT count(*) FROM financial_transaction"
                " WHERE occurred_on BETWEEN '2026-01-01' AND '2026-01-31'"
            )
        )
    ).scalar_one()
    assert got["totalCount"] == expected
    assert {e["node"]["occurredOn"][:7] for e in got["edges"]} == {"2026-01"}
    bad = await gql('{ transactions(from: "2026-02-01", to: "2026-01-01") { totalCount } }')
    assert "is after" in bad["errors"][0]["message"]
