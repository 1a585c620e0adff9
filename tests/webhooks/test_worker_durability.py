"""No delivery is lost when workers die: 1,000 events are produced while a real
``opsgraph worker`` process is SIGKILLed and restarted ten times; every event reaches the
receiver (verified with ``standardwebhooks``), a duplicate always with the same
``webhook-id``. Also: SIGTERM stops a worker gracefully, and ``opsgraph worker`` without a
database URL is a one-line error."""

from __future__ import annotations

import asyncio
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict

from sqlalchemy import URL, func, select

from opsgraph.models import DeliveryStatus, WebhookDelivery
from opsgraph.webhooks.signing import new_secret
from tests.conftest import free_port, subprocess_env
from tests.webhooks.receiver import Receiver, receiving
from tests.webhooks.support import Db, database, poll

EVENTS = 1_000
BATCH = 10
KILLS = 10


def _start_worker(url: URL) -> subprocess.Popen[str]:
    env = subprocess_env(
        OPSGRAPH_DATABASE_URL=url.render_as_string(hide_password=False),
        OPSGRAPH_WEBHOOKS_ALLOW_INSECURE="true",
        OPSGRAPH_WORKER_HEARTBEAT_SECONDS="0.5",
        OPSGRAPH_WORKER_STALLED_SECONDS="2",
        OPSGRAPH_WORKER_SHUTDOWN_SECONDS="5",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "worker", "--concurrency", "8"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def _produce(db: Db) -> None:
    for _ in range(EVENTS // BATCH):
        await db.emit(BATCH)
        await asyncio.sleep(0.02)  # spread the events over the kills


async def _kill_at_a_random_point(
    proc: subprocess.Popen[str], receiver: Receiver, rng: random.Random
) -> str:
    """SIGKILL ``proc`` in the middle of its work: once it has delivered a random number
    (1 to 40) of requests, so jobs are running and being recorded when it dies. What it
    logged."""
    target = receiver.count() + rng.randint(1, 40)
    deadline = time.monotonic() + 60
    while receiver.count() < target:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the worker delivered nothing for 60 s"
        await asyncio.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    _, err = proc.communicate(timeout=10)
    return err


async def test_sigkilled_workers_lose_no_delivery(fresh_database_url: URL) -> None:
    secret = new_secret()
    rng = random.Random(20261203)
    async with database(fresh_database_url) as db:
        with receiving(secret) as receiver:
            await db.endpoint(receiver.url, secret)
            producer = asyncio.create_task(_produce(db))
            logs = [
                await _kill_at_a_random_point(_start_worker(fresh_database_url), receiver, rng)
                for _ in range(KILLS)
            ]
            await producer
            final = _start_worker(fresh_database_url)
            try:

                async def all_succeeded() -> bool:
                    async with db.sessions() as session:
                        left = await session.scalar(
                            select(func.count())
                            .select_from(WebhookDelivery)
                            .where(WebhookDelivery.status != DeliveryStatus.succeeded)
                        )
                    return left == 0

                await poll(all_succeeded, within=90, what="every delivery to succeed")
                final.send_signal(signal.SIGTERM)
                _, err = final.communicate(timeout=30)
                assert final.returncode == 0  # a graceful stop
                logs.append(err)
            finally:
                if final.poll() is None:
                    final.kill()
                    final.wait(10)
            got = receiver.snapshot()

        produced = await db.public_ids()
        assert len(produced) == EVENTS
        assert len(await db.deliveries()) == EVENTS
        assert all(r.verified for r in got)
        assert {r.event_id for r in got} == produced
        # jobs of killed workers were found and queued again
        assert any("of stopped workers again" in log for log in logs)
        assert not any("Traceback" in log for log in logs)
        ids_by_event: dict[str | None, set[str]] = defaultdict(set)
        for r in got:
            ids_by_event[r.event_id].add(r.webhook_id)
        assert all(ids == {event} for event, ids in ids_by_event.items())


def test_worker_needs_a_database_url() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "opsgraph", "worker"],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "OPSGRAPH_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unavailable_database_is_waited_for_with_one_line_each_time() -> None:
    closed = free_port()  # nothing listens there
    proc = subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "worker"],
        env=subprocess_env(
            OPSGRAPH_DATABASE_URL=f"postgresql://opsgraph@127.0.0.1:{closed}/opsgraph",
            OPSGRAPH_DB_CONNECT_TIMEOUT="1",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        while len([line for line in lines if "database is unavailable" in line]) < 2:
            line = proc.stderr.readline()
            assert line, f"the worker exited ({proc.wait()}): {''.join(lines)}"
            lines.append(line)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
        lines.extend(proc.stderr.readlines())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert "Traceback" not in "".join(lines)
    assert all("trying again in" in line for line in lines if "unavailable" in line)
