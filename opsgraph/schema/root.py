"""Builds the one Strawberry schema from the per-domain root types."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from opsgraph.errors import DomainError
from opsgraph.execution import CompiledReads
from opsgraph.resolvers.auth import AuthMutation, AuthQuery
from opsgraph.resolvers.query import Query as BaseQuery
from opsgraph.resolvers.report import ReportQuery
from opsgraph.schema.extensions import OneOperation, StatementCount

MASKED_MESSAGE = "Unexpected error."


@strawberry.type(name="Query", description="Everything opsgraph can read.")
class Query(BaseQuery, ReportQuery, AuthQuery):
    pass


@strawberry.type(name="Mutation", description="Everything opsgraph can change.")
class Mutation(AuthMutation):
    pass


def is_unexpected(error: GraphQLError) -> bool:
    """Mask all but deliberate errors: domain errors and GraphQL's own (parse, validation)."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, DomainError | GraphQLError)


# The limiters' validation rules, made once: the validation cache keys on the rule
# classes, and each limiter instance would make new ones.
LIMITS = [
    *QueryDepthLimiter(max_depth=12).validation_rules,
    *MaxAliasesLimiter(max_alias_count=50).validation_rules,
]
CACHED_DOCUMENTS = 256  # parsed and validated documents kept, least recently used out


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        mutation=Mutation,
        execution_context_class=CompiledReads,
        extensions=[
            lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
            lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
            lambda: AddValidationRules(LIMITS),
            lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
            OneOperation,
            StatementCount,
        ],
    )


schema = build_schema()
