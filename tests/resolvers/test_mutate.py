"""``opsgraph.resolvers.mutate``: a transaction that loses a deadlock or serialization
race runs again (in a new transaction), so the client never sees that failure; any other
database error is not retried."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from opsgraph.context import Context
from opsgraph.errors import Conflict
from opsgraph.resolvers import mutate
from opsgraph.settings import Settings


def lost(error: type[psycopg.Error]) -> DBAPIError:
    return DBAPIError("UPDATE ...", {}, error("lost the race"))


@pytest.fixture
def context(settings: Settings, session_factory: async_sessionmaker[AsyncSession]) -> Context:
    request = Request({"type": "http", "method": "POST", "headers": [], "path": "/graphql"})
    return Context(
        request=request, response=None, settings=settings, session_factory=session_factory
    )


@pytest.mark.parametrize(
    "failure", [psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected]
)
async def test_a_lost_race_runs_again(context: Context, failure: type[psycopg.Error]) -> None:
    attempts: list[int] = []

    async def work(session: AsyncSession) -> Any:
        attempts.append(1)
        await session.execute(text("CREATE TEMP TABLE IF NOT EXISTS tries (n int)"))
        await session.execute(text("INSERT INTO tries VALUES (:n)"), {"n": len(attempts)})
        if len(attempts) < 3:
            raise lost(failure)
        return (await session.execute(text("SELECT array_agg(n) FROM tries"))).scalar()

    kept = await mutate.in_transaction(context, work)
    assert len(attempts) == 3
    assert kept == [3]  # the two lost attempts were rolled back


async def test_retries_end(context: Context, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mutate, "ATTEMPTS", 2)

    async def always(session: AsyncSession) -> None:
        raise lost(psycopg.errors.SerializationFailure)

    with pytest.raises(DBAPIError):
        await mutate.in_transaction(context, always)


async def test_other_database_errors_are_not_retried(context: Context) -> None:
    attempts: list[int] = []

    async def broken(session: AsyncSession) -> None:
        attempts.append(1)
        raise lost(psycopg.errors.UndefinedTable)

    with pytest.raises(DBAPIError):
        await mutate.in_transaction(context, broken)
    assert attempts == [1]


async def test_an_expected_failure_is_payload_errors(context: Context) -> None:
    async def refused(session: AsyncSession) -> None:
        raise Conflict("taken", field=["name"])

    [error] = await mutate.in_transaction(context, refused)  # type: ignore[misc]
    assert (error.code.value, error.message, error.field) == ("CONFLICT", "taken", ["name"])
