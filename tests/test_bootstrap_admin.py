"""The admin of OPSGRAPH_BOOTSTRAP_ADMIN_*: made at start-up whenever its username is free
(other admins, the demo's included, don't matter), and the start-up log says which of
created, already present or refused it was."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import URL
from sqlalchemy.ext.asyncio import create_async_engine

from opsgraph.app import create_app
from opsgraph.db import libpq_dsn
from opsgraph.seed import seed_demo
from opsgraph.settings import ConfigError
from tests.conftest import free_port, make_settings, subprocess_env, wait_ready

BOOTSTRAP: dict[str, Any] = {
    "bootstrap_admin_username": "Root",
    "bootstrap_admin_email": "root@example.com",
    "bootstrap_admin_password": "long enough password",
    "bcrypt_rounds": 4,
}


def _users(url: URL) -> dict[str, tuple[str, list[str]]]:
    """username -> (password hash, roles)."""
    with psycopg.connect(libpq_dsn(url)) as conn:
        rows = conn.execute(
            "SELECT u.username, u.password_hash, array_remove(array_agg(r.name ORDER BY r.name),"
            ' NULL) FROM "user" u LEFT JOIN user_role ur ON ur.user_id = u.id'
            " LEFT JOIN role r ON r.id = ur.role_id GROUP BY u.id"
        ).fetchall()
    return {name: (hashed, roles) for name, hashed, roles in rows}


async def _start(url: URL, capsys: pytest.CaptureFixture[str], **overrides: Any) -> list[str]:
    """Run the app's start-up and shutdown; the bootstrap admin's lines of its log (on
    stderr, where the app's logging writes), without their time and level."""
    capsys.readouterr()
    app = create_app(make_settings(url, **{**BOOTSTRAP, **overrides}, log_level="INFO"))
    try:
        async with app.router.lifespan_context(app):
            pass
    finally:
        log = capsys.readouterr().err
    return [
        line.split("opsgraph.app: ", 1)[1] for line in log.splitlines() if "bootstrap admin" in line
    ]


async def _seed_demo(url: URL) -> None:
    engine = create_async_engine(url)
    from sqlalchemy.ext.asyncio import AsyncSession

    async with AsyncSession(engine) as session, session.begin():
        await seed_demo(session, password_rounds=4)
    await engine.dispose()


async def test_created_then_present_with_its_password_unchanged(
    fresh_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await _start(fresh_database_url, capsys) == ["bootstrap admin 'root' created"]
    hashed, roles = _users(fresh_database_url)["root"]
    assert roles == ["admin"]
    again = await _start(
        fresh_database_url, capsys, bootstrap_admin_password="another long password"
    )
    assert again == ["bootstrap admin 'root' already present; its password was not changed"]
    assert _users(fresh_database_url)["root"] == (hashed, ["admin"])


async def test_created_beside_the_demo_admin(
    fresh_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed_demo(fresh_database_url)  # an admin exists: the demo's `admin`
    assert await _start(fresh_database_url, capsys) == ["bootstrap admin 'root' created"]
    users = _users(fresh_database_url)
    assert users["root"][1] == ["admin"]
    assert users["admin"][1] == ["admin"]


async def test_a_user_without_the_admin_role_is_left_as_it_is(
    fresh_database_url: URL, capsys: pytest.CaptureFixture[str]
) -> None:
    await _seed_demo(fresh_database_url)
    before = _users(fresh_database_url)["staff"]
    [line] = await _start(
        fresh_database_url,
        capsys,
        bootstrap_admin_username="staff",
        bootstrap_admin_email="staff@example.com",
    )
    assert line.startswith("bootstrap admin 'staff' already present without the admin role")
    assert "password and roles were not changed" in line
    assert _users(fresh_database_url)["staff"] == before


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        (
            {"bootstrap_admin_email": "admin@opsgraph.example.com"},  # the demo admin's
            "a user with the email 'admin@opsgraph.example.com' already exists; "
            "fix OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL",
        ),
        (
            {"bootstrap_admin_password": "too short"},
            "password must be at least 10 characters; fix OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD",
        ),
        (
            {"bootstrap_admin_username": "no way!"},
            "username must be 2-64 characters: letters, digits, '.', '_' or '-'; "
            "fix OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME",
        ),
    ],
)
async def test_refused_with_the_reason(
    fresh_database_url: URL,
    capsys: pytest.CaptureFixture[str],
    overrides: dict[str, str],
    reason: str,
) -> None:
    await _seed_demo(fresh_database_url)
    before = _users(fresh_database_url)
    with pytest.raises(ConfigError) as refused:
        await _start(fresh_database_url, capsys, **overrides)
    name = overrides.get("bootstrap_admin_username", "root")
    assert str(refused.value) == f"bootstrap admin {name!r} refused: {reason}"
    assert _users(fresh_database_url) == before


def _serve(url: URL, data_dir: Path, port: int, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", "--seed-demo", "--no-worker"],
        env=subprocess_env(
            OPSGRAPH_DATABASE_URL=url.render_as_string(hide_password=False),
            OPSGRAPH_DATA_DIR=str(data_dir),
            OPSGRAPH_PORT=str(port),
            OPSGRAPH_LOG_LEVEL="INFO",
            OPSGRAPH_BCRYPT_ROUNDS="4",
            **env,
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _stop(proc: subprocess.Popen[str]) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    return out, err


def test_serve_with_demo_data_honours_a_bootstrap_admin_named_like_a_demo_user(
    fresh_database_url: URL, tmp_path: Path
) -> None:
    """`serve --seed-demo`: the bootstrap admin comes first, so `admin` gets the configured
    password and the demo data makes only `staff`; the next start finds both."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME": "admin",
        "OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL": "ops@example.com",
        "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD": "the operator's own password",
    }
    first = _serve(fresh_database_url, tmp_path, port, **env)
    wait_ready(first, base)
    signed_in = httpx.post(
        f"{base}/auth/token",
        data={"username": "admin", "password": "the operator's own password"},
        timeout=30,
    )
    assert signed_in.status_code == 200, signed_in.text
    out, err = _stop(first)
    [line] = [line for line in err.splitlines() if "bootstrap admin" in line]
    assert line.endswith("bootstrap admin 'admin' created")
    assert "staff: " in out
    assert "admin: " not in out  # not a demo user: its password is the operator's

    second = _serve(fresh_database_url, tmp_path, port, **env)
    wait_ready(second, base)
    out, err = _stop(second)
    [line] = [line for line in err.splitlines() if "bootstrap admin" in line]
    assert line.endswith("bootstrap admin 'admin' already present; its password was not changed")
    note = tmp_path / "demo-credentials.txt"
    assert f"Demo users admin and staff: passwords in {note}; sign in at http" in out
