"""Which database errors mean "unavailable" (a 503) and which are timeouts (TRY_AGAIN)."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import exc as sa_exc

from opsgraph.db.faults import describe, timed_out, unavailable
from opsgraph.errors import IdempotencyInProgress


def wrapped(orig: Exception) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError.instance("SELECT 1", {}, orig, psycopg.Error)


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection failed"),  # refused, unreachable, not accepting
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.CannotConnectNow("the database system is starting up"),
        errors.TooManyConnections("sorry, too many clients already"),
        errors.LockNotAvailable("canceling statement due to lock timeout"),
        errors.QueryCanceled("canceling statement due to statement timeout"),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
        errors.UndefinedTable('relation "customer" does not exist'),  # not migrated
        errors.UndefinedColumn('column "reorder_level" does not exist'),  # not to head
    ],
)
def test_unavailable(error: Exception) -> None:
    assert unavailable(error)
    if not isinstance(error, sa_exc.TimeoutError):
        assert unavailable(wrapped(error))


@pytest.mark.parametrize(
    "error",
    [
        errors.UniqueViolation("duplicate key value violates unique constraint"),
        errors.SerializationFailure("could not serialize access"),
        ValueError("not a database error"),
    ],
)
def test_not_unavailable(error: Exception) -> None:
    assert not unavailable(error)
    assert not unavailable(wrapped(error))


def test_timeouts() -> None:
    assert timed_out(wrapped(errors.LockNotAvailable("lock timeout")))
    assert timed_out(wrapped(errors.QueryCanceled("statement timeout")))
    assert not timed_out(wrapped(errors.AdminShutdown("shutdown")))


def _claim_refused() -> None:
    try:
        raise wrapped(errors.LockNotAvailable("lock timeout"))
    except sa_exc.DBAPIError:
        raise IdempotencyInProgress("still running") from None


def test_an_error_raised_from_none_over_a_timeout_is_its_own() -> None:
    """A service that turned a lock timeout into an expected error has dealt with it."""
    with pytest.raises(IdempotencyInProgress) as refused:
        _claim_refused()
    assert isinstance(refused.value.__context__, sa_exc.DBAPIError)
    assert not unavailable(refused.value)


def test_an_unmigrated_database_is_described_with_what_to_run() -> None:
    line = describe(errors.UndefinedTable('relation "customer" does not exist'))
    assert "run `opsgraph migrate`" in line
    assert "customer" not in line  # names nothing of the query
    assert "migrate" not in describe(errors.AdminShutdown("terminating connection"))
