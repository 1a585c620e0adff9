"""The one way a mutation runs: guard, one service call in one transaction, payload.

``mutate`` runs ``work(session, actor)`` in the request's transaction and fills the
payload: an expected failure (``DomainError``) becomes ``errors`` and the transaction is
rolled back, so a failed mutation changes nothing; ``Unauthenticated``/``Forbidden`` stay
top-level errors. A deadlock or serialization failure is retried (the whole service call,
in a fresh transaction or savepoint), so it never reaches a client. A lock wait past
``lock_timeout`` or a statement past ``statement_timeout`` rolls the work back and becomes
the retryable ``TRY_AGAIN`` error in the payload. With ``dry_run`` the
service runs just the same, the payload is read from inside its transaction, and then
everything is rolled back (``Context.dry_run``).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.context import Context
from opsgraph.db.faults import RACES, describe, timed_out
from opsgraph.errors import DomainError, Forbidden, TryAgain, Unauthenticated, each_error
from opsgraph.schema.errors import UserError, user_error
from opsgraph.schema.resolve import Info

T = TypeVar("T")
P = TypeVar("P")
log = logging.getLogger(__name__)

ATTEMPTS = 8


@dataclass(frozen=True)
class Ref:
    """A payload field holding the row of ``type_name`` with this id, read after the work."""

    type_name: str
    id: int


def retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RACES


async def in_transaction(
    context: Context,
    call: Callable[[AsyncSession], Awaitable[T]],
    *,
    dry_run: bool = False,
) -> T | list[UserError]:
    """Run ``call`` in the request's transaction: its result, or the expected failure as
    payload errors (the transaction rolled back, nothing changed). After a change the
    request's loaders start afresh: nothing read before it stands in for the rows now."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            block = context.dry_run() if dry_run else context.transaction()
            async with block as session:
                result = await call(session)
                await session.flush()
        except (Unauthenticated, Forbidden):
            raise
        except DomainError as error:  # several at once: InvalidInputs
            return [user_error(each) for each in each_error(error)]
        except DBAPIError as error:
            if timed_out(error):
                log.warning("mutation rolled back: %s", describe(error))
                return [user_error(TryAgain())]
            if attempt == ATTEMPTS or not retryable(error):
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311 - jitter
        else:
            context.loaders.forget()
            return result
    raise AssertionError("unreachable")  # pragma: no cover


async def load(info: Info, entity: str, key: int) -> Any:
    """The row of ``entity`` with this key, through the request's loaders."""
    return await info.context.loaders.by_key(entity).load(key)


async def mutate(
    info: Info,
    payload: Callable[..., P],
    work: Callable[[AsyncSession, Principal], Awaitable[T]],
    shape: Callable[[T], Mapping[str, Any]],
    *,
    dry_run: bool = False,
) -> P:
    """Run ``work`` as the signed-in caller and build ``payload``: from ``shape(result)``
    (field name -> value; a ``Ref`` is read as the row it names), or with ``errors``."""
    actor = await info.context.require_principal()
    done = await in_transaction(info.context, lambda session: work(session, actor), dry_run=dry_run)
    if isinstance(done, list):
        return payload(errors=done)
    fields = {}
    for name, value in shape(done).items():
        fields[name] = (
            await load(info, value.type_name, value.id) if isinstance(value, Ref) else value
        )
    return payload(**fields)
