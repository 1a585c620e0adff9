"""``opsgraph worker``: a worker of the job queue."""

from __future__ import annotations

import asyncio
import signal
from typing import TYPE_CHECKING, Any

from opsgraph.cli.common import PROG, add_command, log, named
from opsgraph.settings import ConfigError, Settings

if TYPE_CHECKING:
    import argparse


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


def add_worker(commands: Any) -> None:
    """The ``worker`` command."""
    worker = add_command(
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
