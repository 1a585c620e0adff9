"""What every command shares: the one-line error, the parser's pieces, the configured
database (or an embedded one) and a transaction on it."""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from opsgraph.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

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


def add_command(
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


def in_transaction(url: str, settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
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
