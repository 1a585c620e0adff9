"""What a database error means for the client, and how it may be logged.

``unavailable`` is the one test every surface (GraphQL, ``/auth/token``, the REST routes)
applies: the connection failed or was lost, the pool had no connection in time, the server
is shutting down or out of connections, a read ran past its statement or lock timeout, or
the database lacks opsgraph's tables or columns (``opsgraph migrate`` has not run: the
client is told the same, ``describe`` tells the log what to run). Such a request is
answered ``503`` with ``Retry-After`` and a fixed message that names no host, port,
database, driver or SQL. ``timed_out`` picks out the statement and lock timeouts, which a
mutation reports as a retryable error instead.

``redact`` strips what users sent from a database error before it is logged: SQLAlchemy
already leaves out the parameters (``hide_parameters``); PostgreSQL's ``DETAIL`` lines and
the values quoted in data errors go too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import psycopg
from sqlalchemy import exc as sa_exc

UNAVAILABLE_MESSAGE = "The database is unavailable; try again shortly."
UNAVAILABLE_CODE = "DATABASE_UNAVAILABLE"

LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out
QUERY_CANCELED = "57014"  # statement_timeout ran out (or the statement was cancelled)
TIMEOUTS = frozenset({LOCK_NOT_AVAILABLE, QUERY_CANCELED})
# serialization_failure, deadlock_detected: the transaction lost a race and may run again
RACES = frozenset({"40001", "40P01"})
# 08: connection exception; 53: insufficient resources (too many connections, out of memory)
UNAVAILABLE_CLASSES = frozenset({"08", "53"})
# undefined_table, undefined_column: the schema is older than the server (not migrated)
UNMIGRATED_STATES = frozenset({"42P01", "42703"})
UNAVAILABLE_STATES = frozenset(
    {
        "57P01",  # admin_shutdown
        "57P02",  # crash_shutdown
        "57P03",  # cannot_connect_now (starting up, shutting down, in recovery)
        "57P05",  # idle_session_timeout
        "25P03",  # idle_in_transaction_session_timeout
        *TIMEOUTS,
    }
)


class DatabaseUnavailable(Exception):
    """A request could not be served because the database was unavailable (``cause``)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(UNAVAILABLE_MESSAGE)
        self.cause = cause


def _chain(error: BaseException | None) -> Iterator[BaseException]:
    """The error, what it wraps (``original_error``, ``orig``, ``cause``) and its causes."""
    seen: set[int] = set()
    todo = [error]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for name in ("original_error", "orig", "cause"):
            inner = getattr(current, name, None)
            if isinstance(inner, BaseException):
                todo.append(inner)
        todo.append(current.__cause__)
        if not current.__suppress_context__:  # ``raise ... from None`` dealt with it
            todo.append(current.__context__)


def sqlstate(error: BaseException | None) -> str | None:
    """The SQLSTATE of the first database error in the chain, if it has one."""
    for current in _chain(error):
        state = getattr(current, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def timed_out(error: BaseException) -> bool:
    """A statement ran past ``statement_timeout`` or waited past ``lock_timeout``."""
    return sqlstate(error) in TIMEOUTS


def unavailable(error: BaseException | None) -> bool:
    """Whether the error means the database could not serve the request just now: it is
    away, busy, or not migrated to this opsgraph yet (a deploy that has not run
    ``opsgraph migrate``); ``describe`` says which."""
    for current in _chain(error):
        if isinstance(current, DatabaseUnavailable | sa_exc.TimeoutError):
            return True  # TimeoutError: no pooled connection within the checkout timeout
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, psycopg.Error):
            state = current.sqlstate
            if state is None:
                # raised by the driver, not the server: the connection failed or was lost
                return isinstance(current, psycopg.OperationalError | psycopg.InterfaceError)
            return (
                state[:2] in UNAVAILABLE_CLASSES
                or state in UNAVAILABLE_STATES
                or state in UNMIGRATED_STATES
            )
    return False


def transient(error: BaseException | None) -> bool:
    """Whether running the same work again may succeed: the database was unavailable, or
    the transaction lost a race."""
    return unavailable(error) or sqlstate(error) in RACES


def describe(error: BaseException) -> str:
    """One line for the log: what kind of fault, with no host, values or SQL."""
    for current in _chain(error):
        if isinstance(current, sa_exc.TimeoutError):
            return "no pooled connection within the checkout timeout"
        if isinstance(current, psycopg.Error):
            state = current.sqlstate or "none"
            kind = f"{type(current).__name__} (SQLSTATE {state})"
            if state in UNMIGRATED_STATES:
                return f"the database lacks opsgraph's tables, {kind}: run `opsgraph migrate`"
            return kind
    return type(error).__name__


def _safe_message(error: psycopg.Error) -> str:
    diag = error.diag
    primary = diag.message_primary or type(error).__name__
    if (error.sqlstate or "").startswith("22"):
        # data exceptions quote the value that failed: keep only what kind of failure
        primary = primary.split(":", 1)[0]
    return primary


def redact(error: BaseException | None) -> None:
    """Remove user-supplied values from the database errors in the chain, in place, so
    that neither their message nor a logged traceback carries them."""
    for current in _chain(error):
        if isinstance(current, psycopg.Error) and current.sqlstate is not None:
            current.args = (_safe_message(current),)
        elif isinstance(current, sa_exc.DBAPIError) and isinstance(current.orig, psycopg.Error):
            orig = current.orig
            if orig.sqlstate is not None:
                kind = f"{type(orig).__module__}.{type(orig).__name__}"
                current.args = (f"({kind}) {_safe_message(orig)}",)


def log_failure(log: logging.Logger, where: str, error: BaseException) -> bool:
    """Log a request's failure once, the same way on every route: True when the database
    could not serve it (one warning naming the fault: answer 503), False when it is
    unexpected (a traceback with the users' values redacted: answer 500)."""
    if unavailable(error):
        log.warning("database unavailable on %s: %s", where, describe(error))
        return True
    redact(error)
    log.exception("unhandled error on %s", where, exc_info=error)
    return False
