"""uvicorn's httptools protocol with limits on how a request's head arrives.

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but waits forever for
the headers of a request that has begun, and httptools sets no size limit on them: a
client could hold connections open by sending a few bytes at a time. Here the request
line and headers must arrive within ``OPSGRAPH_HTTP_HEADER_TIMEOUT`` seconds of the
connection opening (or of the next request beginning on a kept-alive connection), else
the connection is closed; and they may not exceed ``OPSGRAPH_HTTP_MAX_HEADER_BYTES``
(uvicorn's ``h11_max_incomplete_event_size``), else the answer is 400.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from opsgraph.settings import get_settings

log = logging.getLogger(__name__)
DEFAULT_MAX_HEADER_BYTES = 64 * 1024


class HeadersTooLarge(Exception):
    pass


class LimitedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.header_timeout = get_settings().http_header_timeout
        self.max_header_bytes = config.h11_max_incomplete_event_size or DEFAULT_MAX_HEADER_BYTES
        self.header_bytes = 0
        self.header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.header_bytes = 0
        if self.header_timer is None:
            self._arm()  # the next request on a kept-alive connection

    def on_url(self, url: bytes) -> None:
        self._count(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def _count(self, size: int) -> None:
        self.header_bytes += size
        if self.header_bytes > self.max_header_bytes:
            raise HeadersTooLarge  # httptools reports it as a parser error: 400

    def _arm(self) -> None:
        self._disarm()
        self.header_timer = self.loop.call_later(self.header_timeout, self._expired)

    def _disarm(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _expired(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            log.info("closed a connection that sent no complete request headers in time")
            self.transport.close()
