"""create_app(): the Starlette application with /graphql, the REST shim and middleware."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from opsgraph.api import MASKED_MESSAGE, schema
from opsgraph.auth.budget import CostBudget
from opsgraph.auth.tokens import TokenIssuer
from opsgraph.context import Context
from opsgraph.db import SessionFactory, create_engine, create_session_factory
from opsgraph.db.faults import (
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    DatabaseUnavailable,
    log_failure,
)
from opsgraph.log import configure_logging, valid_request_id
from opsgraph.rest.auth import revocation, token, wrong_method
from opsgraph.rest.graphiql import STATIC_PATH, explorer_page, static_files
from opsgraph.rest.graphql_http import GraphQLOverHTTP
from opsgraph.rest.graphql_protocol import error_body
from opsgraph.rest.health import health, ready
from opsgraph.rest.inbound import sales_webhook, update_state_webhook
from opsgraph.rest.openapi import openapi
from opsgraph.rest.shutdown import CancelledAtShutdown, watch_shutdown_signals
from opsgraph.rest.trusted_documents import TrustedDocuments
from opsgraph.settings import ConfigError, Settings, get_settings

log = logging.getLogger(__name__)


class GraphQLApp(GraphQLOverHTTP[Context, None]):
    """Strawberry's view held to GraphQL over HTTP (rest/graphql_http.py), with our context,
    persisted queries and trusted documents (rest/trusted_documents.py) and the offline
    GraphiQL explorer (rest/graphiql.py) for browsers."""

    masked_message = MASKED_MESSAGE

    def __init__(self, settings: Settings) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            allow_queries_via_get=True,
        )
        self.settings = settings
        self.documents = TrustedDocuments(settings)
        self.retry_after = settings.db_retry_after

    async def render_graphql_ide(self, request: Request) -> Response:
        return explorer_page(request, cdn=self.settings.graphiql_cdn)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context.of(request, response)


# on every response; Cache-Control only where the response sets none (GraphiQL's static
# files are cached for a year, under URLs that change with their content)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]
NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Adds ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` and, unless
    the response chose its own caching, ``Cache-Control: no-store`` to every HTTP response,
    error pages included (it wraps the whole app, outside the error handling)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (name, value)
                    for name, value in message.get("headers", [])
                    if name.lower() not in {b"x-content-type-options", b"referrer-policy"}
                ]
                headers.extend(SECURITY_HEADERS)
                if not any(name.lower() == NO_STORE[0] for name, _ in headers):
                    headers.append(NO_STORE)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class OpsgraphApp(Starlette):
    """Starlette, with ``SecurityHeaders`` around everything, the error handling too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


# methods answered 405 on POST-only routes in the route's own error shape
NOT_POST = ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]


def error_response(
    status: int, message: str, code: str, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(message, code), status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException
        return await _failure(request, exc)
    if exc.status_code == 404:
        return error_response(404, f"no route for {request.url.path}", "NOT_FOUND")
    return error_response(exc.status_code, str(exc.detail), "BAD_REQUEST", exc.headers)


async def _failure(request: Request, exc: Exception) -> Response:
    """Any route: a database that could not serve the request (or has not been migrated)
    is a 503 naming nothing internal (``opsgraph.db.faults``); anything else is a 500."""
    if log_failure(log, f"{request.method} {request.url.path}", exc):
        settings: Settings = request.app.state.settings
        return error_response(
            503,
            UNAVAILABLE_MESSAGE,
            UNAVAILABLE_CODE,
            {"Retry-After": str(settings.db_retry_after)},
        )
    return error_response(500, "Unexpected error.", "INTERNAL_SERVER_ERROR")


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client went away before it had sent its whole request: one line, no traceback."""
    log.info("client disconnected before sending its whole request: %s", request.url.path)
    return Response(status_code=400)


BOOTSTRAP_VARIABLES = {
    "username": "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME",
    "email": "OPSGRAPH_BOOTSTRAP_ADMIN_EMAIL",
    "password": "OPSGRAPH_BOOTSTRAP_ADMIN_PASSWORD",
}


async def bootstrap_admin(settings: Settings, session_factory: SessionFactory) -> None:
    """The admin of OPSGRAPH_BOOTSTRAP_ADMIN_*, when set: created unless its username
    exists. Logs one line: created, or already present (its password not changed); a
    refusal is a ConfigError naming the reason and the variable to fix."""
    username = settings.bootstrap_admin_username
    if not username:
        return
    from opsgraph.errors import DomainError
    from opsgraph.services.user import Bootstrap, ensure_bootstrap_admin

    name = username.strip().lower()
    try:
        async with session_factory() as session, session.begin():
            outcome = await ensure_bootstrap_admin(
                session,
                username=username,
                email=settings.bootstrap_admin_email,
                password=settings.bootstrap_admin_password,
                settings=settings,
            )
    except DomainError as exc:
        field = exc.field[-1] if exc.field else ""
        fix = BOOTSTRAP_VARIABLES.get(field, "OPSGRAPH_BOOTSTRAP_ADMIN_*")
        raise ConfigError(f"bootstrap admin {name!r} refused: {exc.message}; fix {fix}") from None
    if outcome is Bootstrap.CREATED:
        log.info("bootstrap admin %r created", name)
    elif outcome is Bootstrap.PRESENT:
        log.info("bootstrap admin %r already present; its password was not changed", name)
    else:
        log.warning(
            "bootstrap admin %r already present without the admin role; its password and "
            "roles were not changed (give it the role with userAssignRole, or pick another "
            "OPSGRAPH_BOOTSTRAP_ADMIN_USERNAME)",
            name,
        )


def _start_worker(settings: Settings) -> Callable[[], Awaitable[None]]:
    """Run a job worker beside the server (``worker_in_serve``), so that ``make run``
    delivers webhooks with nothing else started; what stops it gracefully."""
    if not settings.worker_in_serve:
        return _nothing
    from opsgraph.jobs.worker import QueueWorker

    worker = QueueWorker(settings, name="opsgraph-serve")
    running = asyncio.create_task(worker.run(), name="job worker")

    def report(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error(
                "the job worker stopped: %r; jobs wait for `opsgraph worker`", task.exception()
            )

    running.add_done_callback(report)

    async def stop() -> None:
        worker.stop()
        with contextlib.suppress(Exception):  # reported when it stopped
            await running

    return stop


async def _nothing() -> None:
    return None


def create_app(
    settings: Settings | None = None,
    *,
    session_factory: SessionFactory | None = None,
) -> Starlette:
    """Build the app. Tests pass a session factory bound to their own transaction."""
    settings = settings or get_settings()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        if session_factory is not None:
            app.state.session_factory = session_factory
            yield {}
            return
        if not settings.database_url:
            raise ConfigError(
                "OPSGRAPH_DATABASE_URL is not set; start with `opsgraph serve`, which starts "
                "the embedded PostgreSQL"
            )
        engine = create_engine(settings.database_url, settings)
        app.state.session_factory = create_session_factory(engine)
        await bootstrap_admin(settings, app.state.session_factory)
        # Everything loaded so far (modules, the schema) lives as long as the process:
        # keep it out of the garbage collector's full passes, which otherwise walk it all
        # while a large response is being built (`make bench`: p95 318 -> 199 ms).
        gc.freeze()
        stop_watching = watch_shutdown_signals(app.state)
        stop_worker = _start_worker(settings)
        try:
            yield {}
        finally:
            stop_watching()
            await stop_worker()
            await engine.dispose()

    middleware = [
        # the client is the connecting address, or what a trusted proxy says it is
        Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies),
        Middleware(CancelledAtShutdown),
        Middleware(
            CorrelationIdMiddleware,
            header_name="X-Request-ID",
            validator=valid_request_id,
        ),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=settings.cors_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key"],
                expose_headers=["X-Request-ID"],
                max_age=600,
            )
        )
    app = OpsgraphApp(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", ready, methods=["GET"]),
            # every method reaches the view, which answers 405 with Allow: GET, POST itself
            Route("/graphql", GraphQLApp(settings)),
            Route("/auth/token", token, methods=["POST"]),
            Route("/auth/token", wrong_method, methods=NOT_POST, include_in_schema=False),
            Route("/auth/revoke", revocation, methods=["POST"]),
            Route("/auth/revoke", wrong_method, methods=NOT_POST, include_in_schema=False),
            Route("/v1/sales-webhook", sales_webhook, methods=["POST"]),
            Route("/v1/update-state-webhook/{purchase_id}", update_state_webhook, methods=["POST"]),
            Route("/openapi.json", openapi, methods=["GET"], include_in_schema=False),
            Mount(STATIC_PATH, app=static_files(), name="graphql-static"),
        ],
        middleware=middleware,
        exception_handlers={
            HTTPException: _http_error,
            ClientDisconnect: _client_gone,
            # the database's own errors are answered inside the middleware (and end there);
            # any other exception reaches Starlette's outermost handler, which answers the
            # same way and then re-raises it for the server
            DBAPIError: _failure,
            PoolTimeout: _failure,
            DatabaseUnavailable: _failure,
            Exception: _failure,
        },
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.draining = False  # set on SIGTERM/SIGINT: /ready answers 503 from then on
    app.state.token_issuer = TokenIssuer(settings)  # also checks the signing key
    app.state.cost_budget = CostBudget.from_settings(settings)  # also checks its store
    if session_factory is not None:
        app.state.session_factory = session_factory
    return app
