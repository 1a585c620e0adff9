"""Every error the command line gives, caused for real: each is one line on stderr with a
non-zero exit and no traceback. The list in the README's "Command line" section is made
from these messages (variable parts as placeholders): when they differ the test fails and
prints the block, and ``UPDATE_README=1`` writes it."""

from __future__ import annotations

import io
import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import URL

from opsgraph.cli import main
from opsgraph.db import describe, libpq_dsn
from opsgraph.db.embedded import bundled_major_version
from opsgraph.db.migrations import alembic_config, head_revision, upgrade
from opsgraph.seed.demo_plan import build_plan
from tests.conftest import PgServer

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- cli-errors:start -->", "<!-- cli-errors:end -->"
DB = "OPSGRAPH_DATABASE_URL"
WEAK = "short"
GOOD = "a-long-password"


@dataclass
class Recorder:
    """Runs the CLI in this process with an environment of its own; keeps each message,
    its variable parts replaced by placeholders."""

    capsys: pytest.CaptureFixture[str]
    placeholders: dict[str, str] = field(default_factory=dict)
    messages: dict[str, list[str]] = field(default_factory=dict)

    def run(self, situation: str, *args: str, **env: str) -> str:
        saved = dict(os.environ)
        stdin = sys.stdin
        os.environ.update({"OPSGRAPH_LOG_LEVEL": "WARNING", **env})
        sys.stdin = io.StringIO("")  # no terminal: nothing is asked for
        self.capsys.readouterr()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            sys.stdin = stdin
            os.environ.clear()
            os.environ.update(saved)
        err = self.capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code != 0, (situation, err)
        assert len(lines) == 1, (situation, err)
        assert lines[0].startswith("opsgraph: error: "), (situation, lines[0])
        assert "Traceback" not in err
        line = lines[0]
        for value, placeholder in sorted(self.placeholders.items(), key=lambda kv: -len(kv[0])):
            line = line.replace(value, placeholder)
        self.messages.setdefault(line, []).append(situation)
        return line

    def block(self) -> str:
        items = []
        for message, situations in self.messages.items():
            code = message.replace("|", "\\|")
            said = "; ".join(dict.fromkeys(situations))
            items.append(f"- {said}:\n  `` {code} ``")
        return "\n".join([START, *items, END])


@contextmanager
def listening_socket() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def text(url: URL) -> str:
    return url.render_as_string(hide_password=False)


def sql(url: str, statement: str) -> None:
    with psycopg.connect(libpq_dsn(url)) as conn:
        conn.execute(statement)


def previous_revision() -> str:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_revision(head_revision())
    assert head is not None
    down = head.down_revision
    assert isinstance(down, str)
    return down


def test_every_cli_error_is_one_line_and_listed_in_the_readme(
    pg_server: PgServer,
    template_database: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rec = Recorder(capsys)
    host_port = describe(pg_server.base).rsplit("/", 1)[0]
    rec.placeholders.update({host_port: "{host}:{port}", str(tmp_path): "{dir}"})

    def database(prefix: str, *, migrated_to: str | None = "head") -> str:
        name = pg_server.create_database(prefix)
        rec.placeholders[name] = "{database}"
        if migrated_to is not None:
            upgrade(pg_server.url(name), migrated_to)
        return text(pg_server.url(name))

    def fresh() -> str:
        name = pg_server.create_database("opsgraph_cli", template=template_database)
        rec.placeholders[name] = "{database}"
        return text(pg_server.url(name))

    run: Callable[..., str] = rec.run

    # usage
    assert "unknown command" in run("an unknown command", "frobnicate")
    assert "invalid int" in run("an option's value of the wrong type", "seed", "--customers", "x")
    run("a required option missing", "create-admin", "--email", "a@example.com")
    run("an argument not among the choices", "migrate", "sideways")

    # settings
    run("a setting that is not valid", "export-schema", OPSGRAPH_PORT="eighty")
    run(
        "production without a JWT secret",
        "export-schema",
        OPSGRAPH_ENVIRONMENT="production",
    )
    run(
        "production with a short JWT secret",
        "export-schema",
        OPSGRAPH_ENVIRONMENT="production",
        OPSGRAPH_JWT_SECRET="short",
    )
    run(
        "only some of the OPSGRAPH_BOOTSTRAP_ADMIN_* settings",
        "export-schema",
        OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME="root",
    )

    # the database URL and reaching the database
    run("a malformed database URL", "migrate", OPSGRAPH_DATABASE_URL="not a url")
    run("a port that is not a number", "migrate", **{DB: "postgresql://u@127.0.0.1:x/db"})
    run("a database URL of another kind", "migrate", OPSGRAPH_DATABASE_URL="mysql://u@h/db")
    run(
        "a database URL without a database",
        "migrate",
        OPSGRAPH_DATABASE_URL="postgresql://u@127.0.0.1:5432",
    )
    refused = free_port()
    rec.placeholders[f"127.0.0.1:{refused}"] = "{host}:{port}"
    line = run(
        "nothing listens at the database's host and port",
        "migrate",
        OPSGRAPH_DATABASE_URL=f"postgresql://u:secret-pw@127.0.0.1:{refused}/db",
    )
    assert "secret-pw" not in line
    assert "connection refused" in line
    with listening_socket() as silent:
        rec.placeholders[f"127.0.0.1:{silent}"] = "{host}:{port}"
        line = run(
            "the database's host does not answer",
            "migrate",
            OPSGRAPH_DATABASE_URL=f"postgresql://u@127.0.0.1:{silent}/db",
            OPSGRAPH_DB_CONNECT_TIMEOUT="1",
        )
    assert "no answer within 1 s" in line
    missing = pg_server.url("opsgraph_no_such_database")
    rec.placeholders["opsgraph_no_such_database"] = "{database}"
    run("the database does not exist", "migrate", OPSGRAPH_DATABASE_URL=text(missing))

    # the database's migrations
    empty = database("opsgraph_cli_empty", migrated_to=None)
    graphql_file = tmp_path / "ops.graphql"
    graphql_file.write_text("query Me { me { username } }\n")
    unmigrated = (
        "an unmigrated database (`seed`, `create-admin`, `create-user`, `documents`, `serve` "
        "without `--migrate`, `worker`)"
    )
    for command in (
        ["seed"],
        ["seed", "--customers", "3"],
        ["create-admin", "--username", "boss", "--email", "b@example.com", "--password", GOOD],
        ["create-user", "--username", "pat", "--email", "p@example.com", "--password", GOOD],
        ["documents", "list"],
        ["documents", "register", str(graphql_file)],
        ["serve", "--port", str(free_port())],
        ["worker"],
    ):
        line = run(unmigrated, *command, OPSGRAPH_DATABASE_URL=empty)
        assert "has no opsgraph tables: run `opsgraph migrate` first" in line
    older = previous_revision()
    rec.placeholders.update({f" {older};": " {older};", f" {head_revision()}:": " {head}:"})
    behind = database("opsgraph_cli_old", migrated_to=older)
    line = run("a database migrated by an older opsgraph", "seed", OPSGRAPH_DATABASE_URL=behind)
    assert "run `opsgraph migrate`" in line
    ahead = fresh()
    sql(ahead, "UPDATE alembic_version SET version_num = 'f0f0'")
    rec.placeholders["f0f0"] = "{revision}"
    run("a database migrated by a newer opsgraph", "seed", OPSGRAPH_DATABASE_URL=ahead)
    run("the same, when migrating", "migrate", OPSGRAPH_DATABASE_URL=ahead)
    broken = fresh()
    sql(broken, "DROP TABLE trusted_document")
    run("a table dropped by hand", "documents", "list", OPSGRAPH_DATABASE_URL=broken)

    # migrate
    url = fresh()
    run("downgrade without a target", "migrate", "downgrade", OPSGRAPH_DATABASE_URL=url)
    run("an unknown target", "migrate", "downgrade", "nonsense", OPSGRAPH_DATABASE_URL=url)

    # the embedded database's data directory
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run("a data directory that cannot be created", "migrate", OPSGRAPH_DATA_DIR=str(blocker))
    newer = tmp_path / "newer"
    (newer / "pgdata").mkdir(parents=True)
    (newer / "pgdata" / "PG_VERSION").write_text(f"{bundled_major_version() + 1}\n")
    rec.placeholders.update(
        {
            f"PostgreSQL {bundled_major_version() + 1}": "PostgreSQL {newer}",
            f"PostgreSQL {bundled_major_version()}": "PostgreSQL {bundled}",
            f"PostgreSQL is {bundled_major_version()}": "PostgreSQL is {bundled}",
        }
    )
    run("a data directory of a newer PostgreSQL", "migrate", OPSGRAPH_DATA_DIR=str(newer))
    old = tmp_path / "old"
    (old / "pgdata").mkdir(parents=True)
    (old / "pgdata" / "PG_VERSION").write_text("9.6\n")
    rec.placeholders["PostgreSQL 9;"] = "PostgreSQL {older};"
    run("a data directory of an older PostgreSQL", "migrate", OPSGRAPH_DATA_DIR=str(old))
    other = tmp_path / "other"
    (other / "pgdata").mkdir(parents=True)
    (other / "pgdata" / "notes.txt").write_text("mine")
    run("a data directory holding other files", "migrate", OPSGRAPH_DATA_DIR=str(other))

    # serve and worker
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        rec.placeholders[f"port {busy} "] = "port {port} "
        run("the port is in use", "serve", "--port", str(busy), OPSGRAPH_DATA_DIR=str(tmp_path))
    bootstrap = {
        "OPSGRAPH_DATABASE_URL": fresh(),
        "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME": "root",
        "OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL": "root@example.com",
        "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD": WEAK,
    }
    port = str(free_port())
    run("a weak bootstrap admin password", "serve", "--port", port, **bootstrap)
    taken = {**bootstrap, "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD": GOOD}
    sql(
        taken["OPSGRAPH_DATABASE_URL"],
        "INSERT INTO \"user\" (username, email, password_hash) VALUES ('kim', "
        "'root@example.com', 'x')",
    )
    run("a bootstrap admin email of another user", "serve", "--port", port, **taken)
    run("worker without a database URL", "worker")
    line = run("worker concurrency out of range", "worker", "--concurrency", "0", **{DB: url})
    assert "--concurrency" in line

    # seed
    run("seed --customers below 1", "seed", "--customers", "0")
    bulk = fresh()
    assert main_quietly(["seed", "--customers", "1"], bulk, capsys) == 0
    line = run("bulk data loaded twice", "seed", "--customers", "1", OPSGRAPH_DATABASE_URL=bulk)
    assert "OPSGRAPH_DATA_DIR to an empty directory" in line
    clash = fresh()
    sku = build_plan().rows("product")[0]["sku"]
    sql(
        clash,
        f"INSERT INTO product (sku, name, unit_price) VALUES ('{sku}', 'mine', 1)",
    )
    line = run("demo data over other data", "seed", OPSGRAPH_DATABASE_URL=clash)
    assert "OPSGRAPH_DATABASE_URL at an empty database" in line
    run(
        "demo data in production",
        "seed",
        OPSGRAPH_DATABASE_URL=url,
        OPSGRAPH_ENVIRONMENT="production",
        OPSGRAPH_JWT_SECRET="p" * 40,
    )

    # users
    admin = ["create-admin", "--username", "boss", "--email", "boss@example.com"]
    run("create-admin without a password, not on a terminal", *admin, OPSGRAPH_DATABASE_URL=url)
    run("a password too short", *admin, "--password", WEAK, OPSGRAPH_DATABASE_URL=url)
    run(
        "a username that is not allowed",
        "create-admin",
        "--username",
        "x!",
        "--email",
        "x@example.com",
        "--password",
        GOOD,
        OPSGRAPH_DATABASE_URL=url,
    )
    assert main_quietly([*admin, "--password", GOOD], url, capsys) == 0
    run("a username taken", *admin, "--password", GOOD, OPSGRAPH_DATABASE_URL=url)
    user = ["create-user", "--username", "pat", "--email", "pat@example.com", "--password", GOOD]
    run("an unknown customer", *user, "--customer", "NOPE", OPSGRAPH_DATABASE_URL=url)
    run("an unknown role", *user, "--role", "wizard", OPSGRAPH_DATABASE_URL=url)

    # export-schema and documents
    run("export-schema to a missing directory", "export-schema", "-o", str(tmp_path / "no/x"))
    run("documents register without files", "documents", "register", OPSGRAPH_DATABASE_URL=url)
    run("documents list with files", "documents", "list", "x.graphql", OPSGRAPH_DATABASE_URL=url)
    gone = str(tmp_path / "gone.graphql")
    run("a .graphql file that cannot be read", "documents", "register", gone)
    bad = tmp_path / "bad.graphql"
    bad.write_text("query { customer(\n")
    run("a .graphql file with a syntax error", "documents", "register", str(bad))
    invalid = tmp_path / "invalid.graphql"
    invalid.write_text("query { nonsense }\n")
    run("a .graphql file the schema refuses", "documents", "register", str(invalid))

    expected = rec.block()
    readme = README.read_text()
    assert START in readme, f"README.md has no {START} block"
    current = readme[readme.index(START) : readme.index(END) + len(END)]
    if current != expected and os.environ.get("UPDATE_README") == "1":
        README.write_text(readme.replace(current, expected))
        return
    assert current == expected, (
        "the README's list of CLI errors differs from what the CLI says "
        f"(UPDATE_README=1 writes it):\n{expected}"
    )


def main_quietly(args: list[str], url: str, capsys: pytest.CaptureFixture[str]) -> int:
    """A command that should succeed, run as the scenarios run (logs at WARNING)."""
    saved = dict(os.environ)
    os.environ.update({"OPSGRAPH_DATABASE_URL": url, "OPSGRAPH_LOG_LEVEL": "WARNING"})
    try:
        return main(args)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        capsys.readouterr()
