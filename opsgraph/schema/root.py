"""Builds the one Strawberry schema from the per-domain root types."""

from __future__ import annotations

import logging

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
from strawberry.types import ExecutionContext

from opsgraph.errors import DomainError
from opsgraph.execution import CompiledReads
from opsgraph.resolvers.api_key import ApiKeyMutation, ApiKeyQuery
from opsgraph.resolvers.auth import AuthMutation, AuthQuery
from opsgraph.resolvers.customer import CustomerMutation
from opsgraph.resolvers.invoice import InvoiceMutation
from opsgraph.resolvers.order import OrderMutation
from opsgraph.resolvers.payment import PaymentMutation
from opsgraph.resolvers.product import ProductMutation
from opsgraph.resolvers.property import PropertyMutation
from opsgraph.resolvers.purchase_order import PurchaseOrderMutation
from opsgraph.resolvers.query import Query as BaseQuery
from opsgraph.resolvers.report import ReportQuery
from opsgraph.resolvers.role import RoleMutation, RoleQuery
from opsgraph.resolvers.ticket import TicketMutation
from opsgraph.resolvers.transaction import TransactionMutation
from opsgraph.resolvers.user import UserMutation
from opsgraph.schema.extensions import (
    HideSuggestions,
    OneOperation,
    SettleDryRuns,
    StatementCount,
)
from opsgraph.schema.scalars import SCALAR_OVERRIDES

MASKED_MESSAGE = "Unexpected error."
log = logging.getLogger("opsgraph.graphql")


@strawberry.type(name="Query", description="Everything opsgraph can read.")
class Query(BaseQuery, ReportQuery, AuthQuery, RoleQuery, ApiKeyQuery):
    pass


@strawberry.type(name="Mutation", description="Everything opsgraph can change.")
class Mutation(
    AuthMutation,
    UserMutation,
    RoleMutation,
    ApiKeyMutation,
    CustomerMutation,
    PropertyMutation,
    ProductMutation,
    OrderMutation,
    InvoiceMutation,
    PaymentMutation,
    TicketMutation,
    PurchaseOrderMutation,
    TransactionMutation,
):
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


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors (refused, not found, bad input) are logged in one line; only
        the unexpected ones with their traceback, as Strawberry does."""
        unexpected = []
        for error in errors:
            if isinstance(error.original_error, DomainError):
                code = error.original_error.code
                log.info("%s at %s: %s", code, error.path or "operation", error.message)
            else:
                unexpected.append(error)
        super().process_errors(unexpected, execution_context)


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        execution_context_class=CompiledReads,
        scalar_overrides=SCALAR_OVERRIDES,
        extensions=[
            HideSuggestions,
            lambda: MaskErrors(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
            lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
            lambda: AddValidationRules(LIMITS),
            lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
            OneOperation,
            StatementCount,
            SettleDryRuns,
        ],
    )


schema = build_schema()
