"""``Idempotency-Key`` on mutation requests over HTTP (opsgraph.services.idempotency
keeps the keys).

A POST whose operation is a mutation and that carries the header runs in one transaction
of its own (``Context.pinned``): the key is claimed first, the mutations run in
savepoints, the response is stored last, and all of it commits together. A repeat with
the same key, operation and variables gets the stored response (header
``Idempotent-Replayed: true``) without running again, also while the first still runs: it
waits up to ``OPSGRAPH_IDEMPOTENCY_WAIT_SECONDS``, then gets 409
``IDEMPOTENCY_IN_PROGRESS``. The same key with other input is 422
``IDEMPOTENCY_KEY_REUSED``; a malformed key is 400. A mutation that meets a lock or
statement timeout (``TRY_AGAIN``) rolls the whole request back and makes it a 503, the
key unused, so that the repeat runs. (Status codes as the IETF draft "The
Idempotency-Key HTTP Header Field" has them.)

Keys are scoped to the caller (user or API key). A request without credentials has no
scope, so its key is ignored: a stored response (a login's tokens) must never be handed
to somebody else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode, OperationType, parse
from strawberry.http import GraphQLRequestData
from strawberry.types import ExecutionResult

from opsgraph.db.faults import DatabaseUnavailable
from opsgraph.errors import DomainError, IdempotencyInProgress, IdempotencyKeyReused, TryAgain
from opsgraph.services import idempotency

IDEMPOTENCY_HEADER = "idempotency-key"
REPLAYED_HEADER = "Idempotent-Replayed"


@dataclass
class Replayed(ExecutionResult):
    """The stored response of an earlier request with the same Idempotency-Key."""

    response: dict[str, Any] = field(default_factory=dict)


class Refused(Exception):
    """The key can't be used for this request: answered with ``status`` and ``code``."""

    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


def is_mutation(request_data: GraphQLRequestData) -> bool:
    """Whether the request's operation is a mutation (False when the document doesn't
    parse or the operation can't be picked: execution reports that as usual)."""
    try:
        document = parse(request_data.query or "", no_location=True)
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = request_data.operation_name
    if name is not None:
        operations = [o for o in operations if o.name is not None and o.name.value == name]
    return len(operations) == 1 and operations[0].operation == OperationType.MUTATION


def timed_out(result: ExecutionResult) -> bool:
    """Whether a mutation of the result answered ``TRY_AGAIN`` (a lock or statement
    timeout, ``opsgraph.resolvers.mutate``)."""
    for payload in (result.data or {}).values():
        errors = payload.get("errors") if isinstance(payload, dict) else None
        if any(isinstance(e, dict) and e.get("code") == TryAgain.code for e in errors or ()):
            return True
    return False


async def run_idempotent(
    raw_key: str,
    sub_response: Any,
    context: Any,
    request_data: GraphQLRequestData,
    execute: Callable[[], Awaitable[ExecutionResult]],
    to_store: Callable[[ExecutionResult], Awaitable[dict[str, Any] | None]],
) -> ExecutionResult:
    """Run the request under its key, or replay what the key's first request got."""
    try:
        key = idempotency.check_key(raw_key)
    except DomainError as error:
        raise Refused(400, error.message, "BAD_REQUEST") from None
    try:
        principal = await context.principal()
    except DomainError:
        principal = None  # bad credentials: the guard refuses the request as usual
    if principal is None:
        return await execute()
    scope = idempotency.scope_of(principal)
    settings = context.settings
    digest = idempotency.request_hash(
        request_data.query, request_data.operation_name, request_data.variables
    )
    async with context.session_factory() as session:
        await session.begin()
        try:
            claimed = await idempotency.claim(
                session,
                scope=scope,
                key=key,
                digest=digest,
                ttl=dt.timedelta(hours=settings.idempotency_key_hours),
                wait_seconds=settings.idempotency_wait_seconds,
            )
        except IdempotencyInProgress as error:
            raise Refused(409, error.message, error.code) from None
        except IdempotencyKeyReused as error:
            raise Refused(422, error.message, error.code) from None
        if not claimed.owned:
            await session.rollback()
            sub_response.headers[REPLAYED_HEADER] = "true"
            return Replayed(data=None, errors=None, response=claimed.response or {})
        context.pinned = session
        try:
            result = await execute()
        finally:
            context.pinned = None
        if timed_out(result):
            # one transaction for the whole request: roll it all back, keep the key unused
            # and answer 503, so that a repeat with the same key runs again
            raise DatabaseUnavailable(TryAgain())
        response = await to_store(result)
        if response is None:  # nothing ran: the key stays unused
            await session.rollback()
            return result
        await idempotency.store(session, scope=scope, key=key, response=response)
        await session.commit()
        return result
