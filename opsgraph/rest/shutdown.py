"""Shutdown drain: what the app does between SIGTERM and exit.

uvicorn stops accepting connections on SIGTERM (or SIGINT), lets the requests in flight
finish for ``OPSGRAPH_SHUTDOWN_DRAIN_SECONDS`` (its ``timeout_graceful_shutdown``), then
cancels the rest and runs the lifespan's shutdown. The app adds two things:

* ``watch_shutdown_signals`` marks the app as draining the moment the signal arrives, so
  ``/ready`` answers 503 at once (then hands the signal on to uvicorn's handler);
* ``CancelledAtShutdown`` answers a request cancelled at the deadline with a plain 503
  and one log line, instead of a traceback and a bare 500.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opsgraph.rest.auth import oauth_error_body
from opsgraph.rest.graphql_protocol import error_body

log = logging.getLogger(__name__)

SHUTDOWN_SIGNALS = (signal.SIGTERM, signal.SIGINT)
SHUTTING_DOWN = "The server is shutting down; try again shortly."
OAUTH_PREFIX = "/auth/"  # /auth/token, /auth/revoke


def watch_shutdown_signals(state: Any) -> Callable[[], None]:
    """Set ``state.draining`` when SIGTERM or SIGINT arrives, then let the handler that was
    there before (uvicorn's) do its part. Returns the function that puts it back."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach the main thread only
    previous = {sig: signal.getsignal(sig) for sig in SHUTDOWN_SIGNALS}

    def handler(sig: int, frame: FrameType | None) -> None:
        state.draining = True
        before = previous[signal.Signals(sig)]
        if callable(before):
            before(sig, frame)
        elif before == signal.SIG_DFL:
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    for sig in SHUTDOWN_SIGNALS:
        signal.signal(sig, handler)

    def restore() -> None:
        for sig, before in previous.items():
            if signal.getsignal(sig) is handler:
                signal.signal(sig, before)

    return restore


class CancelledAtShutdown:
    """ASGI middleware: a request still running when the drain deadline passes is
    cancelled by the server; answer it 503 (when nothing was sent yet) and log one line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except asyncio.CancelledError:
            if not getattr(scope["app"].state, "draining", False):
                raise
            log.warning(
                "%s %s cancelled: still running at the shutdown deadline",
                scope["method"],
                scope["path"],
            )
            if not started:
                await _unavailable(send, scope["path"])


async def _unavailable(send: Send, path: str) -> None:
    """503 in the shape of the route: RFC 6749's for the OAuth2 routes, GraphQL's else."""
    if path.startswith(OAUTH_PREFIX):
        shape: object = oauth_error_body("temporarily_unavailable", SHUTTING_DOWN)
    else:
        shape = error_body(SHUTTING_DOWN, "SHUTTING_DOWN")
    body = orjson.dumps(shape)
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"5"),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
