"""``opsgraph serve|worker|migrate|seed|create-admin|create-user|export-schema|documents``.

Every failure a person can cause ends in one line on stderr and a non-zero exit, never a
traceback: ``error_line`` formats it, from the ConfigError / DomainError messages (written
for that), argparse's usage errors and the database's refusals.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import io
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeVar

from opsgraph.settings import ConfigError, Settings, get_settings, load_settings
from opsgraph.version import __version__

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from opsgraph.seed.bulk import Progress
    from opsgraph.services.trusted_document import Operation

log = logging.getLogger("opsgraph.cli")
T = TypeVar("T")
PROG = "opsgraph"


def error_line(message: str) -> str:
    """The one line a CLI failure ends in: ``opsgraph: error: <what>; <what to do next>``."""
    return f"{PROG}: error: {' '.join(message.split())}"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the problem."""

    def error(self, message: str) -> NoReturn:
        message = message.replace("argument command: invalid choice", "unknown command")
        self.exit(2, error_line(f"{message} (see `{self.prog} --help`)") + "\n")


def _port_is_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use; stop the other server or "
                    "choose another with --port / OPSGRAPH_PORT"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None


def named(settings: Settings) -> str:
    """The configured database, as messages name it (never with its password)."""
    if settings.database_url:
        from opsgraph.db import describe

        return f"the database at {describe(settings.database_url)}"
    return f"the embedded database in {settings.pgdata}"


@contextmanager
def database(settings: Settings, *, migrated: bool = True) -> Iterator[str]:
    """The configured database, or an embedded PostgreSQL kept running for the block;
    with ``migrated``, refused in one line unless it is migrated to this opsgraph's head."""
    from opsgraph.db import check_connection, describe
    from opsgraph.db.migrations import check_schema

    if settings.database_url:
        check_connection(settings.database_url, timeout=settings.db_connect_timeout)
        log.info("using database %s", describe(settings.database_url))
        if migrated:
            check_schema(settings.database_url, named(settings))
        yield settings.database_url
        return
    from opsgraph.db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.pgdata)
    url = embedded.start()
    log.info("embedded PostgreSQL running in %s", embedded.pgdata)
    try:
        if migrated:
            check_schema(url, named(settings))
        yield url
    finally:
        embedded.stop()
        log.info("embedded PostgreSQL stopped")


def _migrate(url: str, settings: Settings, action: str = "upgrade", revision: str = "head") -> None:
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


def _in_transaction(
    url: str, settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]
) -> T:
    """Run ``work`` in one session and transaction, committed when it returns."""
    from opsgraph.db import create_engine, create_session_factory

    async def run() -> T:
        engine = create_engine(url, settings)
        try:
            async with create_session_factory(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _seed_demo(url: str, settings: Settings) -> dict[str, str]:
    from opsgraph.seed import seed_demo

    async def work(session: AsyncSession) -> dict[str, str]:
        result = await seed_demo(session, production=settings.is_production)
        return result.passwords

    return _in_transaction(url, settings, work)


def sign_in_hint(host: str, port: int) -> str:
    return (
        f"sign in at http://{host}:{port}/graphql (GraphiQL's sign-in bar, or the `login` "
        "mutation) or with POST /auth/token"
    )


def _announce_demo_users(
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


def _bootstrap_admin(url: str, settings: Settings) -> None:
    """The admin of OPSGRAPH_BOOTSTRAP_ADMIN_*, made (or found) before the demo data, so
    that a demo username given there gets the configured password; the server's processes
    then see no bootstrap settings (and neither the password)."""
    from opsgraph.app import BOOTSTRAP_VARIABLES, bootstrap_admin
    from opsgraph.db import create_engine, create_session_factory

    async def run() -> None:
        engine = create_engine(url, settings)
        try:
            await bootstrap_admin(settings, create_session_factory(engine))
        finally:
            await engine.dispose()

    if settings.bootstrap_admin_username:
        asyncio.run(run())
    for variable in BOOTSTRAP_VARIABLES.values():
        os.environ[variable] = ""


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    _port_is_free(host, port)
    if args.no_worker:
        os.environ["OPSGRAPH_WORKER_IN_SERVE"] = "false"
    with database(settings, migrated=not args.migrate) as url:
        if args.migrate:
            _migrate(url, settings)
        _bootstrap_admin(url, settings)
        os.environ["OPSGRAPH_DATABASE_URL"] = url  # for the app factory, workers and reloads
        get_settings.cache_clear()
        if args.seed_demo:
            _announce_demo_users(_seed_demo(url, settings), settings, host, port)
        log.info("serving on http://%s:%s (GraphiQL at /graphql)", host, port)
        uvicorn.run(
            "opsgraph.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=args.workers,
            reload=args.reload,
            log_config=None,
            lifespan="on",
            # X-Forwarded-* are read by the app itself, from OPSGRAPH_TRUSTED_PROXIES only
            # (create_app): uvicorn's own reading would believe any local caller
            proxy_headers=False,
            http="opsgraph.rest.http_protocol:LimitedHttpProtocol",
            timeout_graceful_shutdown=settings.shutdown_drain_seconds,  # type: ignore[arg-type]
            timeout_keep_alive=settings.http_keep_alive_seconds,
            h11_max_incomplete_event_size=settings.http_max_header_bytes,
        )


def cmd_worker(args: argparse.Namespace, settings: Settings) -> None:
    """Run a worker of the job queue until SIGTERM or Ctrl-C (then finish gracefully)."""
    if not settings.database_url:
        raise ConfigError(
            "opsgraph worker needs OPSGRAPH_DATABASE_URL (with the embedded PostgreSQL, "
            "`opsgraph serve` runs its own worker)"
        )
    if args.concurrency is not None and not 1 <= args.concurrency <= 200:
        raise ConfigError("--concurrency must be between 1 and 200")
    from opsgraph.db import check_connection, describe
    from opsgraph.db.migrations import check_schema
    from opsgraph.jobs.worker import QueueWorker

    # a database that is down now is waited for (the worker logs one line per try); one
    # that answers must be migrated to this opsgraph's head
    if check_connection(
        settings.database_url, timeout=settings.db_connect_timeout, may_be_down=True
    ):
        check_schema(settings.database_url, named(settings))
    worker = QueueWorker(settings, concurrency=args.concurrency, queues=args.queues)
    log.info("worker using database %s", describe(settings.database_url))

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, worker.stop)
        await worker.run()

    asyncio.run(run())


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    if args.action == "downgrade" and not args.revision:
        raise ConfigError("downgrade needs a target revision, e.g. `opsgraph migrate downgrade -1`")
    with database(settings, migrated=False) as url:
        _migrate(url, settings, args.action, args.revision or "head")


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
            passwords = _seed_demo(url, settings)
            _announce_demo_users(passwords, settings, settings.host, settings.port)
            print("demo data loaded")
            return
        from opsgraph.db import libpq_dsn
        from opsgraph.seed import seed_bulk

        with table_progress(args.customers, sys.stderr) as progress:
            stats = seed_bulk(
                libpq_dsn(url), customers=args.customers, seed=args.seed, progress=progress
            )
        print(stats.summary())


def _password(given: str | None, who: str, env: str | None = None) -> str:
    """The new user's password: given, from ``env``, or asked for on a terminal."""
    password = given or (os.environ.get(env) if env else None)
    if password:
        return password
    if not sys.stdin.isatty():
        where = f"pass --password or set {env}" if env else "pass --password"
        raise ConfigError(f"no password: {where}")
    return getpass.getpass(f"Password for the new {who}: ")


# what to change when create-admin / create-user is refused, by the refused input's field
ACCOUNT_FIXES = {
    "username": "choose another --username",
    "email": "give another --email",
    "password": "choose a stronger --password",
    "customer": "check --customer (a customer's external id, or its id)",
    "roles": "check --role",
}


def _create_account(settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run a user-creating service in one transaction; its refusal is a one-line error
    saying which option to change."""
    from opsgraph.errors import DomainError

    with database(settings) as url:
        try:
            _in_transaction(url, settings, work)
        except DomainError as exc:
            fix = ACCOUNT_FIXES.get(exc.field[-1] if exc.field else "")
            raise ConfigError(f"{exc.message}; {fix}" if fix else exc.message) from None


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> None:
    password = _password(args.password, "admin", "OPSGRAPH_ADMIN_PASSWORD")

    async def create(session: AsyncSession) -> None:
        from opsgraph.services.user import create_admin

        await create_admin(
            session,
            username=args.username,
            email=args.email,
            password=password,
            settings=settings,
            via="cli",
        )

    _create_account(settings, create)
    print(f"admin user {args.username.strip().lower()!r} created")


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> None:
    password = _password(args.password, "user")
    roles = args.role or (["customer"] if args.customer else ["staff"])

    async def create(session: AsyncSession) -> None:
        from opsgraph.services.customer import customer_id_for
        from opsgraph.services.user import create_by_operator

        customer_id = None
        if args.customer is not None:
            customer_id = await customer_id_for(session, args.customer)
        await create_by_operator(
            session,
            username=args.username,
            email=args.email,
            password=password,
            roles=roles,
            customer_id=customer_id,
            settings=settings,
            via="cli",
        )

    _create_account(settings, create)
    linked = f", linked to customer {args.customer!r}" if args.customer else ""
    print(f"user {args.username.strip().lower()!r} created with roles {', '.join(roles)}{linked}")


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from opsgraph.api import schema

    sdl = schema.as_str().rstrip() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
        return
    try:
        Path(args.output).write_text(sdl)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror}") from None


def _where(path: str, error: Any) -> str:
    """``FILE:LINE:COLUMN: message`` of a GraphQL syntax or validation error."""
    locations = error.locations or []
    at = f"{locations[0].line}:{locations[0].column}:" if locations else ""
    return f"{path}:{at} {error.message}"


def _operations_in(path: str) -> list[Operation]:
    """The operations of a .graphql file, parsed and validated against the schema."""
    from graphql import GraphQLError, parse, specified_rules
    from strawberry.schema.schema import validate_document

    from opsgraph.api import schema
    from opsgraph.services.trusted_document import operations_of

    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    try:
        document = parse(source)
    except GraphQLError as exc:
        raise ConfigError(_where(path, exc)) from None
    errors = validate_document(schema._schema, document, tuple(specified_rules))
    if errors:
        raise ConfigError(_where(path, errors[0]))
    return operations_of(document)


def cmd_documents(args: argparse.Namespace, settings: Settings) -> None:
    from opsgraph.services.trusted_document import list_documents, register_documents

    if args.action == "list":
        if args.files:
            raise ConfigError("documents list takes no files")
        with database(settings) as url:
            rows = _in_transaction(url, settings, list_documents)
        for row in rows:
            when = row.created_at.strftime("%Y-%m-%d %H:%M")
            print(f"{row.sha256}  {row.source}  {when}  {row.created_by}  {row.name or '-'}")
        return
    if not args.files:
        raise ConfigError("documents register needs one or more .graphql files")
    operations = [operation for path in args.files for operation in _operations_in(path)]

    async def register(session: AsyncSession) -> set[str]:
        return await register_documents(session, operations)

    with database(settings) as url:
        new = _in_transaction(url, settings, register)
    for operation in operations:
        state = "registered" if operation.sha256 in new else "already registered"
        print(f"{operation.sha256}  {operation.name or '(anonymous)'}  {state}")


def _command(
    commands: Any, name: str, summary: str, description: str, examples: str
) -> argparse.ArgumentParser:
    """A subcommand with its one-line summary, description and examples."""
    parser: argparse.ArgumentParser = commands.add_parser(
        name,
        help=summary,
        description=description,
        epilog="examples:\n" + examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    return parser


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog=PROG,
        description="opsgraph: GraphQL API for operational data.",
        epilog=f"""examples:
  {PROG} serve --migrate --seed-demo   what `make run` starts
  {PROG} migrate                       bring the database to this version
  {PROG} serve --help                  one command's options

Settings come from OPSGRAPH_* variables or .env; without OPSGRAPH_DATABASE_URL the
commands use the embedded PostgreSQL in OPSGRAPH_DATA_DIR (.opsgraph).""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"{PROG} {__version__}", help="print the version"
    )
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="command", help="one of:"
    )

    serve = _command(
        commands,
        "serve",
        "run the HTTP server (embedded PostgreSQL if no URL)",
        "Serve /graphql (GraphiQL in a browser), /auth/token, /health, /ready and the webhooks.\n"
        "Without OPSGRAPH_DATABASE_URL an embedded PostgreSQL runs in OPSGRAPH_DATA_DIR and\n"
        "stops with the server. The database must be migrated (or pass --migrate).",
        f"""  {PROG} serve --migrate --seed-demo
  {PROG} serve --host 0.0.0.0 --port 8080 --workers 4 --no-worker
  OPSGRAPH_DATABASE_URL=postgresql://u:p@db:5432/opsgraph {PROG} serve""",
    )
    serve.add_argument("--host", help="interface to bind (default OPSGRAPH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default OPSGRAPH_PORT or 8000)")
    serve.add_argument("--workers", type=int, default=None, help="worker processes")
    serve.add_argument("--reload", action="store_true", help="restart on code changes")
    serve.add_argument("--migrate", action="store_true", help="apply migrations first")
    serve.add_argument("--seed-demo", action="store_true", help="load the demo data (once)")
    serve.add_argument(
        "--no-worker",
        action="store_true",
        help="run no job worker in the server (workers run apart: `opsgraph worker`)",
    )
    serve.set_defaults(handler=cmd_serve)

    worker = _command(
        commands,
        "worker",
        "run a worker of the job queue (webhook deliveries, inbound processing)",
        "Run jobs from the queue until SIGTERM or Ctrl-C, then finish the jobs in hand.\n"
        "Needs OPSGRAPH_DATABASE_URL (with the embedded PostgreSQL, `opsgraph serve` runs\n"
        "its own worker). Start as many as you like, on any machine.",
        f"""  {PROG} worker
  {PROG} worker --concurrency 20 --queues webhooks""",
    )
    worker.add_argument(
        "--concurrency", type=int, help="jobs run at once (default OPSGRAPH_WORKER_CONCURRENCY)"
    )
    worker.add_argument(
        "--queues", nargs="+", metavar="QUEUE", help="only these queues (default: every queue)"
    )
    worker.set_defaults(handler=cmd_worker)

    migrate = _command(
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

    seed = _command(
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

    admin = _command(
        commands,
        "create-admin",
        "create a user with the admin role",
        "Create a user holding the admin role. The password follows the password rules\n"
        "(OPSGRAPH_PASSWORD_MIN_LENGTH); it comes from --password, OPSGRAPH_ADMIN_PASSWORD,\n"
        "or a prompt on a terminal.",
        f"""  {PROG} create-admin --username boss --email boss@example.com
  OPSGRAPH_ADMIN_PASSWORD=... {PROG} create-admin --username boss --email boss@example.com""",
    )
    admin.add_argument("--username", required=True, help="2-64 letters, digits, '.', '_', '-'")
    admin.add_argument("--email", required=True, help="the admin's e-mail address")
    admin.add_argument("--password", help="or OPSGRAPH_ADMIN_PASSWORD, or asked for")
    admin.set_defaults(handler=cmd_create_admin)

    user = _command(
        commands,
        "create-user",
        "create a user, e.g. a portal user linked to a customer",
        "Create a user with the roles given (default: customer with --customer, else staff).\n"
        "A user linked to a customer sees that customer's data only (the portal).",
        f"""  {PROG} create-user --username pat --email pat@acme.se --customer ACME-1
  {PROG} create-user --username sam --email sam@example.com --role staff --role support""",
    )
    user.add_argument("--username", required=True, help="2-64 letters, digits, '.', '_', '-'")
    user.add_argument("--email", required=True, help="the user's e-mail address")
    user.add_argument("--password", help="or asked for on a terminal")
    user.add_argument(
        "--customer",
        metavar="EXTERNAL_ID_OR_ID",
        help="link the user to this customer (its external id, or its id)",
    )
    user.add_argument(
        "--role",
        action="append",
        help="a role to give (repeatable; default customer with --customer, else staff)",
    )
    user.set_defaults(handler=cmd_create_user)

    export = _command(
        commands,
        "export-schema",
        "write the GraphQL SDL",
        "Print the GraphQL schema (SDL), or write it to a file; needs no database.",
        f"""  {PROG} export-schema
  {PROG} export-schema --output schema.graphql""",
    )
    export.add_argument("--output", "-o", default="-", help="file (default stdout)")
    export.set_defaults(handler=cmd_export_schema)

    documents = _command(
        commands,
        "documents",
        "register or list the trusted documents (persisted queries)",
        "Register the operations of .graphql files as trusted documents (each checked\n"
        "against the schema first), or list the stored ones. With\n"
        "OPSGRAPH_TRUSTED_DOCUMENTS=registered only these run.",
        f"""  {PROG} documents register queries/*.graphql
  {PROG} documents list""",
    )
    documents.add_argument(
        "action", choices=["register", "list"], help="register files, or list the documents"
    )
    documents.add_argument("files", nargs="*", metavar="FILE", help=".graphql files to register")
    documents.set_defaults(handler=cmd_documents)
    return parser


class Terminated(BaseException):
    """SIGTERM: unwind (stopping an embedded PostgreSQL) and exit 0."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


UNDEFINED_TABLE, UNDEFINED_COLUMN = "42P01", "42703"  # a migration is missing


def database_failure(error: BaseException, settings: Settings | None) -> str | None:
    """The one line for a database error met while a command ran; None if it is not one."""
    import psycopg
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    from opsgraph.db import faults

    if not isinstance(error, psycopg.Error | DBAPIError | PoolTimeout):
        return None
    where = named(settings) if settings is not None else "the database"
    state = faults.sqlstate(error)
    if state in {UNDEFINED_TABLE, UNDEFINED_COLUMN}:
        return f"{where} lacks tables or columns this opsgraph needs: run `{PROG} migrate`"
    if faults.unavailable(error):
        return (
            f"{where} became unavailable ({faults.describe(error)}); check that PostgreSQL "
            "is running, then try again"
        )
    faults.redact(error)
    primary = getattr(getattr(error, "orig", error), "diag", None)
    reason = getattr(primary, "message_primary", None) or faults.describe(error)
    return f"{where} refused the work: {reason}"


def main(argv: Sequence[str] | None = None) -> int:
    # what the commands print (the demo passwords, say) shows at once, in order with the
    # log, even through a pipe (`make run | tee`, a container's log)
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(line_buffering=True)
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so an embedded PostgreSQL is always stopped. While the
    # server runs, uvicorn handles it first (drain, then exit) and passes it on here.
    signal.signal(signal.SIGTERM, _terminate)
    settings: Settings | None = None
    try:
        settings = load_settings()
        from opsgraph.log import configure_logging

        configure_logging(settings)
        args.handler(args, settings)
    except ConfigError as exc:
        print(error_line(str(exc)), file=sys.stderr)
        return 1
    except Exception as exc:
        line = database_failure(exc, settings)
        if line is None:
            raise
        print(error_line(line), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
