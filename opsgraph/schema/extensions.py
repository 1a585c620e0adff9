"""Schema extensions of our own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension

from opsgraph.auth.budget import CostReport
from opsgraph.db.stats import StatementLog, count_statements
from opsgraph.errors import OPERATION_NOT_FOUND

STATEMENTS_HEADER = "x-opsgraph-statements"


class StatementCount(SchemaExtension):
    """In development, a request with ``X-Opsgraph-Statements: 1`` gets the number of SQL
    statements it caused in ``extensions.sqlStatements``, and in ``extensions.readPath``
    whether the query ran compiled (``opsgraph.execution``) or on the resolvers."""

    log: StatementLog | None = None

    def _asked(self) -> bool:
        context: Any = self.execution_context.context
        settings = getattr(context, "settings", None)
        request = getattr(context, "request", None)
        if settings is None or settings.is_production or request is None:
            return False
        return bool(request.headers.get(STATEMENTS_HEADER) == "1")

    def on_operation(self) -> Iterator[None]:
        if not self._asked():
            yield
            return
        with count_statements() as log:
            self.log = log
            yield

    def get_results(self) -> dict[str, Any]:
        if self.log is None:
            return {}
        context: Any = self.execution_context.context
        return {"sqlStatements": self.log.count, "readPath": context.read_path}


class ReportCost(SchemaExtension):
    """Every response carries ``extensions.cost``: what the operation costs
    (``requested``, 0 when it never got as far as running), the most one may cost
    (``limit``) and, once spent, what the caller has left of its budget (``remaining``).
    ``opsgraph.execution`` computes it before the operation runs."""

    def get_results(self) -> dict[str, Any]:
        context: Any = self.execution_context.context
        settings = getattr(context, "settings", None)
        if settings is None:
            return {}
        report = getattr(context, "cost", None)
        if report is None:  # refused before it was costed
            report = CostReport(0, settings.query_cost_limit)
        return {"cost": report.as_json()}


class OneOperation(SchemaExtension):
    """A document with several operations needs an ``operationName`` (GraphQL spec,
    GetOperation()). Strawberry would run the first one; this makes it the request error
    the specification asks for, with the code of an operation name that matches none."""

    MESSAGE = "Must provide operation name if query contains multiple operations."

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        named = getattr(context, "_provided_operation_name", None)
        if document is not None and named is None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                error = GraphQLError(self.MESSAGE, extensions={"code": OPERATION_NOT_FOUND})
                errors = [*(context.pre_execution_errors or []), error]
                context.pre_execution_errors = errors
        yield


class SettleDryRuns(SchemaExtension):
    """When the operation has run, roll back what its dry-run mutations changed (their
    payloads were read inside their transactions: ``Context.dry_run``)."""

    async def on_execute(self) -> AsyncIterator[None]:
        try:
            yield
        finally:
            settle = getattr(self.execution_context.context, "settle", None)
            if settle is not None:
                await settle()


SUGGESTION = re.compile(r" Did you mean [^\n]*\?$")


class HideSuggestions(SchemaExtension):
    """In production, error messages name no field, argument, type or value the caller did
    not write: graphql-core's " Did you mean 'x', 'y'?" endings are cut, unless
    ``OPSGRAPH_INTROSPECTION=true`` opened the schema to everyone."""

    def on_operation(self) -> Iterator[None]:
        yield
        context: Any = self.execution_context.context
        settings = getattr(context, "settings", None)
        result = self.execution_context.result
        if settings is None or settings.introspection_open or result is None:
            return
        if result.errors:
            # new errors: the validation cache keeps the originals, shared by every app
            result.errors = [self.without_suggestion(error) for error in result.errors]

    @staticmethod
    def without_suggestion(error: GraphQLError) -> GraphQLError:
        message = SUGGESTION.sub("", error.message)
        return error if message == error.message else reworded(error, message)


def reworded(
    error: GraphQLError, message: str, extensions: dict[str, Any] | None = None
) -> GraphQLError:
    """A new error like ``error`` (where, path, cause) with another message and, when
    given, other extensions; ``error`` itself stays as it is (caches may hold it)."""
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        original_error=error.original_error,
        extensions=error.extensions if extensions is None else extensions,
    )
