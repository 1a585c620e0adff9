"""``opsgraph serve`` behind a reverse proxy: ``OPSGRAPH_TRUSTED_PROXIES`` is the list of
addresses whose ``X-Forwarded-For`` is believed (uvicorn's forwarded-allow-ips, applied by
the app). A real server process; 127.0.0.1 plays the trusted proxy, 127.0.0.2 (another
loopback address) a caller that is none. The client address it settles on is the one the
login throttle counts failures under, and the one stored with each attempt."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from sqlalchemy import URL

from opsgraph.db import libpq_dsn
from tests.conftest import free_port, subprocess_env, wait_ready

MAX_FAILURES = 2


@pytest.fixture
def server(fresh_database_url: URL) -> Iterator[str]:
    port = free_port()
    env = subprocess_env(
        OPSGRAPH_DATABASE_URL=fresh_database_url.render_as_string(hide_password=False),
        OPSGRAPH_PORT=str(port),
        OPSGRAPH_TRUSTED_PROXIES="127.0.0.1",
        OPSGRAPH_LOGIN_MAX_FAILURES=str(MAX_FAILURES),
        OPSGRAPH_BCRYPT_ROUNDS="4",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_ready(proc, base)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def _attempts(base: str, source: str, who: str) -> list[int]:
    """Failed sign-ins from ``source``, each for another user and claiming another
    forwarded address: only a bucket per client address can fill up."""
    transport = httpx.HTTPTransport(local_address=source)
    statuses = []
    with httpx.Client(transport=transport, base_url=base, timeout=30) as http:
        for n in range(MAX_FAILURES + 1):
            response = http.post(
                "/auth/token",
                data={"username": f"{who}-{n}", "password": "wrong password"},
                headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},
            )
            statuses.append(response.status_code)
    return statuses


def _recorded(url: URL, who: str) -> list[str]:
    with psycopg.connect(libpq_dsn(url)) as conn:
        rows = conn.execute(
            "SELECT client_address FROM login_attempt WHERE username LIKE %s ORDER BY id",
            (f"{who}-%",),
        ).fetchall()
    return [row[0] for row in rows]


def test_forwarded_for_is_believed_from_a_trusted_proxy_only(
    server: str, fresh_database_url: URL
) -> None:
    # through the trusted proxy each attempt counts for the address it forwards
    assert _attempts(server, "127.0.0.1", "proxied") == [400] * (MAX_FAILURES + 1)
    assert _recorded(fresh_database_url, "proxied") == [
        f"198.51.100.{n + 1}" for n in range(MAX_FAILURES + 1)
    ]
    # a caller that is no trusted proxy counts as itself, whatever it claims
    assert _attempts(server, "127.0.0.2", "direct") == [400] * MAX_FAILURES + [429]
    assert _recorded(fresh_database_url, "direct") == ["127.0.0.2"] * MAX_FAILURES
