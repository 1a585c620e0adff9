"""Liveness and readiness for operators and orchestrators."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from opsgraph.db.faults import describe
from opsgraph.db.migrations import head_revision
from opsgraph.version import __version__

log = logging.getLogger(__name__)
READY_TIMEOUT_SECONDS = 3.0


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


async def health(request: Request) -> JSONResponse:
    """The process is up. Touches no database, so a slow database never fails liveness.
    ---
    summary: Liveness
    responses:
      "200":
        description: The process is up.
        content:
          application/json:
            schema:
              type: object
              properties:
                status: {type: string, enum: [ok]}
                version: {type: string}
                time: {type: string, format: date-time}
    """
    return JSONResponse({"status": "ok", "version": __version__, "time": _now()})


async def ready(request: Request) -> JSONResponse:
    """200 when the database answers and its schema is at the migrations' head, else 503;
    503 at once, too, when the server has been told to shut down.
    ---
    summary: Readiness
    responses:
      "200":
        description: The database answers and is migrated.
        content:
          application/json:
            schema:
              type: object
              properties:
                status: {type: string, enum: [ready]}
                version: {type: string}
                time: {type: string, format: date-time}
                revision: {type: string}
      "503":
        description: Not ready (the reason says why), or shutting down.
        content:
          application/json:
            schema:
              type: object
              properties:
                status: {type: string, enum: [unavailable]}
                reason: {type: string}
                version: {type: string}
                time: {type: string, format: date-time}
    """
    if request.app.state.draining:
        return _not_ready("the server is shutting down")
    expected = head_revision()
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with request.app.state.session_factory() as session:
                current = await session.scalar(text("SELECT version_num FROM alembic_version"))
    except TimeoutError:
        return _not_ready("database did not answer within 3 seconds")
    except Exception as exc:
        log.warning("readiness check failed: %s", describe(exc))
        reason = (
            "database schema is not migrated"
            if "alembic_version" in str(exc)
            else ("database is unreachable")
        )
        return _not_ready(reason)
    if current != expected:
        return _not_ready(
            f"database schema is at revision {current}, migrations head is {expected}: "
            "run `opsgraph migrate`"
        )
    return JSONResponse(
        {"status": "ready", "version": __version__, "time": _now(), "revision": current}
    )


def _not_ready(reason: str) -> JSONResponse:
    return JSONResponse(
        {"status": "unavailable", "reason": reason, "version": __version__, "time": _now()},
        status_code=503,
    )
