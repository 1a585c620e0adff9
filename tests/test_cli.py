"""The CLI: every mistake a person can make is one line and a non-zero exit."""

from __future__ import annotations

import argparse
import io
import os
import pty
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL

from opsgraph.api import schema
from opsgraph.cli import build_parser, main
from opsgraph.cli.database import shows_progress
from opsgraph.db import libpq_dsn
from opsgraph.db.embedded import bundled_major_version
from opsgraph.db.migrations import head_revision
from opsgraph.version import __version__
from tests.conftest import PgServer, subprocess_env


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The CLI as a user runs it: a separate process, the given environment only."""
    return subprocess.run(
        [sys.executable, "-m", "opsgraph", *args],
        env=subprocess_env(**(env or {})),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("opsgraph: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def url_text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def test_unknown_command() -> None:
    assert_one_line_error(run_cli("frobnicate"), "unknown command", "frobnicate")


def test_malformed_database_url() -> None:
    result = run_cli("migrate", env={"OPSGRAPH_DATABASE_URL": "not a url"})
    assert_one_line_error(result, "OPSGRAPH_DATABASE_URL", "malformed")


def test_non_postgres_database_url() -> None:
    result = run_cli("migrate", env={"OPSGRAPH_DATABASE_URL": "mysql://u@localhost/db"})
    assert_one_line_error(result, "PostgreSQL is the only supported database")


def test_unreachable_database() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run_cli(
        "migrate", env={"OPSGRAPH_DATABASE_URL": f"postgresql://u@127.0.0.1:{port}/db"}
    )
    assert_one_line_error(result, "cannot connect to database", f"127.0.0.1:{port}/db")


def test_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run_cli("serve", "--port", str(port), env={"OPSGRAPH_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, f"port {port}", "already in use")
    assert not (tmp_path / "pgdata").exists()  # refused before starting anything


def test_unwritable_data_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = run_cli("migrate", env={"OPSGRAPH_DATA_DIR": str(blocker / "sub")})
    assert_one_line_error(result, "data directory", "cannot be created")


def test_data_dir_from_newer_postgres(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    newer = bundled_major_version() + 1
    (pgdata / "PG_VERSION").write_text(f"{newer}\n")
    result = run_cli("migrate", env={"OPSGRAPH_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, f"PostgreSQL {newer}", "newer than the bundled")


def test_data_dir_from_older_postgres(tmp_path: Path) -> None:
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir()
    (pgdata / "PG_VERSION").write_text("9.6\n")
    result = run_cli("migrate", env={"OPSGRAPH_DATA_DIR": str(tmp_path)})
    assert_one_line_error(result, "PostgreSQL 9", "pg_upgrade")


def test_production_refuses_default_secret() -> None:
    result = run_cli("export-schema", env={"OPSGRAPH_ENVIRONMENT": "production"})
    assert_one_line_error(result, "OPSGRAPH_JWT_SECRET")


def test_production_refuses_short_secret() -> None:
    result = run_cli(
        "export-schema",
        env={"OPSGRAPH_ENVIRONMENT": "production", "OPSGRAPH_JWT_SECRET": "short"},
    )
    assert_one_line_error(result, "too short")


def test_invalid_setting_names_the_variable() -> None:
    result = run_cli("export-schema", env={"OPSGRAPH_PORT": "eighty"})
    assert_one_line_error(result, "OPSGRAPH_PORT")


def test_export_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text() == schema.as_str().rstrip() + "\n"
    assert main(["export-schema"]) == 0
    assert "type Query" in capsys.readouterr().out
    assert main(["export-schema", "--output", str(tmp_path / "missing" / "x")]) == 1


def test_migrate_upgrade_current_downgrade(
    empty_database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url_text(empty_database_url))
    assert main(["migrate", "current"]) == 0
    assert "empty" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert main(["migrate", "current"]) == 0
    assert f"{head_revision()} (at head)" in capsys.readouterr().out
    assert main(["migrate", "downgrade"]) == 1
    assert "needs a target revision" in capsys.readouterr().err
    assert main(["migrate", "downgrade", "nonsense"]) == 1
    assert "migration failed" in capsys.readouterr().err
    assert main(["migrate", "downgrade", "base"]) == 0
    with psycopg.connect(libpq_dsn(empty_database_url)) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'alembic_version'"
        ).fetchone()
    assert tables == (0,)


def test_create_admin(
    fresh_database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url_text(fresh_database_url))
    args = ["create-admin", "--username", "Boss", "--email", "Boss@Example.com"]
    assert main([*args, "--password", "a-long-password"]) == 0
    assert "'boss' created" in capsys.readouterr().out
    assert main([*args, "--password", "a-long-password"]) == 1
    assert "already exists" in capsys.readouterr().err
    assert main(["create-admin", "--username", "x!", "--email", "a@b.se", "--password", "p"]) == 1
    assert "username" in capsys.readouterr().err
    with psycopg.connect(libpq_dsn(fresh_database_url)) as conn:
        row = conn.execute(
            'SELECT u.email, r.name FROM "user" u JOIN user_role ur ON ur.user_id = u.id'
            " JOIN role r ON r.id = ur.role_id WHERE u.username = 'boss'"
        ).fetchall()
    assert row == [("boss@example.com", "admin")]


def test_create_user_linked_to_a_customer(
    fresh_database_url: URL, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url_text(fresh_database_url))
    with psycopg.connect(libpq_dsn(fresh_database_url)) as conn:
        row = conn.execute(
            "INSERT INTO customer (name, external_id) VALUES ('Acme', 'ACME-1') RETURNING id"
        ).fetchone()
    assert row is not None
    acme = row[0]
    user = ["create-user", "--password", "a-long-password"]
    assert main([*user, "--username", "Pat", "--email", "pat@x.se", "--customer", "ACME-1"]) == 0
    assert "'pat' created with roles customer, linked to customer 'ACME-1'" in (
        capsys.readouterr().out
    )
    by_id = ["--username", "kim", "--email", "kim@x.se", "--customer", str(acme)]
    assert main([*user, *by_id, "--role", "customer", "--role", "support"]) == 0
    assert main([*user, "--username", "sam", "--email", "sam@x.se"]) == 0
    capsys.readouterr()
    missing = ["--username", "lee", "--email", "lee@x.se", "--customer", "NOPE"]
    assert main([*user, *missing]) == 1
    err = capsys.readouterr().err
    assert "opsgraph: error: no customer with the external id or id 'NOPE'; check --customer" in err
    assert "Traceback" not in err
    with psycopg.connect(libpq_dsn(fresh_database_url)) as conn:
        users = conn.execute(
            'SELECT u.username, u.customer_id, array_agg(r.name ORDER BY r.name) FROM "user" u'
            " JOIN user_role ur ON ur.user_id = u.id JOIN role r ON r.id = ur.role_id"
            " GROUP BY u.username, u.customer_id ORDER BY u.username"
        ).fetchall()
        audited = conn.execute(
            "SELECT changes->>'customer_id', changes->>'by' FROM audit_event"
            " WHERE action = 'user.create' AND changes->>'username' = 'pat'"
        ).fetchall()
    assert users == [
        ("kim", acme, ["customer", "support"]),
        ("pat", acme, ["customer"]),
        ("sam", None, ["staff"]),
    ]
    assert audited == [(str(acme), "cli")]


def test_create_admin_without_password_in_batch(
    fresh_database_url: URL, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_cli(
        "create-admin",
        "--username",
        "boss",
        "--email",
        "boss@example.com",
        env={"OPSGRAPH_DATABASE_URL": url_text(fresh_database_url)},
    )
    assert_one_line_error(result, "no password")


def test_seed_demo_then_bulk(
    fresh_database_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url_text(fresh_database_url))
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    assert main(["seed"]) == 0
    first = capsys.readouterr().out
    assert "demo data loaded" in first
    assert "admin:" in first
    saved = tmp_path / "demo-credentials.txt"
    assert saved.stat().st_mode & 0o777 == 0o600
    assert first.split("admin: ")[1].split()[0] in saved.read_text()
    assert main(["seed"]) == 0
    assert "admin:" not in capsys.readouterr().out  # idempotent: no new users
    assert main(["seed", "--customers", "0"]) == 1
    assert "at least 1" in capsys.readouterr().err
    assert main(["seed", "--customers", "5"]) == 0
    assert "customers 5" in capsys.readouterr().out
    monkeypatch.setenv("OPSGRAPH_ENVIRONMENT", "production")
    monkeypatch.setenv("OPSGRAPH_JWT_SECRET", "p" * 40)
    assert main(["seed"]) == 1
    assert "development only" in capsys.readouterr().err


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"opsgraph {__version__}"
    assert re.fullmatch(r"\d+\.\d+\.\d+\S*", __version__)


def _parsers(
    parser: argparse.ArgumentParser, path: str = "opsgraph"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _parsers(sub, f"{path} {name}")


def test_every_command_and_option_is_described() -> None:
    missing = []
    commands = list(_parsers(build_parser()))
    assert len(commands) > 5
    for path, parser in commands:
        if not parser.description:
            missing.append(f"{path}: description")
        if not parser.epilog or "examples:" not in parser.epilog:
            missing.append(f"{path}: epilog with examples")
        elif path not in parser.epilog:
            missing.append(f"{path}: examples of itself")
        for action in parser._actions:
            if not action.help or action.help == argparse.SUPPRESS:
                missing.append(f"{path}: {action.dest}")
            if isinstance(action, argparse._SubParsersAction):
                missing.extend(
                    f"{path} {choice.dest}: summary"
                    for choice in action._choices_actions
                    if not choice.help
                )
    assert missing == []


def test_help_shows_the_examples() -> None:
    result = run_cli("seed", "--help")
    assert result.returncode == 0
    assert "examples:\n  opsgraph seed\n  opsgraph seed --customers 10000" in result.stdout
    assert "make N customers" in result.stdout


def test_progress_only_on_a_terminal(pg_server: PgServer, template_database: str) -> None:
    def fresh() -> dict[str, str]:
        url = pg_server.url(pg_server.create_database("opsgraph_bulk", template=template_database))
        return subprocess_env(OPSGRAPH_DATABASE_URL=url_text(url), COLUMNS="100")

    command = [sys.executable, "-m", "opsgraph", "seed", "--customers", "3"]
    # on a pipe: nothing but the summary
    piped = subprocess.run(
        command, env=fresh(), capture_output=True, text=True, timeout=120, check=False
    )
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == ""
    assert piped.stdout.startswith("bulk data loaded in ")
    # stderr on a pseudo-terminal, as in a shell: the rows of each table are drawn
    controller, terminal = pty.openpty()
    with subprocess.Popen(
        command,
        env=fresh(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
        text=True,
    ) as proc:
        os.close(terminal)
        drawn = b""
        while True:
            try:
                chunk = os.read(controller, 4096)
            except OSError:  # the terminal closed: the process has exited
                break
            if not chunk:
                break
            drawn += chunk
        out = proc.stdout.read() if proc.stdout else ""
    os.close(controller)
    assert proc.returncode == 0, drawn
    screen = re.sub(rb"\x1b\[[0-9;?]*[A-Za-z]", b"", drawn).decode()
    for table in ("customer", "order_line", "payment", "ticket"):
        assert re.search(rf"{table}\s.*\d+ rows", screen), screen
    assert out.startswith("bulk data loaded in ")  # the summary stays


def test_shows_progress_asks_the_stream() -> None:
    assert not shows_progress(io.StringIO())
    with open(os.devnull, "w") as devnull:
        assert not shows_progress(devnull)
    controller, terminal = pty.openpty()
    with os.fdopen(terminal, "w") as tty:
        assert shows_progress(tty)
    os.close(controller)


def test_later_seeds_say_where_the_demo_passwords_are(
    fresh_database_url: URL,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPSGRAPH_DATABASE_URL", url_text(fresh_database_url))
    monkeypatch.setenv("OPSGRAPH_DATA_DIR", str(tmp_path))
    assert main(["seed"]) == 0
    first = capsys.readouterr().out
    assert "staff: " in first
    assert "sign in at http://127.0.0.1:8000/graphql (GraphiQL's sign-in bar" in first
    assert main(["seed"]) == 0
    again = capsys.readouterr().out.splitlines()
    note = tmp_path / "demo-credentials.txt"
    assert again[0] == (
        f"Demo users admin and staff: passwords in {note}; sign in at "
        "http://127.0.0.1:8000/graphql (GraphiQL's sign-in bar, or the `login` mutation) or "
        "with POST /auth/token"
    )
    note.unlink()
    assert main(["seed"]) == 0
    gone = capsys.readouterr().out
    assert f"{note} (their passwords, saved when they were created) is gone" in gone
    assert "`opsgraph create-admin`" in gone
