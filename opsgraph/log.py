"""Logging: JSON lines in production, readable lines in development, a request id on each."""

from __future__ import annotations

import logging
import re
import sys

from asgi_correlation_id import CorrelationIdFilter
from pythonjsonlogger.json import JsonFormatter

from opsgraph.db.embedded import quiet_library_logs
from opsgraph.settings import Settings

REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CONSOLE_FORMAT = "%(asctime)s %(levelname)-7s [%(correlation_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(correlation_id)s"


def valid_request_id(value: str) -> bool:
    """Client-sent X-Request-ID values are kept when short and plain, replaced otherwise."""
    return bool(REQUEST_ID_PATTERN.match(value))


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(CorrelationIdFilter(default_value="-"))
    if settings.json_logs:
        handler.setFormatter(
            JsonFormatter(
                JSON_FIELDS,
                rename_fields={
                    "asctime": "time",
                    "levelname": "level",
                    "name": "logger",
                    "correlation_id": "request_id",
                },
                timestamp=False,
            )
        )
    else:
        handler.setFormatter(logging.Formatter(CONSOLE_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # uvicorn's own loggers go through ours, so every line has the same shape
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    quiet_library_logs()
