from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.version import __version__


async def test_health_reports_status_version_and_time(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"] == __version__
    assert dt.datetime.fromisoformat(body["time"]).tzinfo is not None


async def test_ready_when_migrated(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"


async def test_not_ready_when_behind_head(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await session.execute(text("UPDATE alembic_version SET version_num = 'old'"))
    await session.flush()
    response = await client.get("/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert "old" in body["reason"]


async def test_not_ready_when_unmigrated(client: httpx.AsyncClient, session: AsyncSession) -> None:
    await session.execute(text("DROP TABLE alembic_version"))
    await session.flush()
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "database schema is not migrated"


async def test_request_id_is_generated_and_echoed(client: httpx.AsyncClient) -> None:
    generated = await client.get("/health")
    assert len(generated.headers["X-Request-ID"]) == 32
    echoed = await client.get("/health", headers={"X-Request-ID": "trace-abc.123"})
    assert echoed.headers["X-Request-ID"] == "trace-abc.123"
    hostile = await client.get("/health", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["X-Request-ID"] != "x" * 500


async def test_unknown_route_is_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nope")
    assert response.status_code == 404
    assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_wrong_method_is_json_405(client: httpx.AsyncClient) -> None:
    response = await client.post("/health")
    assert response.status_code == 405
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
