"""The worker inside the server: ``opsgraph serve`` delivers with nothing else started,
stops its worker cleanly on shutdown, and runs none with ``--no-worker``."""

from __future__ import annotations

import signal
import subprocess
import sys

from sqlalchemy import URL, func, select, text

from opsgraph.app import create_app
from opsgraph.models import DeliveryStatus, WebhookDelivery
from opsgraph.webhooks.signing import new_secret
from tests.conftest import free_port, make_settings, subprocess_env, wait_ready
from tests.webhooks.receiver import receiving
from tests.webhooks.support import Db, database, poll


async def _workers(db: Db) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(text("SELECT count(*) FROM procrastinate_workers")) or 0)


async def _delivered(db: Db) -> bool:
    async with db.sessions() as session:
        done = await session.scalar(
            select(func.count())
            .select_from(WebhookDelivery)
            .where(WebhookDelivery.status == DeliveryStatus.succeeded)
        )
    return done == 1


async def test_the_app_runs_a_worker_and_stops_it_on_shutdown(fresh_database_url: URL) -> None:
    secret = new_secret()
    settings = make_settings(fresh_database_url, worker_in_serve=True, webhooks_allow_insecure=True)
    app = create_app(settings)
    async with database(fresh_database_url) as db:
        with receiving(secret) as receiver:
            await db.endpoint(receiver.url, secret)
            async with app.router.lifespan_context(app):
                await db.emit()
                await poll(lambda: _delivered(db), what="the delivery")
                assert await _workers(db) == 1
            assert receiver.count() == 1
        assert await _workers(db) == 0  # stopped and unregistered


def _serve(url: URL, port: int, *extra: str) -> subprocess.Popen[str]:
    env = subprocess_env(
        OPSGRAPH_DATABASE_URL=url.render_as_string(hide_password=False),
        OPSGRAPH_PORT=str(port),
        OPSGRAPH_WEBHOOKS_ALLOW_INSECURE="true",
    )
    return subprocess.Popen(
        [sys.executable, "-m", "opsgraph", "serve", *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


async def test_serve_delivers_and_no_worker_leaves_jobs_to_workers(
    fresh_database_url: URL,
) -> None:
    secret = new_secret()
    async with database(fresh_database_url) as db:
        with receiving(secret) as receiver:
            await db.endpoint(receiver.url, secret)
            await db.emit()
            port = free_port()
            apart = _serve(fresh_database_url, port, "--no-worker")
            try:
                wait_ready(apart, f"http://127.0.0.1:{port}")
                assert await _workers(db) == 0
            finally:
                apart.send_signal(signal.SIGTERM)
                assert apart.wait(30) == 0
            assert receiver.count() == 0

            port = free_port()
            serving = _serve(fresh_database_url, port)
            try:
                wait_ready(serving, f"http://127.0.0.1:{port}")
                await poll(lambda: _delivered(db), within=60, what="the delivery")
            finally:
                serving.send_signal(signal.SIGTERM)
                assert serving.wait(30) == 0
            assert receiver.count() == 1
            assert receiver.snapshot()[0].verified
        assert await _workers(db) == 0
