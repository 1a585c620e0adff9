"""The delivery worker against a real receiver on 127.0.0.1 that verifies every signature
with ``standardwebhooks``: success, the retry schedule on a controlled clock, 410 Gone,
dead-lettering, a re-sent dead delivery and stale jobs."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from sqlalchemy import URL, update

from opsgraph.events.emit import DELIVER_TASK, DELIVERY_QUEUE
from opsgraph.events.queue import defer
from opsgraph.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from opsgraph.webhooks.schedule import MAX_ATTEMPTS, retry_delay
from opsgraph.webhooks.signing import new_secret
from tests.webhooks.receiver import always, fail_first, receiving
from tests.webhooks.support import Db, FakeClock, database, poll, running_worker, worker_settings

SEED = 7


async def _next_job(db: Db, delivery_id: int, attempt: int) -> dict[str, Any]:
    async def waiting() -> dict[str, Any] | None:
        jobs = await db.jobs(delivery_id)
        return next((j for j in jobs if j["attempt"] == attempt and j["status"] == "todo"), None)

    return await poll(waiting, what=f"the job of attempt {attempt}")


async def _walk_schedule(
    db: Db, clock: FakeClock, delivery_id: int, attempts: int
) -> list[dt.datetime]:
    """Follow a failing delivery through ``attempts`` attempts: each next job must be
    scheduled exactly where the schedule (same seed) puts it; the clock is then moved
    there and the job made due. The times the attempts were made at, on the clock."""
    expected = random.Random(SEED)
    times = [clock.now]
    for attempt in range(2, attempts + 1):
        job = await _next_job(db, delivery_id, attempt)
        delay = retry_delay(attempt - 1, expected.random)
        assert delay is not None
        due = times[-1] + delay
        assert job["scheduled_at"] == due
        delivery = await db.delivery(delivery_id)
        assert (delivery.status, delivery.attempts) == (DeliveryStatus.failed, attempt - 1)
        assert delivery.next_attempt_at == due
        assert delivery.last_status_code == 500
        clock.now = due
        times.append(due)
        await db.make_due(job["id"])
    return times


async def test_a_delivery_arrives_signed_and_succeeds(fresh_database_url: URL) -> None:
    secret = new_secret()
    async with database(fresh_database_url) as db:
        with receiving(secret) as receiver:
            await db.endpoint(receiver.url, secret)
            async with running_worker(worker_settings(fresh_database_url)):
                await db.emit(3)

                async def done() -> list[WebhookDelivery] | None:
                    rows = await db.deliveries()
                    return rows if all(d.status == DeliveryStatus.succeeded for d in rows) else None

                rows = await poll(done, what="three deliveries")
        got = receiver.snapshot()
        assert len(got) == 3
        assert all(r.verified for r in got)
        assert {r.webhook_id for r in got} == {r.event_id for r in got} == await db.public_ids()
        assert all(d.attempts == 1 and d.last_status_code == 200 for d in rows)
        assert all(d.next_attempt_at is None and d.last_error is None for d in rows)


async def test_retries_follow_the_schedule_on_a_controlled_clock(fresh_database_url: URL) -> None:
    secret = new_secret()
    # far enough ahead that no scheduled job comes due by itself: the test moves each
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1))
    settings = worker_settings(fresh_database_url)
    async with database(fresh_database_url) as db:
        with receiving(secret, fail_first(3), clock) as receiver:
            await db.endpoint(receiver.url, secret)
            worker = running_worker(settings, clock=clock, random=random.Random(SEED).random)
            async with worker:
                await db.emit()
                (delivery,) = await db.deliveries()
                times = await _walk_schedule(db, clock, delivery.id, 4)

                async def succeeded() -> bool:
                    return (await db.delivery(delivery.id)).status == DeliveryStatus.succeeded

                await poll(succeeded, what="the fourth attempt")
        got = receiver.snapshot()
        # the receiver saw each attempt at its scheduled time, the same message each time
        assert [r.at for r in got] == times
        assert [r.status for r in got] == [500, 500, 500, 200]
        assert all(r.verified for r in got)
        assert len({r.webhook_id for r in got}) == 1
        final = await db.delivery(delivery.id)
        assert final.attempts == 4
        assert final.last_attempt_at == times[-1]
        assert final.next_attempt_at is None


async def test_the_last_failure_dead_letters_and_a_resend_delivers(
    fresh_database_url: URL,
) -> None:
    secret = new_secret()
    clock = FakeClock(dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(days=1))
    settings = worker_settings(fresh_database_url)
    answers = {"status": 500}
    async with database(fresh_database_url) as db:
        with receiving(secret, lambda n: (answers["status"], {}), clock) as receiver:
            await db.endpoint(receiver.url, secret)
            worker = running_worker(settings, clock=clock, random=random.Random(SEED).random)
            async with worker:
                await db.emit()
                (delivery,) = await db.deliveries()
                times = await _walk_schedule(db, clock, delivery.id, MAX_ATTEMPTS)

                async def dead() -> WebhookDelivery | None:
                    row = await db.delivery(delivery.id)
                    return row if row.status == DeliveryStatus.dead else None

                final = await poll(dead, what="the last attempt")
                assert final.attempts == MAX_ATTEMPTS
                assert final.next_attempt_at is None
                assert "HTTP 500" in (final.last_error or "")

                # nothing more is scheduled: the last job leaves the queue once it finishes
                async def no_jobs() -> bool:
                    return await db.jobs(delivery.id) == []

                await poll(no_jobs, what="the last job to finish")
                # more than a day between the first attempt and the last
                assert times[-1] - times[0] >= dt.timedelta(hours=24)
                assert receiver.count() == MAX_ATTEMPTS

                # what webhookDeliveryRetry does: pending again, one job for the next attempt;
                # with it, a stale job (an attempt already made)
                answers["status"] = 200
                async with db.sessions() as session, session.begin():
                    await session.execute(
                        update(WebhookDelivery)
                        .where(WebhookDelivery.id == delivery.id)
                        .values(status=DeliveryStatus.pending.value)
                    )
                    await defer(
                        session,
                        DELIVER_TASK,
                        [
                            {"delivery_id": delivery.id, "attempt": 3},
                            {"delivery_id": delivery.id, "attempt": MAX_ATTEMPTS + 1},
                        ],
                        queue=DELIVERY_QUEUE,
                    )

                await poll(no_jobs, what="both jobs to run")
        resent = await db.delivery(delivery.id)
        assert resent.status == DeliveryStatus.succeeded
        assert resent.attempts == MAX_ATTEMPTS + 1
        got = receiver.snapshot()
        assert len(got) == MAX_ATTEMPTS + 1  # the stale job sent nothing
        assert got[-1].status == 200
        assert got[-1].verified
        assert len({r.webhook_id for r in got}) == 1


async def test_410_gone_disables_the_endpoint(fresh_database_url: URL) -> None:
    secret = new_secret()
    async with database(fresh_database_url) as db:
        with receiving(secret, always(410)) as receiver:
            endpoint = await db.endpoint(receiver.url, secret)
            await db.emit(2)  # before the worker starts: both deliveries exist
            async with running_worker(worker_settings(fresh_database_url), concurrency=1):

                async def dead() -> list[WebhookDelivery] | None:
                    rows = await db.deliveries()
                    return rows if all(d.status == DeliveryStatus.dead for d in rows) else None

                first, second = await poll(dead, what="both deliveries dead")
        async with db.sessions() as session:
            stored = await session.get_one(WebhookEndpoint, endpoint.id)
        assert stored.active is False
        assert "410" in (stored.disabled_reason or "")
        # one request: the other delivery found the endpoint turned off and sent nothing
        assert receiver.count() == 1
        by_attempts = sorted([first, second], key=lambda d: d.attempts)
        assert [d.attempts for d in by_attempts] == [0, 1]
        assert by_attempts[0].last_error == "the endpoint is inactive"
        assert by_attempts[1].last_status_code == 410
        assert by_attempts[1].next_attempt_at is None
