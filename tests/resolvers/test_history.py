"""`history` on every Node type: the entity's own audit events, guarded by `audit:read`,
batched like every relation."""

from __future__ import annotations

import httpx
from graphql import GraphQLObjectType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.api import schema
from tests.conftest import GraphQLClient, create_and_sign_in

CREATE_ROLE = """mutation($name: String!) {
  roleCreate(input: {name: $name, permissions: ["customer:read"]}) {
    role { id } errors { code } } }"""
HISTORY = """query($id: ID!) { node(id: $id) { ... on Role {
  history { totalCount edges { node { action entityType changes requestId actor { username } } } }
} } }"""


def test_every_node_type_has_a_history() -> None:
    graphql = schema._schema
    node_types = [
        t
        for t in graphql.type_map.values()
        if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)
    ]
    assert len(node_types) >= 15
    missing = [t.name for t in node_types if t.name != "AuditEvent" and "history" not in t.fields]
    assert missing == []


async def test_history_lists_the_entitys_own_events(
    gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    created = []
    for name in ("auditor-one", "auditor-two"):
        data = (await gql(CREATE_ROLE, {"name": name}, **{"X-Request-ID": f"req-{name}"}))["data"]
        assert data["roleCreate"]["errors"] == []
        created.append(data["roleCreate"]["role"]["id"])
    update = """mutation($id: ID!) { roleUpdate(input: {id: $id, description: "reads"}) {
      errors { code } } }"""
    assert (await gql(update, {"id": created[0]}))["data"]["roleUpdate"]["errors"] == []

    response = await client.post(
        "/graphql",
        json={"query": HISTORY, "variables": {"id": created[0]}},
        headers={"X-Request-ID": "history-test-1"},
    )
    history = response.json()["data"]["node"]["history"]
    assert history["totalCount"] == 2
    events = [edge["node"] for edge in history["edges"]]
    assert [e["action"] for e in events] == ["role.create", "role.update"]  # oldest first
    assert {e["entityType"] for e in events} == {"Role"}
    assert events[0]["actor"] == {"username": "test-admin"}
    assert events[0]["requestId"] == "req-auditor-one"  # the request that made the change
    assert events[1]["changes"]["description"] == {"from": "", "to": "reads"}
    other = (await gql(HISTORY, {"id": created[1]}))["data"]["node"]["history"]
    assert [edge["node"]["action"] for edge in other["edges"]] == ["role.create"]


async def test_history_needs_audit_read(
    gql: GraphQLClient,
    anon_client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    data = (await gql(CREATE_ROLE, {"name": "watched"}))["data"]
    role_id = data["roleCreate"]["role"]["id"]
    staff = await create_and_sign_in(anon_client, session_factory, "staffer", ["staff"])
    response = await anon_client.post(
        "/graphql",
        json={"query": "{ customers { edges { node { history { totalCount } } } } }"},
        headers=staff,
    )
    body = response.json()
    assert body.get("data") is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "audit:read" in body["errors"][0]["message"]
    # through node() too
    refused = await anon_client.post(
        "/graphql", json={"query": HISTORY, "variables": {"id": role_id}}, headers=staff
    )
    assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_history_of_many_rows_is_one_statement(gql: GraphQLClient) -> None:
    """The events of every role on a page come in one batch (like any relation)."""
    for index in range(5):
        await gql(CREATE_ROLE, {"name": f"batched-{index}"})
    query = "{ roles { edges { node { name history { edges { node { action } } } } } } }"
    few = await gql(query, None, **{"X-Opsgraph-Statements": "1"})
    counted = few["extensions"]["sqlStatements"]
    for index in range(5, 10):
        await gql(CREATE_ROLE, {"name": f"batched-{index}"})
    more = await gql(query, None, **{"X-Opsgraph-Statements": "1"})
    assert more["extensions"]["sqlStatements"] == counted
    names = {
        edge["node"]["name"]: edge["node"]["history"]["edges"]
        for edge in more["data"]["roles"]["edges"]
    }
    assert [e["node"]["action"] for e in names["batched-7"]] == ["role.create"]


async def test_an_event_names_its_object_by_global_id(
    gql: GraphQLClient, client: httpx.AsyncClient
) -> None:
    made = await gql(
        'mutation { customerCreate(input: {name: "Historik AB"}) { customer { id } } }'
    )
    customer_id = made["data"]["customerCreate"]["customer"]["id"]
    query = """{ customers(first: 100) { edges { node { id history { edges { node {
      objectId entityType } } } } } } }"""
    response = await client.post(
        "/graphql", json={"query": query}, headers={"X-Opsgraph-Statements": "1"}
    )
    body = response.json()
    assert body["extensions"]["readPath"] == "compiled"
    [customer] = [
        edge["node"]
        for edge in body["data"]["customers"]["edges"]
        if edge["node"]["id"] == customer_id
    ]
    [event] = [edge["node"] for edge in customer["history"]["edges"]]
    assert event == {"objectId": customer_id, "entityType": "Customer"}
    found = await gql(
        "query($id: ID!) { node(id: $id) { ... on Customer { name } } }", {"id": event["objectId"]}
    )
    assert found["data"]["node"] == {"name": "Historik AB"}
    entity_id = schema._schema.type_map["AuditEvent"].fields["entityId"]  # type: ignore[attr-defined]
    assert entity_id.deprecation_reason.startswith("Use objectId")
