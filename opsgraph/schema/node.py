"""The Relay ``Node`` interface (the ids themselves: ``opsgraph.graph.ids``)."""

from __future__ import annotations

from typing import Any

import strawberry


@strawberry.interface(description="An object with an opaque global id, fetchable by `node(id)`.")
class Node:
    id: strawberry.ID

    @classmethod
    def is_type_of(cls, obj: Any, info: Any) -> bool:
        """Rows are not instances of the type classes: their ``graph_type`` column tells."""
        return getattr(obj, "graph_type", None) == cls.__name__

    @classmethod
    def resolve_type(cls, obj: Any, info: Any, abstract_type: Any) -> str:
        """Rows from the loaders carry their GraphQL type name in ``graph_type``."""
        type_name: str = obj.graph_type
        return type_name
