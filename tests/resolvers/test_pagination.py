"""Per-parent pagination, ordering, filters and node lookups, checked against direct SQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph.ids import to_global_id
from tests.conftest import GraphQLClient
from tests.resolvers.graph_data import make_graph

ORDERS_OF = """
query($id: ID!, $first: Int, $after: String, $last: Int, $before: String, $order: OrderOrder,
      $filter: OrderFilter) {
  customer(id: $id) {
    orders(first: $first, after: $after, last: $last, before: $before, orderBy: $order,
           filter: $filter) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { id total placedAt status } }
    }
  }
}"""


async def _orders_sql(session: AsyncSession, customer: int, order: str) -> list[str]:
    rows = await session.execute(
        text(f'SELECT id FROM "order" WHERE customer_id = :c ORDER BY {order}'), {"c": customer}
    )
    return [to_global_id("Order", pk) for (pk,) in rows]


async def _walk(gql: GraphQLClient, variables: dict[str, Any], backwards: bool) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        page_args = {"last": 2, "before": cursor} if backwards else {"first": 2, "after": cursor}
        body = await gql(ORDERS_OF, {**variables, **page_args})
        assert "errors" not in body, body
        page = body["data"]["customer"]["orders"]
        ids = [edge["node"]["id"] for edge in page["edges"]]
        seen = ids + seen if backwards else seen + ids
        more = page["pageInfo"]["hasPreviousPage" if backwards else "hasNextPage"]
        if not more:
            return seen
        cursor = page["pageInfo"]["startCursor" if backwards else "endCursor"]


@pytest.mark.parametrize(
    ("order", "sql_order"),
    [
        (None, "id"),
        ({"field": "TOTAL", "direction": "DESC"}, "total DESC, id DESC"),
        ({"field": "PLACED_AT", "direction": "ASC"}, "placed_at, id"),
    ],
)
async def test_cursor_walks_cover_every_row_once(
    gql: GraphQLClient, session: AsyncSession, order: Any, sql_order: str
) -> None:
    [customer] = await make_graph(session, 1)
    # five more orders with equal totals, so the id must break ties
    await session.execute(
        text(
            'INSERT INTO "order" (customer_id, subtotal, tax, total)'
            " SELECT :c, 80, 20, 100 FROM generate_series(1, 5)"
        ),
        {"c": customer},
    )
    expected = await _orders_sql(session, customer, sql_order)
    variables = {"id": to_global_id("Customer", customer), "order": order}
    assert await _walk(gql, variables, backwards=False) == expected
    assert await _walk(gql, variables, backwards=True) == expected


async def test_nested_pages_are_per_parent(gql: GraphQLClient, session: AsyncSession) -> None:
    ids = await make_graph(session, 6)
    body = await gql(
        """{ customers(first: 6, filter: {search: "GRAPH"}) { edges { node {
             id orders(first: 2) { totalCount pageInfo { hasNextPage }
                                   edges { node { id } } } } } } }"""
    )
    counts = dict(
        (
            await session.execute(
                text(
                    'SELECT customer_id, count(*) FROM "order" WHERE customer_id = ANY(:ids)'
                    " GROUP BY customer_id"
                ),
                {"ids": ids},
            )
        ).all()
    )
    for edge, pk in zip(body["data"]["customers"]["edges"], ids, strict=True):
        orders = edge["node"]["orders"]
        expected = await _orders_sql(session, pk, "id")
        assert [e["node"]["id"] for e in orders["edges"]] == expected[:2]
        assert orders["totalCount"] == counts[pk]
        assert orders["pageInfo"]["hasNextPage"] == (counts[pk] > 2)


async def test_filters_match_sql(gql: GraphQLClient, session: AsyncSession) -> None:
    ids = await make_graph(session, 8)
    body = await gql(
        """{ orders(first: 100, filter: {status: [PENDING, CANCELLED],
                    placedFrom: "2026-03-02T00:00:00+00:00", placedTo: "2026-03-06T00:00:00+00:00"})
             { totalCount edges { node { id status } } } }"""
    )
    rows = await session.execute(
        text(
            "SELECT id FROM \"order\" WHERE status IN ('pending', 'cancelled')"
            " AND placed_at >= '2026-03-02T00:00:00+00' AND placed_at <= '2026-03-06T00:00:00+00'"
            " AND customer_id = ANY(:ids) ORDER BY id"
        ),
        {"ids": ids},
    )
    expected = [to_global_id("Order", pk) for (pk,) in rows]
    assert expected
    got = body["data"]["orders"]
    assert [e["node"]["id"] for e in got["edges"]] == expected
    assert got["totalCount"] == len(expected)
    assert {e["node"]["status"] for e in got["edges"]} <= {"PENDING", "CANCELLED"}


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            '{ orders(filter: {placedFrom: "2026-05-01T00:00:00Z",'
            ' placedTo: "2026-04-01T00:00:00Z"}) { totalCount } }',
            "is after",
        ),
        ("{ orders(first: 101) { totalCount } }", "at most 100"),
        ("{ orders(first: 1, last: 1) { totalCount } }", "either first or last"),
        ("{ orders(first: -1) { totalCount } }", "must not be negative"),
        ('{ orders(after: "nonsense") { totalCount } }', "not a valid cursor"),
        ("{ orders(filter: {status: []}) { totalCount } }", "at least one value"),
        ('{ orders(filter: {customerId: "abc"}) { totalCount } }', "not a valid id"),
    ],
)
async def test_bad_arguments_are_clear_errors(gql: GraphQLClient, query: str, message: str) -> None:
    body = await gql(query)
    assert body["data"] is None
    assert message in body["errors"][0]["message"]
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_cursor_of_another_ordering_is_refused(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    await make_graph(session, 2)
    first = await gql("{ orders(first: 1) { pageInfo { endCursor } } }")
    cursor = first["data"]["orders"]["pageInfo"]["endCursor"]
    body = await gql(
        "query($c: String) { orders(after: $c, orderBy: {field: TOTAL}) { totalCount } }",
        {"c": cursor},
    )
    assert "another ordering" in body["errors"][0]["message"]


async def test_unknown_enum_is_a_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ orders(filter: {status: [LOST]}) { totalCount } }"}
    )
    assert "'LOST' does not exist" in response.json()["errors"][0]["message"]


async def test_node_and_nodes(gql: GraphQLClient, session: AsyncSession) -> None:
    [customer] = await make_graph(session, 1)
    order = (await session.execute(text('SELECT id FROM "order" LIMIT 1'))).scalar_one()
    ids = [
        to_global_id("Customer", customer),
        to_global_id("Order", order),
        to_global_id("Order", 10**12),
    ]
    body = await gql(
        """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id
             ... on Customer { name } ... on Order { total } } }""",
        {"ids": ids},
    )
    nodes = body["data"]["nodes"]
    assert nodes[0]["__typename"] == "Customer"
    assert nodes[0]["name"] == "Graph Kund 000"
    assert nodes[1]["__typename"] == "Order"
    assert nodes[2] is None
    one = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": ids[0]})
    assert one["data"]["node"]["id"] == ids[0]
    for bad, message in [("!!", "not a valid id"), (to_global_id("Spaceship", 1), "unknown type")]:
        body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": bad})
        assert message in body["errors"][0]["message"]
    too_many = await gql("query($ids: [ID!]!) { nodes(ids: $ids) { id } }", {"ids": ids * 40})
    assert "at most 100" in too_many["errors"][0]["message"]


async def test_computed_fields_match_sql(gql: GraphQLClient, session: AsyncSession) -> None:
    [customer] = await make_graph(session, 1)
    await session.execute(
        text(
            "UPDATE invoice SET status = 'paid' WHERE id = (SELECT min(id)"
            " FROM invoice WHERE customer_id = :c)"
        ),
        {"c": customer},
    )
    body = await gql(
        """query($id: ID!) { customer(id: $id) { outstandingBalance lifetimeValue
             invoices { edges { node { status total amountPaid balanceDue isOverdue } } } } }""",
        {"id": to_global_id("Customer", customer)},
    )
    node = body["data"]["customer"]
    owed = (
        await session.execute(
            text(
                "SELECT sum(i.total - (SELECT sum(amount) FROM payment WHERE invoice_id = i.id))"
                " FROM invoice i WHERE customer_id = :c AND status = 'sent'"
            ),
            {"c": customer},
        )
    ).scalar_one()
    paid = (
        await session.execute(
            text(
                "SELECT sum(p.amount) FROM payment p JOIN invoice i ON i.id = p.invoice_id"
                " WHERE i.customer_id = :c"
            ),
            {"c": customer},
        )
    ).scalar_one()
    assert node["outstandingBalance"] == str(owed)
    assert node["lifetimeValue"] == str(paid)
    for edge in node["invoices"]["edges"]:
        invoice = edge["node"]
        assert invoice["amountPaid"] == "21.00"
        assert float(invoice["balanceDue"]) == float(invoice["total"]) - 21
        assert invoice["isOverdue"] == (invoice["status"] == "SENT")  # due 2026-04-30


async def test_role_permissions_and_users(gql: GraphQLClient, session: AsyncSession) -> None:
    from opsgraph.auth.permissions import BUILTIN_ROLES
    from opsgraph.services.role import ensure_builtin_roles

    await ensure_builtin_roles(session)
    body = await gql(
        '{ roles(filter: {search: "support"}) { edges { node { name permissions'
        " users { totalCount } } } } }"
    )
    [edge] = body["data"]["roles"]["edges"]
    assert edge["node"]["permissions"] == sorted(BUILTIN_ROLES["support"][1])
    assert edge["node"]["users"]["totalCount"] == 0
