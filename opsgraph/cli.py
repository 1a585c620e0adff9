"""``opsgraph serve|worker|migrate|seed|create-admin|create-user|export-schema|documents``.

Every failure a person can cause ends in one line on stderr and a non-zero exit, never a
traceback: the ConfigError / DomainError messages are written for that.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import getpass
import logging
import os
import signal
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from opsgraph.settings import ConfigError, Settings, get_settings, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from opsgraph.services.trusted_document import Operation

log = logging.getLogger("opsgraph.cli")
T = TypeVar("T")
PROG = "opsgraph"


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming the problem."""

    def error(self, message: str) -> NoReturn:
        message = message.replace("argument command: invalid choice", "unknown command")
        self.exit(2, f"{self.prog}: error: {message} (see `{PROG} --help`)\n")


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


@contextmanager
def database(settings: Settings) -> Iterator[str]:
    """The configured database, or an embedded PostgreSQL kept running for the block."""
    from opsgraph.db import check_connection, describe

    if settings.database_url:
        check_connection(settings.database_url, timeout=settings.db_connect_timeout)
        log.info("using database %s", describe(settings.database_url))
        yield settings.database_url
        return
    from opsgraph.db.embedded import EmbeddedPostgres

    embedded = EmbeddedPostgres(settings.pgdata)
    url = embedded.start()
    log.info("embedded PostgreSQL running in %s", embedded.pgdata)
    try:
        yield url
    finally:
        embedded.stop()
        log.info("embedded PostgreSQL stopped")


def _migrate(url: str, action: str = "upgrade", revision: str = "head") -> None:
    from alembic.util.exc import CommandError

    from opsgraph.db import migrations

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
        raise ConfigError(f"migration failed: {exc}") from None


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


def _announce_passwords(passwords: dict[str, str], settings: Settings) -> None:
    if not passwords:
        return
    lines = [f"  {user}: {password}" for user, password in sorted(passwords.items())]
    note = settings.data_dir / "demo-credentials.txt"
    note.parent.mkdir(parents=True, exist_ok=True)
    note.write_text("Demo users (development only):\n" + "\n".join(lines) + "\n")
    note.chmod(0o600)
    print(f"Demo users created (development only; also saved to {note}):", *lines, sep="\n")


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    host = args.host or settings.host
    port = args.port or settings.port
    _port_is_free(host, port)
    if args.no_worker:
        os.environ["OPSGRAPH_WORKER_IN_SERVE"] = "false"
    with database(settings) as url:
        os.environ["OPSGRAPH_DATABASE_URL"] = url  # for the app factory, workers and reloads
        get_settings.cache_clear()
        if args.migrate:
            _migrate(url)
        if args.seed_demo:
            _announce_passwords(_seed_demo(url, settings), settings)
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
    from opsgraph.db import describe
    from opsgraph.webhooks.worker import QueueWorker

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
    with database(settings) as url:
        _migrate(url, args.action, args.revision or "head")


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    with database(settings) as url:
        if args.customers is None:
            _announce_passwords(_seed_demo(url, settings), settings)
            print("demo data loaded")
            return
        if args.customers < 1:
            raise ConfigError("--customers must be at least 1")
        from opsgraph.db import libpq_dsn
        from opsgraph.seed import seed_bulk

        stats = seed_bulk(libpq_dsn(url), customers=args.customers, seed=args.seed)
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


def _create_account(settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run a user-creating service in one transaction; its refusal is a one-line error."""
    from opsgraph.errors import DomainError

    with database(settings) as url:
        try:
            _in_transaction(url, settings, work)
        except DomainError as exc:
            raise ConfigError(exc.message) from None


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
    from opsgraph.schema.root import schema

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

    from opsgraph.schema.root import schema
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


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog=PROG, description="opsgraph: GraphQL API for operational data")
    commands = parser.add_subparsers(dest="command", required=True, metavar="command")

    serve = commands.add_parser("serve", help="run the HTTP server (embedded PostgreSQL if no URL)")
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

    worker = commands.add_parser(
        "worker", help="run a worker of the job queue (webhook deliveries, inbound processing)"
    )
    worker.add_argument(
        "--concurrency", type=int, help="jobs run at once (default OPSGRAPH_WORKER_CONCURRENCY)"
    )
    worker.add_argument(
        "--queues", nargs="+", metavar="QUEUE", help="only these queues (default: every queue)"
    )
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="apply, revert or show migrations")
    migrate.add_argument(
        "action", nargs="?", default="upgrade", choices=["upgrade", "downgrade", "current"]
    )
    migrate.add_argument("revision", nargs="?", help="target revision (default head)")
    migrate.set_defaults(handler=cmd_migrate)

    seed = commands.add_parser("seed", help="load demo data, or a large data set")
    seed.add_argument("--customers", type=int, help="make N customers with orders etc.")
    seed.add_argument("--seed", type=int, default=42, help="random seed for --customers")
    seed.set_defaults(handler=cmd_seed)

    admin = commands.add_parser("create-admin", help="create a user with the admin role")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", required=True)
    admin.add_argument("--password", help="or OPSGRAPH_ADMIN_PASSWORD, or asked for")
    admin.set_defaults(handler=cmd_create_admin)

    user = commands.add_parser(
        "create-user", help="create a user, e.g. a portal user linked to a customer"
    )
    user.add_argument("--username", required=True)
    user.add_argument("--email", required=True)
    user.add_argument("--password", help="or asked for")
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

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("--output", "-o", default="-", help="file (default stdout)")
    export.set_defaults(handler=cmd_export_schema)

    documents = commands.add_parser(
        "documents", help="register or list the trusted documents (persisted queries)"
    )
    documents.add_argument("action", choices=["register", "list"])
    documents.add_argument("files", nargs="*", metavar="FILE", help=".graphql files to register")
    documents.set_defaults(handler=cmd_documents)
    return parser


class Terminated(BaseException):
    """SIGTERM: unwind (stopping an embedded PostgreSQL) and exit 0."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so an embedded PostgreSQL is always stopped. While the
    # server runs, uvicorn handles it first (drain, then exit) and passes it on here.
    signal.signal(signal.SIGTERM, _terminate)
    try:
        settings = load_settings()
        from opsgraph.log import configure_logging

        configure_logging(settings)
        args.handler(args, settings)
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Terminated:
        return 0
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
