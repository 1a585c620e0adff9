"""The event tests' databases live on a PostgreSQL server no other test process uses.

The feed shows only events older than every transaction still running in the whole
cluster (``pg_snapshot_xmin`` is cluster-wide). On a server shared with parallel test
workers, another worker's open transaction would hold the feed back for as long as it
runs; production has the same property, and the README says so. Here each worker gets
its own server: the run's embedded one when the suite starts one per worker, else an
embedded PostgreSQL of its own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import URL

from tests.conftest import TEST_URL_ENV, PgServer, embedded_server, migrated_template


@pytest.fixture(scope="session")
def quiet_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[PgServer, str]]:
    """A server of this worker's own and a migrated template on it."""
    if not os.environ.get(TEST_URL_ENV, "").strip():
        yield request.getfixturevalue("pg_server"), request.getfixturevalue("template_database")
        return
    with embedded_server(tmp_path_factory) as server:
        yield server, migrated_template(server)


@pytest.fixture
def fresh_database_url(quiet_server: tuple[PgServer, str]) -> Iterator[URL]:
    """A migrated database of the test's own, on the worker's own server."""
    server, template = quiet_server
    name = server.create_database("opsgraph_fresh", template=template)
    yield server.url(name)
    server.drop_database(name)
