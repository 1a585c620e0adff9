"""The dashboard query: right data, and a statement count that depends on depth only."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.db.stats import count_statements
from tests.conftest import GraphQLClient
from tests.resolvers.graph_data import make_graph

DASHBOARD = """
query Dashboard($n: Int!) {
  customers(first: $n, filter: {search: "graph kund"}) {
    totalCount
    edges { node {
      name
      orders(first: 10) { totalCount edges { node {
        total status
        invoices(first: 5) { edges { node {
          number total amountPaid
          payments(first: 10) { edges { node { amount reference } } }
        } } }
      } } }
      tickets(first: 5) { edges { node { subject } } }
    } }
  }
}"""


def _data_statements(statements: list[str]) -> int:
    """Statements that read or write data (not the savepoints of the test's transaction)."""
    data = ("SELECT", "WITH", "INSERT", "UPDATE", "DELETE")
    return sum(1 for s in statements if s.lstrip().upper().startswith(data))


async def _run(gql: GraphQLClient, n: int) -> tuple[dict[str, Any], int]:
    with count_statements(keep_text=True) as log:
        body = await gql(DASHBOARD, {"n": n})
    assert "errors" not in body, body
    return body["data"], _data_statements(log.statements)


async def test_statement_count_depends_on_depth_not_rows(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await make_graph(session, 100)
    small, small_count = await _run(gql, 10)
    large, large_count = await _run(gql, 100)
    assert len(small["customers"]["edges"]) == 10
    assert len(large["customers"]["edges"]) == 100
    assert small_count == large_count
    # levels: customers, orders, invoices, payments, tickets; plus the two totalCounts
    # and amountPaid, each one batched statement; and one to know the caller
    assert large_count <= 5 + 3 + 1


async def test_dashboard_matches_the_database(gql: GraphQLClient, session: AsyncSession) -> None:
    ids = await make_graph(session, 12)
    data, _ = await _run(gql, 12)
    expected_orders = (
        await session.execute(
            text(
                "SELECT c.name, o.id, o.total, i.number, i.total,"
                " (SELECT sum(amount) FROM payment p WHERE p.invoice_id = i.id)"
                ' FROM customer c JOIN "order" o ON o.customer_id = c.id'
                " JOIN invoice i ON i.order_id = o.id WHERE c.id = ANY(:ids)"
                " ORDER BY c.id, o.id"
            ),
            {"ids": ids},
        )
    ).all()
    got = [
        (
            c["node"]["name"],
            o["node"]["total"],
            i["node"]["number"],
            i["node"]["total"],
            i["node"]["amountPaid"],
        )
        for c in data["customers"]["edges"]
        for o in c["node"]["orders"]["edges"]
        for i in o["node"]["invoices"]["edges"]
    ]
    assert got == [
        (name, str(o_total), number, str(i_total), str(paid))
        for name, _, o_total, number, i_total, paid in expected_orders
    ]
    assert data["customers"]["totalCount"] == 12
    for customer in data["customers"]["edges"]:
        node = customer["node"]
        assert node["orders"]["totalCount"] == len(node["orders"]["edges"])
        assert [t["node"]["subject"] for t in node["tickets"]["edges"]] != []
        for order in node["orders"]["edges"]:
            for invoice in order["node"]["invoices"]["edges"]:
                payments = invoice["node"]["payments"]["edges"]
                assert [p["node"]["amount"] for p in payments] == ["10.00", "11.00"]


async def test_statement_count_in_extensions_when_asked(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await make_graph(session, 3)
    plain = await gql(DASHBOARD, {"n": 3})
    assert "extensions" not in plain or "sqlStatements" not in plain["extensions"]
    asked = await gql(DASHBOARD, {"n": 3}, **{"X-Opsgraph-Statements": "1"})
    assert asked["extensions"]["sqlStatements"] >= 5
