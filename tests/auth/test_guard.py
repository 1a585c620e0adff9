"""Guards: every root field declares its requirement, and nested fields check the
permission of the type they return, on both read paths."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.api import schema
from opsgraph.auth.guard import declared
from tests.conftest import GraphQLClient, create_and_sign_in


def test_every_root_field_is_guarded() -> None:
    graphql_schema = schema._schema
    roots = [graphql_schema.query_type, graphql_schema.mutation_type]
    unguarded = [
        f"{root.name}.{name}"
        for root in roots
        if root is not None
        for name, field in root.fields.items()
        if declared(field) is None
    ]
    assert unguarded == []
    assert sum(len(root.fields) for root in roots if root is not None) > 30


async def test_nested_fields_need_the_permission_of_their_type(
    anon_client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    # support reads customers and tickets, not invoices or payments
    headers = await create_and_sign_in(anon_client, session_factory, "helpdesk", ["support"])
    gql = GraphQLClient(anon_client)
    ok = await gql("{ customers(first: 2) { edges { node { name } } } }", **headers)
    assert "errors" not in ok
    for query in (
        "{ customers { edges { node { invoices { totalCount } } } } }",
        "{ customers { edges { node { ...F } } } }"
        " fragment F on Customer { payments { totalCount } }",
        "{ customers { edges { node { outstandingBalance } } } }",
        "{ invoices { totalCount } }",
    ):
        refused = await gql(query, status=403, **headers)
        assert "data" not in refused
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # @skip leaves the field out, so nothing is refused
    skipped = await gql(
        "query($s: Boolean!) { customers(first: 1) { edges { node { name"
        " invoices @skip(if: $s) { totalCount } } } } }",
        {"s": True},
        **headers,
    )
    assert "errors" not in skipped
    anonymous = await gql("{ customers { totalCount } }", status=401)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
