"""Builds the one Strawberry schema from the per-domain root types."""

from __future__ import annotations

import logging
from typing import Any

import strawberry
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.execution import PreExecutionError

from opsgraph.db.faults import (
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    describe,
    redact,
    sqlstate,
    unavailable,
)
from opsgraph.errors import (
    INTERNAL_SERVER_ERROR,
    PARSE_FAILED,
    VALIDATION_FAILED,
    DomainError,
)
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


def masked(error: GraphQLError) -> GraphQLError:
    """An unexpected error as the client sees it: "Unexpected error.", code
    ``INTERNAL_SERVER_ERROR``; one of an unavailable database gets its own fixed message
    and code instead, and keeps its cause (so the HTTP layer answers 503)."""
    if unavailable(error.original_error):
        return reworded(error, UNAVAILABLE_MESSAGE, {"code": UNAVAILABLE_CODE})
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={"code": INTERNAL_SERVER_ERROR},
    )


def is_unexpected(error: GraphQLError) -> bool:
    """Mask all but deliberate errors: domain errors and GraphQL's own (parse, validation)."""
    original = error.original_error
    if original is None:
        return False
    return not isinstance(original, DomainError | GraphQLError)


# graphql-core's own errors met while running a field: a bad argument value is the
# client's (every message of its argument coercion starts so); the others (a list that is
# not one, an abstract type that resolves to nothing) are the server's
ARGUMENT_ERROR = "Argument "


def request_error_code(error: GraphQLError, *, before_execution: bool) -> str:
    """The code of an error that came without one: graphql-core's own errors."""
    if isinstance(error, GraphQLSyntaxError):
        return PARSE_FAILED
    if error.path is None:
        # before execution: validation; at its start: variables that do not coerce
        return VALIDATION_FAILED if before_execution else "BAD_USER_INPUT"
    if error.message.startswith(ARGUMENT_ERROR):
        return "BAD_USER_INPUT"
    return INTERNAL_SERVER_ERROR


def with_code(error: GraphQLError, *, before_execution: bool) -> GraphQLError:
    """``error`` as the client gets it: with ``extensions.code`` (its own, or the kind of
    request error it is) and, when unexpected, masked. A new error when anything changes:
    caches (validation's) may hold the original."""
    if is_unexpected(error):
        return masked(error)
    if (error.extensions or {}).get("code"):
        return error
    code = request_error_code(error, before_execution=before_execution)
    return reworded(error, error.message, {**(error.extensions or {}), "code": code})


class Schema(strawberry.Schema):
    async def execute(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        """Every error of the result carries ``extensions.code`` (parse, validation,
        variables, fields: ``with_code``), and nothing unexpected leaves unmasked, also
        when it was raised before execution (by an extension)."""
        result = await super().execute(*args, **kwargs)
        if result.errors:
            before = isinstance(result, PreExecutionError)
            result.errors = [with_code(error, before_execution=before) for error in result.errors]
        return result

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
            CheckedDocuments,  # parse, limits, validation: once per document, off the loop
            OneOperation,
            StatementCount,
            ReportCost,
            SettleDryRuns,
        ],
    )


schema = build_schema()
