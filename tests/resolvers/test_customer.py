from __future__ import annotations

import httpx
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.graph.ids import to_global_id
from opsgraph.models import Customer
from tests.conftest import GraphQLClient

CUSTOMERS = """
query($first: Int, $after: String) {
  customers(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    edges { cursor node { id externalId name email } }
  }
}"""


async def _make_customers(session: AsyncSession, count: int) -> list[int]:
    rows = await session.execute(
        insert(Customer).returning(Customer.id),
        [{"name": f"Kund {i:03}", "external_id": f"T-{i:03}"} for i in range(count)],
    )
    await session.flush()
    return [row[0] for row in rows]


async def test_customers_pages_forward_without_gaps(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    ids = await _make_customers(session, 7)
    seen: list[str] = []
    after = None
    while True:
        body = await gql(CUSTOMERS, {"first": 3, "after": after})
        page = body["data"]["customers"]
        assert page["totalCount"] == 7
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [to_global_id("Customer", pk) for pk in ids]


async def test_customer_by_external_id_and_global_id(
    gql: GraphQLClient, session: AsyncSession
) -> None:
    [pk] = await _make_customers(session, 1)
    query = "query($id: ID, $ext: String) { customer(id: $id, externalId: $ext) { id name } }"
    by_ext = await gql(query, {"ext": "T-000"})
    assert by_ext["data"]["customer"] == {"id": to_global_id("Customer", pk), "name": "Kund 000"}
    by_id = await gql(query, {"id": to_global_id("Customer", pk)})
    assert by_id["data"]["customer"]["name"] == "Kund 000"
    missing = await gql(query, {"ext": "NOPE"})
    assert missing["data"]["customer"] is None


async def test_bad_arguments_are_clear_errors(gql: GraphQLClient) -> None:
    too_many = await gql(CUSTOMERS, {"first": 101})
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "at most 100" in too_many["errors"][0]["message"]
    bad_cursor = await gql(CUSTOMERS, {"after": "garbage!"})
    assert "not a valid cursor" in bad_cursor["errors"][0]["message"]
    wrong_type = await gql(
        "query($id: ID) { customer(id: $id) { id } }", {"id": to_global_id("Invoice", 1)}
    )
    assert "names an invoice, not a customer" in wrong_type["errors"][0]["message"]
    both = await gql('{ customer(id: "x", externalId: "y") { id } }')
    assert both["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_malformed_request_body_is_json_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/graphql", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
