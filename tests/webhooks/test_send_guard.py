"""The address guard at send time: refused destinations get no connection at all.

Every ``socket.connect`` this process makes is seen through an audit hook (PEP 578), so a
test can say that nothing was dialled to the refused address; loopback targets are real
listeners that count the connections they get.
"""

from __future__ import annotations

import random
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import URL

from opsgraph.jobs.delivery import JobDeps, run_attempt, system_clock
from opsgraph.models import DeliveryStatus
from opsgraph.webhooks.signing import new_secret
from tests.webhooks.receiver import Listener, receiving
from tests.webhooks.support import Db, database, worker_settings

_dialled: list[list[str]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _dialled:
        address = args[1]
        if isinstance(address, tuple):
            _dialled[-1].append(str(address[0]))


sys.addaudithook(_audit)


@contextmanager
def dialled() -> Iterator[list[str]]:
    """The addresses this process connects sockets to within the block."""
    _dialled.append([])
    try:
        yield _dialled[-1]
    finally:
        _dialled.pop()


async def _attempt(db: Db, url: URL, *, insecure: bool) -> Any:
    """Attempt 1 of the only delivery, as a worker would make it; the delivery after."""
    (delivery,) = await db.deliveries()
    deps = JobDeps(
        session_factory=db.sessions,
        settings=worker_settings(url, insecure=insecure),
        clock=system_clock,
        random=random.Random(1).random,
    )
    await run_attempt(deps, delivery.id, 1)
    return await db.delivery(delivery.id)


def _loopback_names() -> list[str]:
    """Names (not address literals) that resolve to 127.0.0.1: ``127.1`` always does
    (the resolver reads it as an IPv4 address in short form); the host's own name often."""
    names = ["127.1"]
    try:
        if socket.gethostbyname(socket.gethostname()).startswith("127."):
            names.append(socket.gethostname())
    except OSError:
        pass
    return names


@pytest.mark.parametrize("scheme", ["http", "https"])
async def test_loopback_outside_insecure_mode_gets_no_connection(
    fresh_database_url: URL, scheme: str
) -> None:
    listener = Listener()
    try:
        async with database(fresh_database_url) as db:
            await db.endpoint(f"{scheme}://127.0.0.1:{listener.port}/hook")
            await db.emit()
            with dialled() as addresses:
                delivery = await _attempt(db, fresh_database_url, insecure=False)
        assert listener.connections() == 0
        assert "127.0.0.1" not in addresses
        assert delivery.status == DeliveryStatus.failed
        assert delivery.last_status_code is None
        assert (delivery.last_error or "").startswith("refused:")
        assert delivery.next_attempt_at is not None  # an ordinary failure: tried again later
    finally:
        listener.close()


@pytest.mark.parametrize("name", _loopback_names())
async def test_a_name_resolving_to_loopback_gets_no_connection(
    fresh_database_url: URL, name: str
) -> None:
    listener = Listener()
    try:
        async with database(fresh_database_url) as db:
            await db.endpoint(f"https://{name}:{listener.port}/hook")
            await db.emit()
            with dialled() as addresses:
                delivery = await _attempt(db, fresh_database_url, insecure=False)
        assert listener.connections() == 0
        assert addresses == []
        assert "resolves to 127.0.0.1" in (delivery.last_error or "")
    finally:
        listener.close()


@pytest.mark.parametrize(
    "url",
    [
        "https://10.20.30.40/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/hook",
        "http://192.168.7.7:8080/hook",
    ],
)
@pytest.mark.parametrize("insecure", [False, True])
async def test_private_and_metadata_addresses_are_never_dialled(
    fresh_database_url: URL, url: str, insecure: bool
) -> None:
    async with database(fresh_database_url) as db:
        await db.endpoint(url)
        await db.emit()
        with dialled() as addresses:
            delivery = await _attempt(db, fresh_database_url, insecure=insecure)
    assert addresses == []
    assert (delivery.last_error or "").startswith("refused:")
    assert delivery.status == DeliveryStatus.failed


async def test_a_redirect_to_a_private_address_is_not_followed(fresh_database_url: URL) -> None:
    secret = new_secret()
    redirect = {"location": "http://10.9.9.9/internal"}
    async with database(fresh_database_url) as db:
        with receiving(secret, lambda n: (302, redirect)) as receiver:
            await db.endpoint(receiver.url, secret)
            await db.emit()
            with dialled() as addresses:
                delivery = await _attempt(db, fresh_database_url, insecure=True)
    assert receiver.count() == 1
    assert "10.9.9.9" not in addresses
    assert addresses == ["127.0.0.1"]
    assert delivery.status == DeliveryStatus.failed
    assert delivery.last_status_code == 302
    assert "not followed" in (delivery.last_error or "")


async def test_a_stale_job_sends_nothing(fresh_database_url: URL) -> None:
    secret = new_secret()
    async with database(fresh_database_url) as db:
        with receiving(secret) as receiver:
            await db.endpoint(receiver.url, secret)
            await db.emit()
            (delivery,) = await db.deliveries()
            deps = JobDeps(
                session_factory=db.sessions,
                settings=worker_settings(fresh_database_url),
                clock=system_clock,
                random=random.Random(1).random,
            )
            assert await run_attempt(deps, delivery.id, 2) is None  # not the next attempt
            assert await run_attempt(deps, delivery.id + 1000, 1) is None  # no such delivery
            assert receiver.count() == 0
            assert await run_attempt(deps, delivery.id, 1) == DeliveryStatus.succeeded
            assert await run_attempt(deps, delivery.id, 1) is None  # made already
        assert receiver.count() == 1
