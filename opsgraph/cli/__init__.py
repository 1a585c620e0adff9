"""``opsgraph serve|worker|migrate|seed|create-admin|create-user|export-schema|documents``.

Every failure a person can cause ends in one line on stderr and a non-zero exit, never a
traceback: ``error_line`` formats it, from the ConfigError / DomainError messages (written
for that), argparse's usage errors and the database's refusals. Each command lives in the
module of its concern (serve, worker, database, users, schema); this one builds the parser
and runs a command.
"""

from __future__ import annotations

import argparse
import io
import signal
import sys
from collections.abc import Sequence

from opsgraph.cli.common import PROG, OneLineParser, error_line, named
from opsgraph.cli.database import add_migrate, add_seed
from opsgraph.cli.schema import add_documents, add_export_schema
from opsgraph.cli.serve import add_serve
from opsgraph.cli.users import add_create_admin, add_create_user
from opsgraph.cli.worker import add_worker
from opsgraph.settings import ConfigError, Settings, load_settings
from opsgraph.version import __version__


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

    add_serve(commands)
    add_worker(commands)
    add_migrate(commands)
    add_seed(commands)
    add_create_admin(commands)
    add_create_user(commands)
    add_export_schema(commands)
    add_documents(commands)
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
