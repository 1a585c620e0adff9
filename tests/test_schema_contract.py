"""The schema is valid and documented: every type and every root field has a description."""

from __future__ import annotations

from graphql import GraphQLObjectType, validate_schema

from opsgraph.api import schema


def test_schema_passes_graphql_core_validation() -> None:
    assert validate_schema(schema._schema) == []


def test_every_type_and_root_field_is_described() -> None:
    missing = [
        name
        for name, graphql_type in schema._schema.type_map.items()
        if not name.startswith("__")
        and not graphql_type.description
        and name not in {"String", "Int", "Float", "Boolean", "ID"}
    ]
    query = schema._schema.query_type
    assert isinstance(query, GraphQLObjectType)
    missing += [f"Query.{name}" for name, field in query.fields.items() if not field.description]
    assert missing == []
