"""The docker-compose deployment, run outside a container (no container runtime here): the
api service's command (``opsgraph migrate`` then ``opsgraph serve --no-worker``) and the
worker's (``opsgraph worker``), as docker-compose.yml writes them, with the environment
compose and the image give them, the env file being deploy.env.example filled in as the
README says. On a new, empty database: the first admin signs in at /auth/token with the
configured credentials and runs a query, and the worker takes jobs.

Only what a container changes is changed: the database URL points at the test's database
instead of the ``db`` service, the server listens on 127.0.0.1 and a free port instead of
0.0.0.0:8000, and ``opsgraph`` runs this checkout's code."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy import URL, make_url

from opsgraph.db import libpq_dsn
from opsgraph.db.migrations import head_revision
from tests.conftest import free_port, subprocess_env
from tests.deploy import (
    DEPLOY_ENV,
    ROOT,
    compose,
    env_file,
    image_environment,
    service_environment,
)
from tests.readiness import until_ready

ME = "{ me { username email roles { edges { node { name } } } } }"


def _dotenv() -> dict[str, str]:
    """deploy.env.example as a person fills it in (its required values are empty)."""
    values = env_file(DEPLOY_ENV)
    values["OPSGRAPH_JWT_SECRET"] = secrets.token_hex(32)
    values["OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL"] = "first.admin@example.com"
    values["OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD"] = secrets.token_urlsafe(18)
    return values


def _environment(service: str, dotenv: dict[str, str], url: URL, port: int) -> dict[str, str]:
    """The service's environment in its container, but for the database and the address."""
    image = {k: v for k, v in image_environment().items() if k != "PATH"}
    env = {**image, **service_environment(compose()["services"][service], dotenv)}
    database = make_url(env["OPSGRAPH_DATABASE_URL"])
    assert (database.host, database.port) == ("db", 5432)  # the compose service, replaced:
    env["OPSGRAPH_DATABASE_URL"] = url.render_as_string(hide_password=False)
    assert env["OPSGRAPH_HOST"] == "0.0.0.0"  # noqa: S104 - loopback only in tests:
    env["OPSGRAPH_HOST"], env["OPSGRAPH_PORT"] = "127.0.0.1", str(port)
    return env


def _opsgraph_on_path(directory: Path) -> str:
    """A PATH whose ``opsgraph`` runs this checkout (the image installs it into /venv/bin)."""
    directory.mkdir()
    script = directory / "opsgraph"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m opsgraph "$@"\n')
    script.chmod(0o755)
    return f"{directory}{os.pathsep}{os.environ['PATH']}"


@contextmanager
def _running(command: list[str], env: dict[str, str], cwd: Path, log: Path) -> Iterator[Path]:
    """``command`` running with its output in ``log``; SIGTERM at the end must stop it with
    exit status 0 and no traceback."""
    with log.open("w") as out:
        proc = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            status = proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail(f"{command} did not stop on SIGTERM:\n{log.read_text()}")
    text = log.read_text()
    assert status == 0, f"{command} exited {status}:\n{text}"
    assert "Traceback" not in text, text


def _wait_ready(base: str, log: Path, timeout: float = 120) -> None:
    why = until_ready(base, timeout, lambda: None)
    if why is not None:
        pytest.fail(f"the api service is {why}:\n{log.read_text()}")


def _registered_workers(url: URL) -> int:
    with psycopg.connect(libpq_dsn(url)) as conn:
        row = conn.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    return int(row[0]) if row else 0


def _poll(check: Callable[[], bool], what: str, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen:\n{log.read_text()}")


def test_the_compose_services_start_and_the_first_admin_signs_in(
    empty_database_url: URL, tmp_path: Path
) -> None:
    services = compose()["services"]
    dotenv = _dotenv()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    path = _opsgraph_on_path(tmp_path / "bin")
    app_dir = tmp_path / "app"  # the image's working directory: no .env, no checkout
    app_dir.mkdir()

    def env(service: str) -> dict[str, str]:
        given = _environment(service, dotenv, empty_database_url, port)
        return {**subprocess_env(**given), "PATH": path, "PYTHONPATH": str(ROOT)}

    with _running(services["api"]["command"], env("api"), app_dir, tmp_path / "api.log") as api:
        _wait_ready(base, api)  # migrated, serving
        ready = httpx.get(f"{base}/ready", timeout=5).json()
        assert ready["revision"] == head_revision()
        with _running(
            services["worker"]["command"], env("worker"), app_dir, tmp_path / "worker.log"
        ) as worker:
            # the first sign-in, as an OAuth2 client does it
            response = httpx.post(
                f"{base}/auth/token",
                data={
                    "grant_type": "password",
                    "username": dotenv["OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME"],
                    "password": dotenv["OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD"],
                },
                timeout=30,
            )
            assert response.status_code == 200, response.text
            tokens = response.json()
            assert tokens["token_type"] == "bearer"
            headers = {"Authorization": f"Bearer {tokens['access_token']}"}
            answer = httpx.post(
                f"{base}/graphql", json={"query": ME}, headers=headers, timeout=30
            ).json()
            assert "errors" not in answer, answer
            assert answer["data"] == {
                "me": {
                    "username": dotenv["OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME"],
                    "email": "first.admin@example.com",
                    "roles": {"edges": [{"node": {"name": "admin"}}]},
                }
            }
            # production: no GraphiQL unless asked for, no anonymous reads
            anonymous = httpx.post(f"{base}/graphql", json={"query": ME}, timeout=10)
            assert anonymous.status_code == 401
            browser = httpx.get(f"{base}/graphql", headers={"Accept": "text/html"}, timeout=10)
            assert not browser.headers["content-type"].startswith("text/html")
            # the worker service takes the jobs (the api runs none: --no-worker)
            _poll(lambda: _registered_workers(empty_database_url) == 1, "worker start", worker)
        assert _registered_workers(empty_database_url) == 0  # stopped, unregistered
