"""Trusted documents: Apollo's automatic persisted queries over POST and GET, and the
allow-list mode in which only documents registered by an operator run."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from opsgraph.app import create_app
from opsgraph.models import DocumentSource, TrustedDocument
from opsgraph.rest.trusted_documents import DocumentCache
from opsgraph.services.trusted_document import (
    canonical_operation,
    register_documents,
    sha256_hex,
)
from opsgraph.settings import Settings
from tests.conftest import create_and_sign_in, make_settings
from tests.test_cli import assert_one_line_error, run_cli, url_text

PING = "query Ping { __typename }"
CUSTOMERS = "query Customers { customers(first: 2) { totalCount } }"
OTHER_CUSTOMERS = "query Customers { customers(first: 3) { totalCount } }"
JSON = "application/json"
GRAPHQL_JSON = "application/graphql-response+json"
MAX_TOKENS = Settings.model_fields["graphql_max_tokens"].default


def persisted(document: str, sha256: str | None = None) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha256 or sha256_hex(document)}}


async def post(
    http: httpx.AsyncClient,
    *,
    query: str | None = None,
    extensions: dict[str, Any] | None = None,
    accept: str = JSON,
    **body: Any,
) -> httpx.Response:
    payload: dict[str, Any] = dict(body)
    if query is not None:
        payload["query"] = query
    if extensions is not None:
        payload["extensions"] = extensions
    return await http.post("/graphql", json=payload, headers={"Accept": accept})


async def get(
    http: httpx.AsyncClient,
    *,
    query: str | None = None,
    extensions: dict[str, Any] | None = None,
    accept: str = JSON,
) -> httpx.Response:
    params = {}
    if query is not None:
        params["query"] = query
    if extensions is not None:
        params["extensions"] = json.dumps(extensions)
    return await http.get("/graphql", params=params, headers={"Accept": accept})


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert "data" not in body, body
    code: str = body["errors"][0]["extensions"]["code"]
    return code


async def stored(session: AsyncSession, document: str) -> TrustedDocument | None:
    return await session.get(TrustedDocument, sha256_hex(document), populate_existing=True)


def app_client(
    session_factory: async_sessionmaker[AsyncSession], database_url: URL, **overrides: Any
) -> httpx.AsyncClient:
    app = create_app(make_settings(database_url, **overrides), session_factory=session_factory)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


@pytest.fixture
async def registered_app(
    session_factory: async_sessionmaker[AsyncSession], database_url: URL
) -> AsyncIterator[httpx.AsyncClient]:
    """The app in the allow-list mode, called without credentials."""
    async with app_client(session_factory, database_url, trusted_documents="registered") as http:
        yield http


@pytest.fixture
def statements(db_conn: AsyncConnection) -> list[str]:
    """Every SQL statement run on the test's connection from now on."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(db_conn.sync_connection, "before_cursor_execute", record)
    return seen


# --- automatic persisted queries (open mode) ------------------------------------------


async def test_apq_round_trip_over_post(client: httpx.AsyncClient, session: AsyncSession) -> None:
    first = await post(client, extensions=persisted(CUSTOMERS))
    assert first.status_code == 200  # what Apollo Server answers application/json clients
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert error_code(first) == "PERSISTED_QUERY_NOT_FOUND"

    second = await post(client, query=CUSTOMERS, extensions=persisted(CUSTOMERS))
    assert second.status_code == 200
    assert "totalCount" in second.json()["data"]["customers"]
    row = await stored(session, CUSTOMERS)
    assert row is not None
    assert (row.document, row.source) == (CUSTOMERS, DocumentSource.apq)
    assert row.created_by.startswith("user:")

    third = await post(client, extensions=persisted(CUSTOMERS))
    assert third.json()["data"] == second.json()["data"]


async def test_apq_round_trip_over_get(client: httpx.AsyncClient) -> None:
    # Accept */* (Apollo Client 3) negotiates application/graphql-response+json: the
    # refusal is then a 404, whose body Apollo's link reads before it retries
    first = await get(client, extensions=persisted(CUSTOMERS), accept="*/*")
    assert first.status_code == 404
    assert first.headers["content-type"].startswith(GRAPHQL_JSON)
    assert error_code(first) == "PERSISTED_QUERY_NOT_FOUND"

    second = await get(client, query=CUSTOMERS, extensions=persisted(CUSTOMERS))
    assert second.status_code == 200
    assert "totalCount" in second.json()["data"]["customers"]

    third = await get(client, extensions=persisted(CUSTOMERS), accept="*/*")
    assert third.status_code == 200
    assert third.json()["data"] == second.json()["data"]


async def test_a_mutation_by_hash_over_get_is_405(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    operation = canonical_operation(
        "mutation Out { logout { __typename } }", None, max_tokens=MAX_TOKENS
    )
    assert operation is not None
    await register_documents(session, [operation])
    await session.commit()
    response = await get(client, extensions=persisted(operation.document))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"


async def test_anonymous_documents_run_but_are_not_stored(
    anon_client: httpx.AsyncClient, session: AsyncSession
) -> None:
    response = await post(anon_client, query=PING, extensions=persisted(PING))
    assert response.json()["data"] == {"__typename": "Query"}
    assert await stored(session, PING) is None
    again = await post(anon_client, extensions=persisted(PING))
    assert error_code(again) == "PERSISTED_QUERY_NOT_FOUND"


async def test_documents_that_do_not_validate_are_not_stored(
    client: httpx.AsyncClient, session: AsyncSession
) -> None:
    broken = "{ customers { nope } }"
    response = await post(client, query=broken, extensions=persisted(broken))
    assert "Cannot query field 'nope'" in response.json()["errors"][0]["message"]
    assert await stored(session, broken) is None


async def test_automatic_documents_are_capped(
    session_factory: async_sessionmaker[AsyncSession],
    database_url: URL,
    session: AsyncSession,
) -> None:
    async with app_client(session_factory, database_url, apq_max_documents=1) as http:
        http.headers.update(await create_and_sign_in(http, session_factory, "apq-cap", ["staff"]))
        for document in (CUSTOMERS, OTHER_CUSTOMERS):
            response = await post(http, query=document, extensions=persisted(document))
            assert "errors" not in response.json()
    assert await stored(session, CUSTOMERS) is not None
    assert await stored(session, OTHER_CUSTOMERS) is None


async def test_a_hash_that_does_not_match_is_refused(client: httpx.AsyncClient) -> None:
    response = await post(client, query=PING, extensions=persisted(CUSTOMERS))
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "message": "provided sha does not match query",
                "extensions": {"code": "PERSISTED_QUERY_HASH_MISMATCH"},
            }
        ]
    }


@pytest.mark.parametrize(
    ("persisted_query", "message"),
    [
        ({"version": 2, "sha256Hash": "0" * 64}, "Unsupported persisted query version"),
        ({"version": True, "sha256Hash": "0" * 64}, "Unsupported persisted query version"),
        ({"version": 1, "sha256Hash": "abc"}, "64 hexadecimal characters"),
        ({"version": 1}, "64 hexadecimal characters"),
        ("abc", "must be an object"),
    ],
)
async def test_malformed_persisted_queries_are_400(
    client: httpx.AsyncClient, persisted_query: Any, message: str
) -> None:
    response = await post(client, extensions={"persistedQuery": persisted_query})
    assert response.status_code == 400
    assert message in response.json()["errors"][0]["message"]
    assert error_code(response) == "BAD_REQUEST"


async def test_a_browser_get_with_a_hash_is_not_graphiql(client: httpx.AsyncClient) -> None:
    response = await get(client, extensions=persisted(PING), accept="text/html,*/*")
    assert error_code(response) == "PERSISTED_QUERY_NOT_FOUND"


# --- the allow-list (registered mode) -----------------------------------------------


async def test_registered_documents_run_by_hash_and_by_text(
    registered_app: httpx.AsyncClient, session: AsyncSession
) -> None:
    operation = canonical_operation(PING, None, max_tokens=MAX_TOKENS)
    assert operation is not None
    assert await register_documents(session, [operation]) == {operation.sha256}
    await session.commit()

    by_hash = await post(registered_app, extensions=persisted(operation.document))
    assert by_hash.json()["data"] == {"__typename": "Query"}
    by_get = await get(registered_app, extensions=persisted(operation.document))
    assert by_get.json()["data"] == {"__typename": "Query"}
    by_text = await post(registered_app, query=operation.document)
    assert by_text.json()["data"] == {"__typename": "Query"}
    # the same operation written otherwise, among others, picked by its name
    file_text = "# health\nquery Ping {\n  __typename\n}\nquery Other { me { id } }\n"
    by_name = await post(registered_app, query=file_text, operationName="Ping")
    assert by_name.json()["data"] == {"__typename": "Query"}


async def test_unregistered_documents_are_refused_before_any_sql(
    registered_app: httpx.AsyncClient, statements: list[str]
) -> None:
    refused = await post(registered_app, query=CUSTOMERS, accept=GRAPHQL_JSON)
    assert refused.status_code == 403
    assert error_code(refused) == "DOCUMENT_NOT_TRUSTED"
    legacy = await post(registered_app, query="{ __typename }")
    assert legacy.status_code == 200
    assert error_code(legacy) == "DOCUMENT_NOT_TRUSTED"
    queries = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK"))]
    assert queries  # the allow-list was asked, and nothing else
    assert all("FROM trusted_document" in query for query in queries), queries


async def test_no_automatic_registration_in_registered_mode(
    registered_app: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    session: AsyncSession,
) -> None:
    registered_app.headers.update(
        await create_and_sign_in(registered_app, session_factory, "apq-staff", ["staff"])
    )
    response = await post(registered_app, query=CUSTOMERS, extensions=persisted(CUSTOMERS))
    assert error_code(response) == "DOCUMENT_NOT_TRUSTED"
    assert await stored(session, CUSTOMERS) is None
    not_found = await post(registered_app, extensions=persisted(CUSTOMERS))
    assert error_code(not_found) == "PERSISTED_QUERY_NOT_FOUND"


async def test_automatic_documents_are_not_trusted(
    registered_app: httpx.AsyncClient, session: AsyncSession
) -> None:
    session.add(
        TrustedDocument(
            sha256=sha256_hex(PING), document=PING, source=DocumentSource.apq, created_by="user:1"
        )
    )
    await session.commit()
    by_hash = await post(registered_app, extensions=persisted(PING))
    assert error_code(by_hash) == "PERSISTED_QUERY_NOT_FOUND"
    by_text = await post(registered_app, query=PING)
    assert error_code(by_text) == "DOCUMENT_NOT_TRUSTED"
    # registering it makes it trusted
    operation = canonical_operation(PING, None, max_tokens=MAX_TOKENS)
    assert operation is not None
    assert operation.document != PING  # stored as sent; registered in canonical form
    await register_documents(session, [operation])
    await session.commit()
    assert (await post(registered_app, query=PING)).json()["data"] == {"__typename": "Query"}


@pytest.mark.parametrize("bypass", [True, False])
async def test_admins_may_send_any_document_while_the_bypass_is_on(
    session_factory: async_sessionmaker[AsyncSession], database_url: URL, bypass: bool
) -> None:
    async with app_client(
        session_factory,
        database_url,
        trusted_documents="registered",
        trusted_documents_admin_bypass=bypass,
    ) as http:
        admin = await create_and_sign_in(http, session_factory, "bypass-admin", ["admin"])
        staff = await create_and_sign_in(http, session_factory, "bypass-staff", ["staff"])
        http.headers.update(admin)
        as_admin = await post(http, query=CUSTOMERS)
        http.headers.update(staff)
        as_staff = await post(http, query=CUSTOMERS)
    if bypass:
        assert as_admin.json()["data"]["customers"]["totalCount"] >= 0
    else:
        assert error_code(as_admin) == "DOCUMENT_NOT_TRUSTED"
    assert error_code(as_staff) == "DOCUMENT_NOT_TRUSTED"


def test_the_cache_is_bounded_and_keeps_the_source() -> None:
    cache = DocumentCache(maxsize=2, max_chars=10)
    cache.put("a", "1234", DocumentSource.cli)
    cache.put("b", "1234", DocumentSource.apq)
    assert cache.get("b", trusted_only=True) is None
    assert cache.get("b", trusted_only=False) == "1234"
    cache.put("c", "1234", DocumentSource.cli)  # over 10 characters: "a" goes
    assert cache.get("a", trusted_only=False) is None
    cache.put("d", "x" * 11, DocumentSource.cli)  # larger than the whole cache: not kept
    assert cache.get("d", trusted_only=False) is None
    assert cache.get("c", trusted_only=True) == "1234"


# --- opsgraph documents register / list ------------------------------------------------


DASHBOARD = """# customers and their latest orders
query Dashboard($first: Int = 5) {
  customers(first: $first) { edges { node { ...Name } } }
}
fragment Name on Customer { name }
query Ping { __typename }
"""


@pytest.fixture
async def fresh_factory(
    fresh_database_url: URL,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_async_engine(fresh_database_url)
    try:
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()


def cli(url: URL) -> Callable[..., Any]:
    def run(*args: str) -> Any:
        return run_cli("documents", *args, env={"OPSGRAPH_DATABASE_URL": url_text(url)})

    return run


async def test_cli_registers_documents_that_then_run(
    fresh_database_url: URL,
    fresh_factory: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    file = tmp_path / "dashboard.graphql"
    file.write_text(DASHBOARD)
    documents = cli(fresh_database_url)

    result = documents("register", str(file))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[1:] for line in lines] == [
        ["Dashboard", "registered"],
        ["Ping", "registered"],
    ]
    dashboard_hash = lines[0].split()[0]

    again = documents("register", str(file))
    assert again.stdout.count("already registered") == 2, again.stdout
    listed = documents("list")
    assert dashboard_hash in listed.stdout
    assert "Dashboard" in listed.stdout

    async with app_client(
        fresh_factory, fresh_database_url, trusted_documents="registered"
    ) as http:
        http.headers.update(await create_and_sign_in(http, fresh_factory, "cli-staff", ["staff"]))
        by_hash = await post(
            http,
            extensions={"persistedQuery": {"version": 1, "sha256Hash": dashboard_hash}},
            variables={"first": 1},
        )
        assert by_hash.json()["data"]["customers"]["edges"] is not None, by_hash.text
        by_file = await post(http, query=DASHBOARD, operationName="Dashboard")
        assert "errors" not in by_file.json(), by_file.text
        other = await post(http, query="query Dashboard { customers { totalCount } }")
        assert error_code(other) == "DOCUMENT_NOT_TRUSTED"


async def test_cli_register_refuses_bad_files_in_one_line(
    fresh_database_url: URL, tmp_path: Path
) -> None:
    documents = cli(fresh_database_url)
    syntax = tmp_path / "syntax.graphql"
    syntax.write_text("query { customers {\n")
    assert_one_line_error(documents("register", str(syntax)), "syntax.graphql:2:1", "Syntax Error")
    invalid = tmp_path / "invalid.graphql"
    invalid.write_text("query { customers { nope } }\n")
    assert_one_line_error(documents("register", str(invalid)), "invalid.graphql:1:", "'nope'")
    assert_one_line_error(
        documents("register", str(tmp_path / "missing.graphql")), "cannot read", "missing.graphql"
    )
    binary = tmp_path / "binary.graphql"
    binary.write_bytes(b"\xff\xfe")
    assert_one_line_error(documents("register", str(binary)), "not UTF-8")
    fragments = tmp_path / "fragments.graphql"
    fragments.write_text("fragment A on Customer { name }\n")
    assert_one_line_error(documents("register", str(fragments)), "'A' is never used")
    # one bad file and nothing is registered
    good = tmp_path / "good.graphql"
    good.write_text(PING)
    assert_one_line_error(documents("register", str(good), str(invalid)), "'nope'")
    assert documents("list").stdout == ""
