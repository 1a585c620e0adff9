"""The compiled read path: queries over the mapped graph run level by level.

graphql-core executes a query field by field: for the dashboard query that is about
17,500 resolver calls, each with its own info object, argument conversion and, for the
relations, its own coroutine. The result is the same when a query only reads the mapped
graph, so ``CompiledReads`` plans such a query once per request (``plan.py``), fetches
each level for all its rows with the request's loaders, and writes the response with
plain function calls (``nodes.py``).

Every operation, on either path, is first checked as a whole, and a refused one reads
nothing: its cost against the limit (``cost.py``), its input strings (``inputs.py``), then
the caller's permissions (``opsgraph.auth.guard``), then the caller's budget, which it
spends (``opsgraph.auth.budget``).

Everything else runs on graphql-core and the resolvers, unchanged: mutations,
introspection, reports, abstract types, fields with extensions, and any operation whose
compiled run meets an error (bad arguments, a null where none may be). The resolvers
then produce the error, with its path, exactly as they always do; tests run the same
queries both ways and compare the responses byte for byte.
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError, OperationType
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from opsgraph.auth.budget import CostReport
from opsgraph.auth.guard import SelectionWalk, check_operation
from opsgraph.context import Context
from opsgraph.db.faults import unavailable
from opsgraph.errors import DomainError, QueryTooCostly
from opsgraph.execution.cost import operation_cost
from opsgraph.execution.inputs import check_input_values
from opsgraph.execution.nodes import NotCompiled, QueryPlan
from opsgraph.execution.plan import Planner

log = logging.getLogger(__name__)

COMPILED = "compiled"
RESOLVERS = "resolvers"


class CompiledReads(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor: operations guarded, queries over the mapped graph compiled."""

    def execute_operation(self, serially: bool | None = None) -> Any:
        return self.guarded(serially)

    async def guarded(self, serially: bool | None) -> Any:
        context = self.context_value
        if not isinstance(context, Context):
            raise TypeError("opsgraph operations run with an opsgraph Context")
        cost = operation_cost(self.schema, self.fragments, self.variable_values, self.operation)
        report = context.cost = CostReport(cost, context.settings.query_cost_limit)
        walk = SelectionWalk(self.schema, self.fragments, self.variable_values, self.operation)
        try:
            if cost > report.limit:  # before the caller is looked up: no SQL at all
                raise QueryTooCostly(cost, report.limit)
            check_input_values(walk)
            await check_operation(walk, context)
            await context.spend(report)
        except DomainError as refused:  # too costly, bad input, refused, over budget
            self.collected_errors.add(GraphQLError(refused.message, original_error=refused), None)
            return self.build_response(None)
        plan = self.compiled_plan()
        if plan is not None:
            return await self.run_compiled(plan, serially)
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result

    def compiled_plan(self) -> QueryPlan | None:
        context = self.context_value
        if (
            self.operation.operation is not OperationType.QUERY
            or not context.settings.compiled_reads
            or getattr(self.middleware_manager, "middlewares", None)
        ):
            return None
        try:
            return Planner(self.schema, self.fragments, self.variable_values, self.operation).plan()
        except (NotCompiled, DomainError) as reason:
            # a field the plan cannot hold, or a bad argument: the resolvers report it
            log.debug("query runs on the resolvers: %s", reason)
            return None

    async def run_compiled(self, plan: QueryPlan, serially: bool | None) -> Any:
        context = self.context_value
        try:
            data = await plan.run(context)
        except (NotCompiled, DomainError) as reason:
            # the resolvers produce the error (and its path) as they always do
            log.debug("query runs on the resolvers: %s", reason)
        except Exception as error:
            if unavailable(error):
                raise  # the resolvers would meet the same database: a 503 as a whole
            log.exception("compiled read failed; running the query on the resolvers")
        else:
            context.read_path = COMPILED
            return self.build_response(data)
        result = super().execute_operation(serially)
        return await result if self.is_awaitable(result) else result
