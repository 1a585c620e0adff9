"""Builds the one Strawberry schema from the per-domain root types."""

from __future__ import annotations

import logging

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from opsgraph.db.faults import (
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    describe,
    redact,
    sqlstate,
    unavailable,
)
from opsgraph.errors import DomainError
from opsgraph.execution import CompiledReads
from opsgraph.resolvers.api_key import ApiKeyMutation, ApiKeyQuery
from opsgraph.resolvers.auth import AuthMutation, AuthQuery
from opsgraph.resolvers.customer import CustomerMutation
from opsgraph.resolvers.event import EventQuery
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
from opsgraph.resolvers.webhook import WebhookMutation, WebhookQuery
from opsgraph.resolvers.webhook_receipt import WebhookReceiptQuery
from opsgraph.schema.documents import CheckedDocuments
from opsgraph.schema.extensions import (
    HideSuggestions,
    OneOperation,
    ReportCost,
    SettleDryRuns,
    StatementCount,
    reworded,
)
from opsgraph.schema.scalars import SCALAR_OVERRIDES

MASKED_MESSAGE = "Unexpected error."
log = logging.getLogger("opsgraph.graphql")


@strawberry.type(name="Query", description="Everything opsgraph can read.")
class Query(
    BaseQuery,
    ReportQuery,
    AuthQuery,
    RoleQuery,
    ApiKeyQuery,
    WebhookQuery,
    WebhookReceiptQuery,
    EventQuery,
):
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
    WebhookMutation,
):
    pass


class MaskUnexpected(MaskErrors):
    """Strawberry's MaskErrors, but an error of an unavailable database gets its own fixed
    message and code (and keeps its cause, so the HTTP layer answers 503)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        if not unavailable(error.original_error):
            return super().anonymise_error(error)
        return reworded(error, UNAVAILABLE_MESSAGE, {"code": UNAVAILABLE_CODE})


def is_unexpected(error: GraphQLError) -> bool:
    """Mask all but deliberate errors: domain errors and GraphQL's own (parse, validation)."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, DomainError | GraphQLError)


class Schema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors (refused, not found, bad input) are logged in one line; only
        the unexpected ones with their traceback, as Strawberry does."""
        unexpected = []
        for error in errors:
            original = error.original_error
            where = error.path or "operation"
            if isinstance(original, DomainError):
                log.info("%s at %s: %s", original.code, where, error.message)
            elif original is None or isinstance(original, GraphQLError):
                # the client's mistake (parse, validation, variables): not a server fault
                log.info("request error: %s", error.message)
            elif unavailable(original):
                log.warning("database unavailable at %s: %s", where, describe(original))
            elif sqlstate(original) is not None:
                # its message may quote what the client sent: log the redacted error
                redact(original)
                log.error("unexpected database error at %s", where, exc_info=original)
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
            lambda: MaskUnexpected(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE),
            CheckedDocuments,  # parse, limits, validation: once per document, off the loop
            OneOperation,
            StatementCount,
            ReportCost,
            SettleDryRuns,
        ],
    )


schema = build_schema()
