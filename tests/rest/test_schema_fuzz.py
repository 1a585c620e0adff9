"""Every root query and mutation field, fuzzed with schemathesis against a real server.

schemathesis reads the committed ``schema.graphql`` and generates, per root field of
``Query`` and ``Mutation``, documents with arbitrary arguments and nested selections
(hypothesis-graphql). They go to ``opsgraph serve`` over a database with the demo data, as
the demo admin, so every generated document passes the guards and reaches the resolvers
and services. Whatever the input, the answer must be a JSON object with a status below
500, no masked "Unexpected error.", nothing internal in the body, and the server must log
no traceback. ``FUZZ_EXAMPLES`` sets the examples per field (default 12).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from sqlalchemy import URL

from tests.conftest import PgServer, free_port, subprocess_env, wait_ready

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))
INTERNALS = ("Traceback", "psycopg", "sqlalchemy", "SELECT ", "INSERT ", "127.0.0.1:")


def _scalars() -> None:
    """Strategies for the custom scalars: well-formed values and arbitrary text alike."""
    money = st.from_regex(r"\A-?[0-9]{1,10}(\.[0-9]{1,3})?\Z")
    text = st.text(max_size=16)
    schemathesis.graphql.scalar("Decimal", st.one_of(money, text).map(nodes.String))
    schemathesis.graphql.scalar("Date", st.one_of(st.dates().map(str), text).map(nodes.String))
    schemathesis.graphql.scalar(
        "DateTime",
        st.one_of(st.datetimes().map(lambda d: d.isoformat() + "Z"), text).map(nodes.String),
    )
    schemathesis.graphql.scalar("JSON", text.map(nodes.String))


_scalars()
SCHEMA = schemathesis.graphql.from_path(ROOT / "schema.graphql")
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def server(pg_server: PgServer, template_database: str, tmp_path_factory: Any) -> Iterator[Any]:
    """``opsgraph serve`` over a database of its own with the demo data, and the demo
    admin's password."""
    name = pg_server.create_database("opsgraph_fuzz", template=template_database)
    url: URL = pg_server.url(name)
    data_dir = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = data_dir / "server.log"
    log = log_path.open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--seed-demo"],
        env=subprocess_env(
            OPSGRAPH_DATABASE_URL=url.render_as_string(hide_password=False),
            OPSGRAPH_DATA_DIR=str(data_dir),
            OPSGRAPH_PORT=str(port),
            OPSGRAPH_LOG_LEVEL="INFO",
            # generated logins fail from this one address: keep signing in possible
            OPSGRAPH_LOGIN_MAX_FAILURES="1000",
        ),
        stdout=subprocess.DEVNULL,
        stderr=log,
        text=True,
    )
    try:
        wait_ready(proc, base)
        note = (data_dir / "demo-credentials.txt").read_text()
        password = next(
            line.split(":", 1)[1].strip() for line in note.splitlines() if "admin:" in line
        )
        yield base, password, log_path
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        log.close()
        pg_server.drop_database(name)


def _problems(response: Any) -> list[str]:
    """What is wrong with one answer: a 5xx, a body that is no GraphQL response, a masked
    unexpected error, internals in the text."""
    found = []
    if response.status_code >= 500:
        found.append(f"status {response.status_code}")
    try:
        body = response.json()
    except ValueError:
        return [*found, f"not JSON: {response.text[:200]!r}"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        found.append(f"not a GraphQL response: {response.text[:200]!r}")
        return found
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if error.get("message") == "Unexpected error." or code == "INTERNAL_SERVER_ERROR":
            found.append(f"unexpected error: {error}")
    found += [
        f"internal detail {word!r} in the body" for word in INTERNALS if word in response.text
    ]
    return found


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_generated_documents_get_typed_answers(server: Any, operation: Any) -> None:
    base, password, log_path = server
    # signed in afresh for each field: a generated `logout` ends the session it runs in
    token = httpx.post(
        f"{base}/auth/token", data={"username": "admin", "password": password}, timeout=30
    )
    assert token.status_code == 200, token.text
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    logged_before = log_path.stat().st_size
    statuses: dict[int, int] = {}

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def fuzz(case: Any) -> None:
        response = case.call(base_url=f"{base}/graphql", headers=headers, timeout=60)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        problems = _problems(response)
        assert not problems, f"{case.body}\n-> {problems}"

    fuzz()
    assert 200 in statuses, f"no generated document ran: {statuses}"
    with log_path.open() as log:
        log.seek(logged_before)
        logged = log.read()
    assert "Traceback" not in logged, logged[-3000:]
