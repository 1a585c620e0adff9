"""Random read queries over the whole graph, made from the schema itself.

Every query is valid and should run without errors: root lists and lookups, scalar and
computed fields, to-one relations, nested connections with random page sizes, orderings
and filters, aliases, fragments (inline and named), ``@include``/``@skip`` and
``__typename`` at every level. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLType,
    is_leaf_type,
)

from opsgraph.api import schema as strawberry_schema
from opsgraph.graph.ids import to_global_id

SCHEMA: GraphQLSchema = strawberry_schema._schema
SEARCH_WORDS = ["a", "e", "kund", "AB", "x", "100"]
LOOKUPS = {
    "customer": ("externalId", ["C-100", "C-101", "nope"]),
    "purchaseOrder": ("externalId", ["PO-200", "PO-201"]),
}
REPORTS_AND_NODES = {
    "node",
    "nodes",
    "customerStatement",
    "dailyKpis",
    "transactions",
    "me",
    "permissions",
    "apiKeys",
    "webhookEndpoints",
    "webhookDeliveries",
    "webhookReceipts",
    "events",
}


def unwrap(gql_type: GraphQLType) -> Any:
    while isinstance(gql_type, GraphQLNonNull | GraphQLList):
        gql_type = gql_type.of_type
    return gql_type


@dataclass
class QueryGen:
    rng: random.Random
    max_depth: int = 3
    fragments: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)  # the variables used
    _alias: int = 0
    _fragment: int = 0

    def alias(self, name: str) -> str:
        if self.rng.random() < 0.15:
            self._alias += 1
            return f"a{self._alias}: {name}"
        return name

    def directive(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            self.flags.add("yes")
            return " @include(if: $yes)"
        if roll < 0.08:
            self.flags.add("no")
            return " @skip(if: $no)"
        if roll < 0.10:
            self.flags.add("yes")
            return " @skip(if: $yes)"
        return ""

    # --- objects ---------------------------------------------------------------------

    def object(self, type_name: str, depth: int) -> str:
        gql_type = SCHEMA.type_map[type_name]
        assert isinstance(gql_type, GraphQLObjectType)
        leaves, relations = [], []
        for name, definition in gql_type.fields.items():
            inner = unwrap(definition.type)
            (leaves if is_leaf_type(inner) else relations).append((name, inner))
        chosen = self.rng.sample(leaves, self.rng.randint(1, min(5, len(leaves))))
        parts = [self.alias(name) + self.directive() for name, _ in chosen]
        if self.rng.random() < 0.2:
            parts.append("__typename")
        if depth < self.max_depth and relations:
            for name, inner in self.rng.sample(
                relations, self.rng.randint(0, min(2, len(relations)))
            ):
                if inner.name.endswith("Connection"):
                    parts.append(self.connection(name, inner, depth + 1))
                else:
                    parts.append(f"{self.alias(name)} {{ {self.object(inner.name, depth + 1)} }}")
        if self.rng.random() < 0.15:  # an inline fragment on the same type
            parts.append(f"... on {type_name} {{ id }}")
        if self.rng.random() < 0.1:
            self._fragment += 1
            fragment = f"F{self._fragment}"
            body = self.object(type_name, self.max_depth)
            self.fragments.append(f"fragment {fragment} on {type_name} {{ {body} }}")
            parts.append(f"...{fragment}")
        self.rng.shuffle(parts)
        return " ".join(parts)

    # --- connections -----------------------------------------------------------------

    def connection(self, name: str, connection_type: GraphQLObjectType, depth: int) -> str:
        node_type = unwrap(unwrap(connection_type.fields["edges"].type).fields["node"].type)
        args = self.arguments(
            SCHEMA.query_type.fields.get(name) if depth == 0 else None, connection_type, name
        )
        parts = []
        if self.rng.random() < 0.5:
            parts.append("totalCount")
        if self.rng.random() < 0.4:
            keys = self.rng.sample(
                ["hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename"],
                self.rng.randint(1, 4),
            )
            parts.append(f"pageInfo {{ {' '.join(keys)} }}")
        edge = ["cursor"] if self.rng.random() < 0.3 else []
        edge.append(f"node {{ {self.object(node_type.name, depth)} }}")
        parts.append(f"edges {{ {' '.join(edge)} }}")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        self.rng.shuffle(parts)
        return f"{self.alias(name)}{args} {{ {' '.join(parts)} }}"

    def arguments(self, _root: Any, connection_type: GraphQLObjectType, name: str) -> str:
        args = []
        roll = self.rng.random()
        if roll < 0.4:
            args.append(f"first: {self.rng.choice([0, 1, 2, 3, 5, 100])}")
        elif roll < 0.6:
            args.append(f"last: {self.rng.choice([1, 2, 4])}")
        type_name = connection_type.name.removesuffix("Connection")
        order = SCHEMA.type_map.get(f"{type_name}Order")
        if isinstance(order, GraphQLInputObjectType) and self.rng.random() < 0.4:
            enum = unwrap(order.fields["field"].type)
            value = self.rng.choice(list(enum.values))
            direction = self.rng.choice(["ASC", "DESC"])
            args.append(f"orderBy: {{field: {value}, direction: {direction}}}")
        filter_type = SCHEMA.type_map.get(f"{type_name}Filter")
        if isinstance(filter_type, GraphQLInputObjectType) and self.rng.random() < 0.4:
            chosen = self.rng.choice(list(filter_type.fields.items()))
            args.append(f"filter: {{{chosen[0]}: {self.filter_value(chosen[0], chosen[1].type)}}}")
        return f"({', '.join(args)})" if args else ""

    def filter_value(self, name: str, gql_type: GraphQLType) -> str:
        inner = unwrap(gql_type)
        if isinstance(inner, GraphQLEnumType):
            values = self.rng.sample(list(inner.values), self.rng.randint(1, len(inner.values)))
            return f"[{', '.join(values)}]"
        if inner.name == "Boolean":
            return self.rng.choice(["true", "false"])
        if inner.name == "ID":
            referenced = {"customerId": "Customer", "productId": "Product"}.get(name, "User")
            return f'"{to_global_id(referenced, self.rng.randint(1, 4))}"'
        if inner.name == "DateTime":
            return '"2026-01-15T00:00:00+00:00"'
        if inner.name == "Date":
            return '"2026-01-15"'
        return f'"{self.rng.choice(SEARCH_WORDS)}"'

    # --- operations ------------------------------------------------------------------

    def query(self) -> tuple[str, dict[str, Any]]:
        query_type = SCHEMA.query_type
        assert query_type is not None
        roots = [name for name in query_type.fields if name not in REPORTS_AND_NODES]
        parts = []
        for name in self.rng.sample(roots, self.rng.randint(1, 2)):
            inner = unwrap(query_type.fields[name].type)
            if inner.name.endswith("Connection"):
                parts.append(self.connection(name, inner, 0))
            else:
                argument, values = LOOKUPS.get(name, ("id", [to_global_id(inner.name, 1)]))
                value = self.rng.choice(values)
                parts.append(
                    f'{self.alias(name)}({argument}: "{value}") {{ {self.object(inner.name, 1)} }}'
                )
        values = {"yes": True, "no": False}
        declared = ", ".join(f"${name}: Boolean!" for name in sorted(self.flags))
        header = f"query Generated({declared})" if declared else "query"
        text = f"{header} {{ {' '.join(parts)} }}\n" + "\n".join(self.fragments)
        return text, {name: values[name] for name in self.flags}


def generated_queries(count: int, seed: int = 20261123) -> list[tuple[str, dict[str, Any]]]:
    return [QueryGen(random.Random(seed + n)).query() for n in range(count)]
