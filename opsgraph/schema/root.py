"""Builds the one Strawberry schema from the per-domain root types."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter

from opsgraph.errors import DomainError
from opsgraph.execution import CompiledReads
from opsgraph.resolvers.query import Query as BaseQuery
from opsgraph.resolvers.report import ReportQuery
from opsgraph.schema.extensions import StatementCount

MASKED_MESSAGE = "Unexpected error."


@strawberry.type(name="Query", description="Everything opsgraph can read.")
class Query(BaseQuery, ReportQuery):
    pass


def is_unexpected(error: GraphQLError) -> bool:
    """Mask all but deliberate errors: domain errors and GraphQL's own (parse, validation)."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, DomainError | GraphQLError)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        execution_context_class=CompiledReads,
        extensions=[
            lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
            lambda: QueryDepthLimiter(max_depth=12),
            lambda: MaxAliasesLimiter(max_alias_count=50),
            StatementCount,
        ],
    )


schema = build_schema()
