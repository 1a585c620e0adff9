"""What the user, role and API key tests share: an app with cheap bcrypt, callers that
sign in explicitly, and helpers to read the database directly."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import URL, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from opsgraph.app import create_app
from opsgraph.graph.ids import to_global_id
from opsgraph.models import AuditEvent
from opsgraph.services.user import create_user
from tests.conftest import make_settings

PASSWORD = "correct horse battery"
LOGIN = """mutation($u: String!, $p: String!) { login(input: {username: $u, password: $p}) {
  tokens { accessToken } errors { code } } }"""


class Api:
    """GraphQL over HTTP as a client that accepts only JSON (always 200 when well formed)."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = {"Accept": "application/json", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
        """The ``data`` of a request that must not fail at the top level."""
        body = await self(query, variables, **kw)
        assert "errors" not in body, body
        return body["data"]

    async def login(self, username: str, password: str = PASSWORD) -> str:
        data = await self.data(LOGIN, {"u": username, "p": password})
        assert data["login"]["errors"] == [], data
        token: str = data["login"]["tokens"]["accessToken"]
        return token


def top_code(body: dict[str, Any]) -> str:
    """The code of a request's one top-level error."""
    assert body.get("data") is None, body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


MakeApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def make_api(
    database_url: URL, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[MakeApi]:
    """``await make_api(**settings)``: a client of an app with those settings (bcrypt at
    cost 4), sharing the test's rolled-back transaction."""
    async with AsyncExitStack() as stack:

        async def make(**overrides: Any) -> Api:
            settings = make_settings(database_url, **{"bcrypt_rounds": 4, **overrides})
            app = create_app(settings, session_factory=session_factory)
            http = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            )
            return Api(http)

        yield make


@pytest.fixture
async def api(make_api: MakeApi) -> Api:
    return await make_api()


async def make_user(
    session: AsyncSession, username: str, roles: list[str], *, password: str = PASSWORD
) -> int:
    user = await create_user(
        session,
        username=username,
        email=f"{username}@example.com",
        password=password,
        roles=roles,
        password_rounds=4,
    )
    return user.id


@dataclass
class Caller:
    id: int
    gid: str  # global id
    token: str


async def sign_in(api: Api, session: AsyncSession, username: str, roles: list[str]) -> Caller:
    """A new user with ``roles``, signed in."""
    user_id = await make_user(session, username, roles)
    return Caller(user_id, to_global_id("User", user_id), await api.login(username))


@pytest.fixture
async def admin(api: Api, session: AsyncSession) -> Caller:
    return await sign_in(api, session, "root", ["admin"])


async def audit_events(session: AsyncSession, action: str) -> list[AuditEvent]:
    found = await session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    )
    return list(found.all())


async def count(session: AsyncSession, model: Any, *where: Any) -> int:
    return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
