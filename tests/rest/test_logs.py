"""What the server logs about clients' mistakes and database errors: client errors are not
ERROR lines, a client that leaves mid-body is one line, and database errors are logged
without the values users sent."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.db import create_engine, libpq_dsn
from opsgraph.db.faults import redact
from opsgraph.settings import Settings
from tests.conftest import make_settings


class Records(logging.Handler):
    """Every record logged while it is attached to the root logger (the app's own
    logging setup replaces the root's handlers, pytest's included)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def captured() -> Iterator[list[logging.LogRecord]]:
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.records
    finally:
        root.removeHandler(handler)


async def test_a_query_that_does_not_validate_is_logged_below_error(
    anon_client: httpx.AsyncClient,
) -> None:
    with captured() as records:
        response = await anon_client.post("/graphql", json={"query": "{ noSuchField }"})
    assert response.status_code == 400
    assert "noSuchField" in response.text
    assert [r for r in records if "noSuchField" in r.getMessage()]
    assert not [r for r in records if r.levelno >= logging.ERROR]


async def test_a_client_leaving_mid_body_is_one_line_without_traceback(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    app = create_app(settings, session_factory=session_factory)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"query": "{ __typ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        pass

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "app": app,
    }
    with captured() as records:
        await app(scope, receive, send)
    lines = [r for r in records if "disconnected" in r.getMessage()]
    assert len(lines) == 1
    assert lines[0].exc_info is None
    assert not [r for r in records if r.exc_info or r.levelno >= logging.ERROR]


async def test_database_errors_are_logged_without_the_values_sent(database_url: URL) -> None:
    engine = create_engine(database_url, make_settings(database_url))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TEMP TABLE secret (email text UNIQUE)"))
            insert = text("INSERT INTO secret VALUES (:email)")
            await conn.execute(insert, {"email": "private@example.com"})
            with pytest.raises(DBAPIError) as duplicate:
                await conn.execute(insert, {"email": "private@example.com"})
            await conn.rollback()
            with pytest.raises(DBAPIError) as malformed:
                await conn.execute(text("SELECT CAST(:n AS integer)"), {"n": "12ab-secret"})
    finally:
        await engine.dispose()
    for caught, kept in ((duplicate, "duplicate key value"), (malformed, "invalid input")):
        redact(caught.value)
        logged = str(caught.value)
        assert kept in logged
        assert "private@example.com" not in logged
        assert "12ab-secret" not in logged
        assert "DETAIL" not in logged
        assert isinstance(caught.value.orig, psycopg.Error)
        assert "private@example.com" not in str(caught.value.orig)


def test_every_connection_carries_the_timeouts(database_url: URL) -> None:
    settings = make_settings(
        database_url, db_statement_timeout=7, db_lock_timeout=2.5, db_idle_in_transaction_timeout=0
    )
    from opsgraph.db.engine import session_options

    options = session_options(settings)
    with psycopg.connect(libpq_dsn(database_url), options=options) as conn:
        shown = [
            conn.execute(f"SHOW {name}").fetchone()
            for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")
        ]
    assert shown == [("7s",), ("2500ms",), ("0",)]
