"""Running a worker of the job queue: ``opsgraph worker``, or the one ``opsgraph serve`` runs.

A worker is procrastinate's, over a connection pool of its own on the application's
database, with the tasks of ``TASK_MODULES``. Around it:

* stalled jobs: a worker that was killed (SIGKILL, a lost machine) leaves its jobs
  ``doing``. Workers send a heartbeat every ``worker_heartbeat_seconds``; every worker looks
  for jobs of workers silent for ``worker_stalled_seconds`` at start and every half of that,
  and queues them again (``JobManager.get_stalled_jobs`` / ``retry_job``);
* an unavailable database: the worker stops, logs one line saying so and starts again after
  a doubling wait (at most ``MAX_WAIT`` seconds), until it is told to stop;
* stopping (SIGTERM, or the server shutting down): no new jobs are taken; running jobs have
  ``worker_shutdown_seconds`` to finish, then are cancelled and queued again.

Many workers may run against one database, on one machine or many: each job is taken by
exactly one (``SELECT ... FOR UPDATE SKIP LOCKED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Sequence
from typing import Any, Final

import procrastinate
import psycopg
from procrastinate.app import WorkerOptions

from opsgraph.db import create_engine, create_session_factory, libpq_dsn
from opsgraph.db.engine import session_options
from opsgraph.db.faults import describe, unavailable
from opsgraph.events.queue import TASK_MODULES, queue_app
from opsgraph.jobs.delivery import Clock
from opsgraph.settings import Settings
from opsgraph.webhooks.schedule import RandomSource

log = logging.getLogger(__name__)

FIRST_WAIT: Final = 1.0
MAX_WAIT: Final = 30.0
POLL_SECONDS: Final = 5.0


def import_tasks(modules: Sequence[str] = TASK_MODULES) -> list[str]:
    """Import the modules that register tasks; the names of those that exist (a module
    of ``TASK_MODULES`` that is not installed is left out, and logged)."""
    found = []
    for name in modules:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            log.warning("task module %s is not installed; its jobs wait for another worker", name)
            continue
        found.append(name)
    return found


class QuietUnavailable(logging.Filter):
    """Drops procrastinate's tracebacks of an unavailable database: the worker logs one
    line of its own for that."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and unavailable(record.exc_info[1]):
            record.exc_info = None
            record.exc_text = None
        return True


class QueueWorker:
    """One worker; ``run`` until ``stop``. ``clock``, ``random`` and ``poll_seconds`` are for
    tests (the retry schedule's clock and random source, and how often the queue is read
    besides its notifications)."""

    def __init__(
        self,
        settings: Settings,
        *,
        concurrency: int | None = None,
        queues: Sequence[str] | None = None,
        clock: Clock | None = None,
        random: RandomSource | None = None,
        poll_seconds: float = POLL_SECONDS,
        name: str = "opsgraph",
    ) -> None:
        if not settings.database_url:
            raise ValueError("a worker needs OPSGRAPH_DATABASE_URL")
        self.settings = settings
        self.database_url: str = settings.database_url
        self.concurrency = concurrency or settings.worker_concurrency
        self.queues = list(queues) if queues else None
        self.clock = clock
        self.random = random
        self.poll_seconds = poll_seconds
        self.name = name
        self._stopping = asyncio.Event()
        self._running: asyncio.Task[None] | None = None

    def stop(self) -> None:
        """Finish gracefully: no new jobs; running jobs get ``worker_shutdown_seconds``."""
        self._stopping.set()
        if self._running is not None:
            self._running.cancel()

    async def run(self) -> None:
        import_tasks()
        procrastinate_log = logging.getLogger("procrastinate")
        if not log.isEnabledFor(logging.DEBUG):
            # two lines per job at INFO; the worker and the jobs log what matters
            procrastinate_log.setLevel(logging.WARNING)
        quiet = QuietUnavailable()
        procrastinate_log.addFilter(quiet)
        engine = create_engine(self.database_url, self.settings)
        context: dict[str, Any] = {
            "session_factory": create_session_factory(engine),
            "settings": self.settings,
        }
        if self.clock is not None:
            context["clock"] = self.clock
        if self.random is not None:
            context["random"] = self.random
        wait = FIRST_WAIT
        try:
            while not self._stopping.is_set():
                try:
                    await self._run_once(context)
                    wait = FIRST_WAIT
                except Exception as exc:
                    if not unavailable(exc):
                        raise
                    log.warning(
                        "worker: the database is unavailable (%s); trying again in %.0f s",
                        describe(exc),
                        wait,
                    )
                else:
                    if self._stopping.is_set():
                        break
                    log.warning("worker: stopped on its own; starting again in %.0f s", wait)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), wait)
                wait = min(MAX_WAIT, wait * 2)
        finally:
            await engine.dispose()
            procrastinate_log.removeFilter(quiet)
        log.info("worker stopped")

    def _connector(self) -> procrastinate.PsycopgConnector:
        return procrastinate.PsycopgConnector(
            conninfo=libpq_dsn(self.database_url),
            min_size=1,
            # the jobs' own queries go through the engine; here: fetching, finishing,
            # heartbeats, the stalled-job check and the notification listener
            max_size=self.concurrency + 4,
            kwargs={
                "connect_timeout": self.settings.db_connect_timeout,
                "application_name": "opsgraph-worker",
                "options": session_options(self.settings),
            },
        )

    async def _run_once(self, context: dict[str, Any]) -> None:
        """One life of the worker, from opening its pool to its stop or failure."""
        # fail fast (one clear line) rather than wait for the pool to fill
        connection = await psycopg.AsyncConnection.connect(
            libpq_dsn(self.database_url), connect_timeout=self.settings.db_connect_timeout
        )
        await connection.close()
        with queue_app.replace_connector(self._connector()) as app:
            async with app.open_async():
                recovery = asyncio.create_task(self._recover_stalled(app))
                options: WorkerOptions = {
                    "name": self.name,
                    "concurrency": self.concurrency,
                    "additional_context": context,
                    "install_signal_handlers": False,
                    "update_heartbeat_interval": self.settings.worker_heartbeat_seconds,
                    "stalled_worker_timeout": self.settings.worker_stalled_seconds,
                    "shutdown_graceful_timeout": self.settings.worker_shutdown_seconds,
                    "fetch_job_polling_interval": self.poll_seconds,
                    "delete_jobs": "successful",
                }
                if self.queues:
                    options["queues"] = self.queues
                self._running = asyncio.create_task(app.run_worker_async(**options))
                if self._stopping.is_set():
                    self._running.cancel()
                log.info(
                    "worker running %s job(s) at once on %s",
                    self.concurrency,
                    ", ".join(self.queues) if self.queues else "every queue",
                )
                try:
                    with contextlib.suppress(asyncio.CancelledError):
                        await self._running
                finally:
                    self._running = None
                    recovery.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await recovery

    async def _recover_stalled(self, app: procrastinate.App) -> None:
        """Queue again the jobs of workers silent for ``worker_stalled_seconds``."""
        silent = self.settings.worker_stalled_seconds
        manager = app.job_manager
        while True:
            try:
                await manager.prune_stalled_workers(silent)
                stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=silent))
                for job in stalled:
                    try:
                        await manager.retry_job(job)
                    except procrastinate.exceptions.ConnectorException as exc:
                        if unavailable(exc):
                            raise
                        continue  # finished meanwhile
                if stalled:
                    log.warning(
                        "worker: queued %d job(s) of stopped workers again: %s",
                        len(stalled),
                        ", ".join(str(job.id) for job in stalled),
                    )
            except Exception as exc:
                if unavailable(exc):
                    log.warning("worker: stalled-job check skipped: %s", describe(exc))
                else:
                    log.exception("worker: the stalled-job check failed")
            await asyncio.sleep(silent / 2)
