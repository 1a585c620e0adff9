"""A real webhook receiver for the delivery tests: an HTTP server on 127.0.0.1 (port 0)
that verifies every request with ``standardwebhooks`` and records what it got.

``answer(n)`` says how to answer the n-th request (0-based): a status code and headers.
``clock`` (optional) is read at each request, so a test with a controlled clock sees when,
on that clock, each attempt arrived. ``connections`` counts accepted TCP connections.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

Answer = Callable[[int], tuple[int, dict[str, str]]]


def always(status: int) -> Answer:
    return lambda n: (status, {})


OK: Answer = always(200)


def fail_first(failures: int, status: int = 500) -> Answer:
    return lambda n: (status, {}) if n < failures else (200, {})


@dataclass(frozen=True)
class Received:
    webhook_id: str
    event_id: str | None
    verified: bool
    status: int
    at: dt.datetime | None
    host: str = ""


class Receiver:
    def __init__(
        self,
        secret: str,
        answer: Answer = OK,
        clock: Callable[[], dt.datetime] | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.secret = secret
        self.answer = answer
        self.clock = clock
        self.received: list[Received] = []
        self.connections = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                receiver.handle(self, body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def verify_request(self, request: Any, client_address: Any) -> bool:
                with receiver.lock:
                    receiver.connections += 1
                return True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, handler: BaseHTTPRequestHandler, body: bytes) -> None:
        headers = {name.lower(): value for name, value in handler.headers.items()}
        try:
            payload = Webhook(self.secret).verify(body.decode(), headers)
            verified = True
        except WebhookVerificationError:
            payload = json.loads(body)
            verified = False
        with self.lock:
            status, extra = self.answer(len(self.received))
            self.received.append(
                Received(
                    webhook_id=headers.get("webhook-id", ""),
                    event_id=payload.get("id"),
                    verified=verified,
                    status=status,
                    at=self.clock() if self.clock else None,
                    host=headers.get("host", ""),
                )
            )
        answer = b'{"ok": false}' if status >= 300 else b""
        handler.send_response(status)
        for name, value in extra.items():
            handler.send_header(name, value)
        handler.send_header("content-length", str(len(answer)))
        handler.end_headers()
        handler.wfile.write(answer)

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def snapshot(self) -> list[Received]:
        with self.lock:
            return list(self.received)


@contextmanager
def receiving(
    secret: str,
    answer: Answer = OK,
    clock: Callable[[], dt.datetime] | None = None,
    tls: ssl.SSLContext | None = None,
) -> Iterator[Receiver]:
    receiver = Receiver(secret, answer, clock, tls)
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(5)


class Listener:
    """A TCP port on 127.0.0.1 that only counts the connections made to it."""

    def __init__(self) -> None:
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.socket.setblocking(False)
        self.port = self.socket.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                connection, _ = self.socket.accept()
            except BlockingIOError:
                return count
            connection.close()
            count += 1

    def close(self) -> None:
        self.socket.close()
