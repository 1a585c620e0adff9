"""``opsgraph migrate`` and ``opsgraph seed``: the database's migrations and its data."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TextIO

from opsgraph.cli.common import PROG, add_command, database, in_transaction, named
from opsgraph.settings import ConfigError, Settings

if TYPE_CHECKING:
    import argparse

    from sqlalchemy.ext.asyncio import AsyncSession

    from opsgraph.seed.bulk import Progress


def migrate(url: str, settings: Settings, action: str = "upgrade", revision: str = "head") -> None:
    """Upgrade or downgrade the database at ``url`` to ``revision``, or print its revision."""
    from alembic.util.exc import CommandError

    from opsgraph.db import migrations

    migrations.check_known(url, named(settings))
    try:
        if action == "upgrade":
            migrations.upgrade(url, revision)
        elif action == "downgrade":
            migrations.downgrade(url, revision)
        else:
            current = migrations.current_revision(url)
            head = migrations.head_revision()
            state = "at head" if current == head else f"head is {head}"
            print(f"{current or 'empty (no migrations applied)'} ({state})")
    except CommandError as exc:
        raise ConfigError(
            f"migration failed: {exc}; `{PROG} migrate current` shows the database's revision"
        ) from None


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "downgrade" and not args.revision:
        raise ConfigError("downgrade needs a target revision, e.g. `opsgraph migrate downgrade -1`")
    with database(settings, migrated=False) as url:
        migrate(url, settings, args.action, args.revision or "head")


def load_demo(url: str, settings: Settings) -> dict[str, str]:
    """The demo data loaded; the passwords of the demo users it created (none when they exist)."""
    from opsgraph.seed import seed_demo

    async def work(session: AsyncSession) -> dict[str, str]:
        result = await seed_demo(session, production=settings.is_production)
        return result.passwords

    return in_transaction(url, settings, work)


def sign_in_hint(host: str, port: int) -> str:
    return (
        f"sign in at http://{host}:{port}/graphql (GraphiQL's sign-in bar, or the `login` "
        "mutation) or with POST /auth/token"
    )


def announce_demo_users(
    passwords: dict[str, str], settings: Settings, host: str, port: int
) -> None:
    """The passwords of the demo users just created, printed and saved once; on later
    runs, one line saying where they are and how to sign in."""
    from opsgraph.seed.demo_data import DEMO_USERS

    note = settings.data_dir / "demo-credentials.txt"
    if passwords:
        lines = [f"  {user}: {password}" for user, password in sorted(passwords.items())]
        note.parent.mkdir(parents=True, exist_ok=True)
        note.write_text("Demo users (development only):\n" + "\n".join(lines) + "\n")
        note.chmod(0o600)
        print(f"Demo users created (development only; also saved to {note}):", *lines, sep="\n")
        print(sign_in_hint(host, port))
        return
    users = " and ".join(username for username, *_ in DEMO_USERS)
    if note.is_file():
        print(f"Demo users {users}: passwords in {note}; {sign_in_hint(host, port)}")
    else:
        print(
            f"Demo users {users} exist, but {note} (their passwords, saved when they were "
            f"created) is gone: make an admin of your own with `{PROG} create-admin`"
        )


def shows_progress(stream: TextIO) -> bool:
    """Progress bars only for a person watching: on a terminal, never in logs or pipes."""
    return stream.isatty()


@contextmanager
def table_progress(customers: int, stream: TextIO) -> Iterator[Progress | None]:
    """Rows copied per table of ``opsgraph seed --customers``, drawn with rich on
    ``stream`` when it is a terminal (``shows_progress``); None otherwise."""
    if not shows_progress(stream):
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from opsgraph.seed.bulk import COLUMNS

    bars = Progress(
        TextColumn("{task.description:<11}"),
        BarColumn(),
        TextColumn("{task.completed:>12,.0f} rows"),
        TimeElapsedColumn(),
        console=Console(file=stream),
    )
    with bars:
        tasks = {
            table: bars.add_task(table, total=customers if table == "customer" else None)
            for table in COLUMNS
        }

        def advance(table: str, rows: int) -> None:
            if table in tasks:
                bars.advance(tasks[table], rows)
            else:  # the last step (ANALYZE): every table is complete
                for task in bars.tasks:
                    bars.update(task.id, total=task.completed)

        yield advance


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    if args.customers is not None and args.customers < 1:
        raise ConfigError("--customers must be at least 1")
    with database(settings) as url:
        if args.customers is None:
            passwords = load_demo(url, settings)
            announce_demo_users(passwords, settings, settings.host, settings.port)
            print("demo data loaded")
            return
        from opsgraph.db import libpq_dsn
        from opsgraph.seed import seed_bulk

        with table_progress(args.customers, sys.stderr) as progress:
            stats = seed_bulk(
                libpq_dsn(url), customers=args.customers, seed=args.seed, progress=progress
            )
        print(stats.summary())


def add_migrate(commands: Any) -> None:
    """The ``migrate`` command."""
    migrate = add_command(
        commands,
        "migrate",
        "apply, revert or show migrations",
        "Alembic migrations of the configured database: upgrade (default: to head),\n"
        "downgrade to a revision, or show the current revision.",
        f"""  {PROG} migrate
  {PROG} migrate current
  {PROG} migrate downgrade -1""",
    )
    migrate.add_argument(
        "action",
        nargs="?",
        default="upgrade",
        choices=["upgrade", "downgrade", "current"],
        help="upgrade (default), downgrade or current",
    )
    migrate.add_argument(
        "revision",
        nargs="?",
        help="target revision: an id, head, base or -N (default head; downgrade needs one)",
    )
    migrate.set_defaults(handler=cmd_migrate)


def add_seed(commands: Any) -> None:
    """The ``seed`` command."""
    seed = add_command(
        commands,
        "seed",
        "load demo data, or a large data set",
        "Without options: the demo data set and the users admin and staff (development\n"
        "only; idempotent; their passwords are printed once and saved in\n"
        "OPSGRAPH_DATA_DIR/demo-credentials.txt). With --customers: a large deterministic\n"
        "data set for benchmarks, loaded with COPY in one transaction (once per database).",
        f"""  {PROG} seed
  {PROG} seed --customers 10000 --seed 7""",
    )
    seed.add_argument(
        "--customers",
        type=int,
        metavar="N",
        help="make N customers with orders, invoices, payments and tickets",
    )
    seed.add_argument("--seed", type=int, default=42, help="random seed for --customers (42)")
    seed.set_defaults(handler=cmd_seed)
