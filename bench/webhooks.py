"""Webhook deliveries per second, one worker, local receiver.

N events are committed with one endpoint subscribed, then one ``opsgraph worker`` process
(default concurrency) delivers them to a receiver on 127.0.0.1 that answers 204; the
figure is N over the time from the worker's start until the last delivery succeeded (the
worker's start-up included), and again without it (from its first delivery).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from opsgraph.db import create_session_factory
from opsgraph.events.emit import emit
from opsgraph.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint
from opsgraph.settings import sqlalchemy_url
from opsgraph.webhooks.signing import new_secret


@dataclass
class Result:
    events: int
    seconds: float
    first_delivery_seconds: float

    def row(self) -> str:
        steady = self.events / max(self.seconds - self.first_delivery_seconds, 1e-9)
        return (
            f"webhook deliveries per second, one worker, local receiver: "
            f"{self.events / self.seconds:.0f}/s end to end ({self.events} events in "
            f"{self.seconds:.1f} s with the worker's start-up), {steady:.0f}/s once running"
        )


class _Receiver(ThreadingHTTPServer):
    daemon_threads = True
    received = 0
    lock = threading.Lock()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        server: Any = self.server
        with server.lock:
            server.received += 1
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def _prepare(url: str, events: int, hook: str) -> None:
    engine = create_async_engine(sqlalchemy_url(url))
    sessions = create_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            session.add(WebhookEndpoint(url=hook, secret=new_secret(), event_types=[]))
        for start in range(0, events, 500):
            async with sessions() as session, session.begin():
                for number in range(start, min(events, start + 500)):
                    await emit(
                        session,
                        "customer.created",
                        entity_type="Customer",
                        entity_id=number + 1,
                        customer_id=None,
                        data={"number": number},
                        actor=None,
                    )
    finally:
        await engine.dispose()


async def _pending(url: str) -> int:
    engine = create_async_engine(sqlalchemy_url(url))
    try:
        async with engine.connect() as conn:
            query = select(func.count()).where(WebhookDelivery.status != DeliveryStatus.succeeded)
            return int(await conn.scalar(query) or 0)
    finally:
        await engine.dispose()


def bench_webhooks(url: str, events: int) -> Result:
    receiver = _Receiver(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=receiver.serve_forever, daemon=True)
    thread.start()
    try:
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        asyncio.run(_prepare(url, events, hook))
        env = {
            **os.environ,
            "OPSGRAPH_DATABASE_URL": url,
            "OPSGRAPH_WEBHOOKS_ALLOW_INSECURE": "true",
            "OPSGRAPH_LOG_LEVEL": "WARNING",
            "OPSGRAPH_ENV_FILE": "",
        }
        started = time.perf_counter()
        worker = subprocess.Popen([sys.executable, "-m", "opsgraph", "worker"], env=env)
        first = None
        try:
            while True:
                if first is None and receiver.received:
                    first = time.perf_counter() - started
                if receiver.received >= events and asyncio.run(_pending(url)) == 0:
                    break
                if worker.poll() is not None:
                    raise RuntimeError(f"the worker exited ({worker.returncode})")
                time.sleep(0.05)
            seconds = time.perf_counter() - started
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
    finally:
        receiver.shutdown()
        receiver.server_close()
    return Result(events, seconds, first or 0.0)
