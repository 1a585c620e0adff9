"""The per-request context every resolver receives."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Executable
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from opsgraph.auth.budget import CostBudget, CostReport, caller_key
from opsgraph.auth.principal import Principal
from opsgraph.auth.tokens import TokenIssuer
from opsgraph.db import SessionFactory
from opsgraph.errors import (
    BudgetExceeded,
    DomainError,
    InvalidCredentials,
    TooManyAttempts,
    Unauthenticated,
)
from opsgraph.loaders import Loaders
from opsgraph.loaders.sql import Scope
from opsgraph.settings import Settings

if TYPE_CHECKING:
    from opsgraph.services.auth import SignedIn

_UNRESOLVED: Any = object()


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    session_factory: SessionFactory
    # Strawberry resolves sibling fields concurrently; reads take turns on this lock so a
    # session (and, in tests, the one shared connection) is never used by two at once.
    _read_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    issuer: TokenIssuer | None = None  # the app's; made from the settings when not given
    # the callers' cost budgets (the app's); None: no budgets
    budget: CostBudget | None = None
    # what the operation costs, and what the caller has left (extensions.cost)
    cost: CostReport | None = field(default=None, init=False)
    loaders: Loaders = field(init=False)
    # how the query was read: "compiled" (opsgraph.execution) or "resolvers"
    read_path: str = field(default="resolvers", init=False)
    _principal: Any = field(default=_UNRESOLVED, init=False)
    # the signed-in session of the access token, when the request sent one
    session_id: uuid.UUID | None = field(default=None, init=False)
    # The request's own session, when it has one: a request with an Idempotency-Key
    # runs in one transaction (opsgraph.rest.idempotency), and a dry run keeps its
    # transaction open until its payload is read. While set, every read and write of
    # the request goes through it (mutations in savepoints of it).
    pinned: AsyncSession | None = field(default=None, init=False)
    # dry runs' transactions (savepoints, or the pinned session's own), rolled back by
    # ``settle`` once their payload has been read
    _dry_runs: list[Any] = field(default_factory=list, init=False)

    @classmethod
    def of(cls, request: Request | WebSocket, response: Response | WebSocket | None) -> Context:
        """The context of a request to the app (``create_app`` puts what it needs on
        ``app.state``)."""
        state = request.app.state
        return cls(
            request=request,
            response=response,
            settings=state.settings,
            session_factory=state.session_factory,
            issuer=state.token_issuer,
            budget=getattr(state, "cost_budget", None),
        )

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.fetch, self.scope)
        if self.issuer is None:
            self.issuer = TokenIssuer(self.settings)

    @property
    def tokens(self) -> TokenIssuer:
        assert self.issuer is not None  # noqa: S101 - set in __post_init__
        return self.issuer

    @property
    def client_address(self) -> str:
        client = self.request.client
        return client.host if client is not None else "unknown"

    async def principal(self) -> Principal | None:
        """Who sent the request (None: no credentials). Credentials that don't hold up
        raise ``Unauthenticated``, always the same error."""
        if self._principal is _UNRESOLVED:
            self._principal = await self._authenticate()
        principal: Principal | None = self._principal
        return principal

    def anonymous(self) -> None:
        """Serve the request without looking at its credentials (it selects only public
        fields: a stale token must not stop a login)."""
        if self._principal is _UNRESOLVED:
            self._principal = None

    def scope(self) -> Scope | None:
        """The row scope of the caller: set for a customer-portal principal (linked to a
        customer or not), else None. Rows are read only once the guard knows the caller;
        earlier is a bug, and fails."""
        if self._principal is _UNRESOLVED:
            raise RuntimeError("rows read before the caller is known")
        principal: Principal | None = self._principal
        return Scope.of(principal)

    async def spend(self, report: CostReport) -> None:
        """Spend what the operation costs from its caller's budget (``BudgetExceeded`` when
        it does not fit), noting what is left in ``report``. The caller must be known:
        the guard has checked the operation."""
        if self.budget is None:
            return
        if self._principal is _UNRESOLVED:
            raise RuntimeError("budget spent before the caller is known")
        caller = caller_key(self._principal, self.client_address)
        try:
            report.remaining = await self.budget.spend(caller, report.requested)
        except BudgetExceeded as exceeded:
            report.remaining = exceeded.remaining
            raise

    async def require_principal(self) -> Principal:
        principal = await self.principal()
        if principal is None:
            raise Unauthenticated()
        return principal

    async def login(self, username: str, password: str) -> SignedIn | DomainError:
        """Run the login service in its own transaction. A refused attempt is returned,
        not raised: it was recorded (throttling, audit) and that must be committed."""
        from opsgraph.services.auth import login

        failure: DomainError | None = None
        async with self.transaction() as session:
            try:
                return await login(
                    session,
                    username=username,
                    password=password,
                    client_address=self.client_address,
                    settings=self.settings,
                    issuer=self.tokens,
                )
            except (InvalidCredentials, TooManyAttempts) as error:
                failure = error
        return failure

    async def refresh(self, refresh_token: str) -> SignedIn | None:
        """Spend a refresh token in its own transaction (``tokenRefresh`` and
        ``/auth/token``): new tokens, or None when it is not valid. A spent token presented
        again ends its session, and that is committed."""
        from opsgraph.services.auth import refresh

        async with self.transaction() as session:
            return await refresh(
                session, refresh_token=refresh_token, settings=self.settings, issuer=self.tokens
            )

    async def _authenticate(self) -> Principal | None:
        """``Authorization: Bearer <access token or API key>``, or ``Client-Secret: <API
        key>`` (what clients of the old mock API send); both at once is refused. An access
        token issued to an API key acts as that key."""
        from opsgraph.services.api_key import (
            looks_like_api_key,
            principal_for_api_key,
            principal_for_api_key_token,
        )
        from opsgraph.services.auth import principal_for_token

        header = self.request.headers.get("authorization")
        client_secret = self.request.headers.get("client-secret")
        if header is None and client_secret is None:
            return None
        if header is not None and client_secret is not None:
            raise Unauthenticated()
        if header is not None:
            scheme, _, credentials = header.strip().partition(" ")
            credentials = credentials.strip()
            if scheme.lower() != "bearer" or not credentials:
                raise Unauthenticated()
        else:
            credentials = (client_secret or "").strip()
        if looks_like_api_key(credentials):
            async with self.transaction() as session:  # commits lastUsedAt
                return await principal_for_api_key(session, key=credentials)
        if client_secret is not None:
            raise Unauthenticated()
        verified = self.tokens.verify(credentials)
        if verified.api_key_id is not None:  # issued to an API key: acts as the key
            async with self.transaction() as session:  # commits lastUsedAt
                return await principal_for_api_key_token(
                    session, api_key_id=verified.api_key_id, user_id=verified.user_id
                )
        assert verified.session_id is not None  # noqa: S101 - a token names one of the two
        self.session_id = verified.session_id
        async with self.read_session() as session:
            return await principal_for_token(
                session, user_id=verified.user_id, session_id=verified.session_id
            )

    async def fetch(self, statement: Executable) -> Sequence[Any]:
        """Run one read statement and return all its rows."""
        async with self.read_session() as session:
            result = await session.execute(statement)
            return result.all()

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """A session for a service call that reads; it takes its turn like the loaders."""
        async with self._read_lock:
            if self.pinned is not None:
                yield self.pinned
                return
            async with self.session_factory() as session:
                yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session in a transaction for a service call that writes: committed when the
        block ends, rolled back when it raises. In a request with its own session, a
        savepoint of it (committed with the request)."""
        await self.settle()
        async with self.read_session() as session:
            if self.pinned is not None:
                async with session.begin_nested():
                    yield session
            else:
                async with session.begin():
                    yield session

    @asynccontextmanager
    async def dry_run(self) -> AsyncIterator[AsyncSession]:
        """Like ``transaction``, but nothing is kept: the changes stay visible to this
        request until its payload has been read, then ``settle`` rolls them back."""
        await self.settle()
        async with self._read_lock:
            if self.pinned is None:
                self.pinned = self.session_factory()
                self._dry_runs.append(self.pinned)
            session = self.pinned
            savepoint = await session.begin_nested()
            self._dry_runs.append(savepoint)
            try:
                yield session
            except BaseException:
                await savepoint.rollback()
                raise

    async def settle(self) -> None:
        """Roll back the dry runs whose payloads have been read (before the next mutation
        of the operation, and when the operation ends)."""
        while self._dry_runs:
            undo = self._dry_runs.pop()
            if isinstance(undo, AsyncSession):
                await undo.rollback()
                await undo.close()
                self.pinned = None
            elif undo.is_active:
                await undo.rollback()
