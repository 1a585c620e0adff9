"""Application wiring: CORS, logging, masking of unexpected errors."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from sqlalchemy import URL, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine
from starlette.requests import Request
from starlette.responses import Response

from opsgraph.app import create_app
from opsgraph.log import configure_logging
from opsgraph.settings import ConfigError
from tests.conftest import make_settings


async def test_cors_allows_configured_origins_only(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    settings = make_settings(cors_origins=["https://dash.example"])
    app = create_app(settings, session_factory=session_factory)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        ok = await client.get("/health", headers={"Origin": "https://dash.example"})
        assert ok.headers["access-control-allow-origin"] == "https://dash.example"
        other = await client.get("/health", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_unexpected_error_is_masked_json(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from opsgraph.schema import resolve

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(resolve, "page_of_all", boom)
    response = await client.post("/graphql", json={"query": "{ customers { totalCount } }"})
    assert response.status_code == 200
    body = response.json()
    assert body["errors"][0]["message"] == "Unexpected error."
    assert "secret internals" not in response.text


async def test_ready_reports_an_unreachable_database(
    session_factory: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(make_settings(), session_factory=session_factory)

    def broken() -> None:
        raise OSError("secret internals")

    monkeypatch.setattr(app.state, "session_factory", broken)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "database is unreachable"
    assert "secret internals" not in response.text


async def test_unhandled_rest_error_is_json_500(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    app = create_app(make_settings(), session_factory=session_factory)

    async def boom(request: Request) -> Response:
        raise RuntimeError("secret internals")

    app.add_route("/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "secret internals" not in response.text


def test_json_logs_carry_the_request_id(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(make_settings(log_format="json"))
    logging.getLogger("opsgraph.test").warning("hello %s", "world")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["message"] == "hello world"
    assert record["level"] == "WARNING"
    assert record["request_id"] == "-"
    assert "time" in record
    configure_logging(make_settings())


async def test_lifespan_needs_a_database_url() -> None:
    app = create_app(make_settings(None))
    with pytest.raises(ConfigError, match="OPSGRAPH_DATABASE_URL"):
        async with app.router.lifespan_context(app):
            pass


async def test_lifespan_creates_and_disposes_the_engine(database_url: object) -> None:
    app = create_app(make_settings(database_url))  # type: ignore[arg-type]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/ready")).status_code == 200


BOOTSTRAP = {
    "bootstrap_admin_username": "Root",
    "bootstrap_admin_email": "root@example.com",
    "bootstrap_admin_password": "long enough password",
    "bcrypt_rounds": 4,
}


async def _admins(url: URL) -> list[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.scalars(
            text(
                'SELECT u.username FROM "user" u JOIN user_role ur ON ur.user_id = u.id '
                "JOIN role r ON r.id = ur.role_id WHERE r.name = 'admin'"
            )
        )
        admins = list(names)
    await engine.dispose()
    return admins


async def test_bootstrap_admin_is_created_once(fresh_database_url: URL) -> None:
    for _ in range(2):  # the second start finds the admin and creates nothing
        app = create_app(make_settings(fresh_database_url, **BOOTSTRAP))
        async with app.router.lifespan_context(app):
            pass
    assert await _admins(fresh_database_url) == ["root"]
    with pytest.raises(ValueError, match="set all three or none"):
        make_settings(fresh_database_url, bootstrap_admin_username="x")


async def test_a_weak_bootstrap_password_stops_the_start(fresh_database_url: URL) -> None:
    weak = {**BOOTSTRAP, "bootstrap_admin_password": "short"}
    app = create_app(make_settings(fresh_database_url, **weak))
    with pytest.raises(ConfigError, match="at least 10 characters"):
        async with app.router.lifespan_context(app):
            pass
    assert await _admins(fresh_database_url) == []
