"""One PostgreSQL per test run, migrated once; every test isolated.

* ``OPSGRAPH_TEST_DATABASE_URL`` set: that server is used. The run creates its own
  databases there (a migrated template and clones of it) and drops them at the end, so
  the URL's own database is only used to connect.
* unset: an embedded PostgreSQL is started in a temporary directory for the run.

Most tests take ``session`` / ``client``: they run inside one transaction that is rolled
back afterwards. ``client`` (and ``gql``) send the access token of an admin created for
the test; ``anon_client`` (``anon_gql``) send no credentials; ``create_and_sign_in`` makes
a user with the given roles and returns its headers. Tests that must commit for real
(concurrency, migrations) take ``fresh_database_url``: a database cloned from the
migrated template, dropped afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from opsgraph.app import create_app
from opsgraph.db import libpq_dsn
from opsgraph.db.embedded import EmbeddedPostgres
from opsgraph.db.migrations import upgrade
from opsgraph.services.user import create_user
from opsgraph.settings import Settings, sqlalchemy_url
from tests.first_run import FirstRun, copy_checkout
from tests.first_run import start as start_first_run
from tests.readiness import until_ready

TEST_URL_ENV = "OPSGRAPH_TEST_DATABASE_URL"

# The suite sees none of the developer's settings: no OPSGRAPH_* variables, no .env file.
for _name in [n for n in os.environ if n.startswith("OPSGRAPH_") and n != TEST_URL_ENV]:
    del os.environ[_name]
os.environ["OPSGRAPH_ENV_FILE"] = ""


def subprocess_env(**extra: str) -> dict[str, str]:
    """A minimal environment for running opsgraph as a user would, plus coverage's hooks."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "OPSGRAPH_LOG_LEVEL": "WARNING",
        "OPSGRAPH_ENV_FILE": "",
    }
    env.update({k: v for k, v in os.environ.items() if k.startswith("COVERAGE_")})
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(proc: subprocess.Popen[str], base: str, timeout: float = 90) -> None:
    """Wait until ``opsgraph serve`` answers /ready with 200; fail with its output if it
    exits or takes longer than ``timeout`` seconds."""

    def ended() -> str | None:
        if proc.poll() is None:
            return None
        out, err = proc.communicate()
        return f"exited ({proc.returncode}):\n{out}\n{err}"

    why = until_ready(base, timeout, ended)
    if why is not None:
        proc.kill()
        pytest.fail(f"opsgraph serve {why}")


@dataclass
class PgServer:
    """A PostgreSQL server the run may create and drop databases on."""

    base: URL
    created: list[str] = field(default_factory=list)

    def url(self, database: str) -> URL:
        return self.base.set(database=database)

    def _admin(self) -> psycopg.Connection[Any]:
        return psycopg.connect(libpq_dsn(self.base), autocommit=True)

    def create_database(self, prefix: str, template: str | None = None) -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template:
            statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        with self._admin() as conn:
            conn.execute(statement)
        self.created.append(name)
        return name

    def drop_database(self, name: str) -> None:
        with self._admin() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.created:
            self.created.remove(name)


@contextmanager
def embedded_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    """An embedded PostgreSQL of this test process's own, stopped at the end."""
    embedded = EmbeddedPostgres(tmp_path_factory.mktemp("embedded") / "pgdata")
    embedded.start()
    try:
        yield PgServer(sqlalchemy_url(embedded.url("postgres")))
    finally:
        embedded.stop()


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgServer]:
    raw = os.environ.get(TEST_URL_ENV, "").strip()
    if raw:
        server = PgServer(sqlalchemy_url(raw))
        yield server
        for name in list(server.created):
            server.drop_database(name)
        return
    with embedded_server(tmp_path_factory) as server:
        yield server


def migrated_template(server: PgServer) -> str:
    """An empty database migrated to head, to be cloned."""
    name = server.create_database("opsgraph_tpl")
    upgrade(server.url(name))
    return name


@pytest.fixture(scope="session")
def template_database(pg_server: PgServer) -> str:
    """An empty database migrated to head, cloned by every database the tests use."""
    return migrated_template(pg_server)


@pytest.fixture(scope="session")
def database_url(pg_server: PgServer, template_database: str) -> URL:
    return pg_server.url(pg_server.create_database("opsgraph_test", template=template_database))


@pytest.fixture
def fresh_database_url(pg_server: PgServer, template_database: str) -> Iterator[URL]:
    """A migrated database of the test's own, for tests that commit for real."""
    name = pg_server.create_database("opsgraph_fresh", template=template_database)
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture
def empty_database_url(pg_server: PgServer) -> Iterator[URL]:
    """An empty, unmigrated database."""
    name = pg_server.create_database("opsgraph_empty")
    yield pg_server.url(name)
    pg_server.drop_database(name)


def make_settings(database_url: URL | str | None = None, **overrides: Any) -> Settings:
    url = (
        database_url.render_as_string(hide_password=False)
        if isinstance(database_url, URL)
        else database_url
    )
    # an app built by a test runs no job worker unless the test asks for one
    overrides.setdefault("worker_in_serve", False)
    return Settings(_env_file=None, database_url=url, **overrides)  # type: ignore[call-arg]


@pytest.fixture(scope="session")
def settings(database_url: URL) -> Settings:
    return make_settings(database_url)


@pytest.fixture(scope="session")
async def engine(database_url: URL) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(database_url, poolclass=NullPool)
    yield engine
    await engine.dispose()


@pytest.fixture
async def db_conn(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a transaction that is always rolled back."""
    async with engine.connect() as conn:
        transaction = await conn.begin()
        try:
            yield conn
        finally:
            await transaction.rollback()


@pytest.fixture
def session_factory(db_conn: AsyncConnection) -> async_sessionmaker[AsyncSession]:
    """Sessions whose commits become savepoints of the test's transaction."""
    return async_sessionmaker(
        bind=db_conn, join_transaction_mode="create_savepoint", expire_on_commit=False
    )


@pytest.fixture
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session


TEST_PASSWORD = "test password 1234"


async def create_and_sign_in(
    http: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    username: str,
    roles: list[str],
    *,
    customer_id: int | None = None,
) -> dict[str, str]:
    """Create a user with ``roles`` (linked to ``customer_id`` for a portal user), sign in
    through POST /auth/token, and return the headers that carry its access token."""
    async with session_factory() as session:
        user = await create_user(
            session,
            username=username,
            email=f"{username}@example.com",
            password=TEST_PASSWORD,
            roles=roles,
            password_rounds=4,
        )
        user.customer_id = customer_id
        await session.commit()
    response = await http.post(
        "/auth/token", data={"username": username, "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
async def anon_client(
    settings: Settings, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def client(
    anon_client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """The app, called by an admin."""
    headers = await create_and_sign_in(anon_client, session_factory, "test-admin", ["admin"])
    async with httpx.AsyncClient(
        transport=anon_client._transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        status: int = 200,
        **headers: str,
    ) -> dict[str, Any]:
        """POST the query; the response must have ``status`` (401/403: refused by the
        guards)."""
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == status, response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


@pytest.fixture
def anon_gql(anon_client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(anon_client)


@dataclass
class LiveApi:
    """The app over a database of the test's own, with a real connection pool: requests
    commit for real and run in parallel (concurrency tests). ``gql`` sends the admin's
    token; ``data`` asserts there are no top-level errors."""

    http: httpx.AsyncClient
    session_factory: async_sessionmaker[AsyncSession]
    headers: dict[str, str]

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> httpx.Response:
        return await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers={**self.headers, **headers},
        )

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        response = await self.gql(query, variables, **headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data


@pytest.fixture
async def live(fresh_database_url: URL) -> AsyncIterator[LiveApi]:
    """An admin's client of the app over its own committed database and a pool of up to
    40 connections, for tests that send many requests at once."""
    engine = create_async_engine(
        fresh_database_url, pool_size=20, max_overflow=20, pool_timeout=120
    )
    factory = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
    app = create_app(make_settings(fresh_database_url), session_factory=factory)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", timeout=120
        ) as http:
            headers = await create_and_sign_in(http, factory, "live-admin", ["admin"])
            yield LiveApi(http, factory, headers)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def first_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FirstRun]:
    """``make run`` in a fresh copy of the repository (``tests/first_run.py``), serving
    the demo data on a free port; stopped with Ctrl-C at the end of the run."""
    directory = copy_checkout(tmp_path_factory.mktemp("fresh-clone"))
    env = subprocess_env()
    del env["OPSGRAPH_LOG_LEVEL"]  # what a person sees
    run = start_first_run(directory, free_port(), env)
    yield run
    # Ctrl-C reaches make and the server alike: make ends by the signal, the server cleanly
    assert run.stop() in (0, 2, 130, -signal.SIGINT), run.output


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under parallel workers (``make test`` runs pytest-xdist with ``--dist loadgroup``)
    the browser tests share one worker: one Chromium install, one GraphiQL asset check,
    and one ``make run`` of a fresh copy for them and the README's examples."""
    for item in items:
        if "browser" in item.path.parts or "first_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("browser"))
