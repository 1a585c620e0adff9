"""Idempotency keys for mutation requests (``Idempotency-Key``, scoped to the caller).

A request with a key runs in one transaction of its own, which starts by inserting the
key's row and ends by storing the response in it; the request's mutations run in
savepoints of that transaction. So the key and the changes commit together or not at
all: a key is either unused or done with its response, never half. A repeat that arrives
while the first runs waits on the key's unique index until the first commits (then it
gets the stored response) or rolls back (then it runs itself); after the configured wait
it gets ``IDEMPOTENCY_IN_PROGRESS``. The same key with another operation or variables is
``IDEMPOTENCY_KEY_REUSED``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.errors import IdempotencyInProgress, IdempotencyKeyReused, InvalidInput
from opsgraph.models import IdempotencyKey

MAX_KEY_LENGTH = 255
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout ran out
PURGE_BATCH = 100


def check_key(raw: str) -> str:
    """The key as sent: 1-255 visible ASCII characters (no spaces around it)."""
    key = raw.strip()
    if not 0 < len(key) <= MAX_KEY_LENGTH or not all(33 <= ord(c) <= 126 for c in key):
        raise InvalidInput(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
        )
    return key


def scope_of(principal: Principal) -> str:
    """Whose keys: an API key's own, else the user's (keys of two callers never meet)."""
    if principal.api_key_id is not None:
        return f"api_key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def request_hash(query: str | None, operation_name: str | None, variables: Any) -> str:
    """What must match for a repeat: the document, the operation and the variables."""
    request = {"query": query or "", "operationName": operation_name, "variables": variables or {}}
    try:
        canonical = orjson.dumps(request, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # an unpaired surrogate (refused when the operation is checked): escaped instead
        canonical = json.dumps(request, sort_keys=True).encode("ascii")
    return hashlib.sha256(canonical).hexdigest()


@dataclass(frozen=True)
class Claim:
    """The outcome of ``claim``: ``owned`` (run the request, then ``store``) or the
    ``response`` stored by the request that used the key first."""

    owned: bool
    response: dict[str, Any] | None = None


async def claim(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    digest: str,
    ttl: dt.timedelta,
    wait_seconds: float,
) -> Claim:
    """Take the key in ``session``'s transaction (which must stay open until ``store``).

    Raises ``IdempotencyInProgress`` when the first request still runs after
    ``wait_seconds``, ``IdempotencyKeyReused`` when the key was used for another request.
    """
    await _purge_expired(session, scope=scope, key=key)
    await session.execute(text(f"SET LOCAL lock_timeout = '{int(wait_seconds * 1000)}ms'"))
    try:
        taken = await session.scalar(
            insert(IdempotencyKey)
            .values(
                scope=scope,
                key=key,
                request_hash=digest,
                response={},
                expires_at=dt.datetime.now(dt.UTC) + ttl,
            )
            .on_conflict_do_nothing(index_elements=["scope", "key"])
            .returning(IdempotencyKey.key)
        )
    except DBAPIError as error:
        if getattr(error.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
            raise IdempotencyInProgress(
                "a request with this Idempotency-Key is still running; retry once it has finished"
            ) from None
        raise
    await session.execute(text("SET LOCAL lock_timeout TO DEFAULT"))
    if taken is not None:
        return Claim(owned=True)
    stored = (
        await session.execute(
            select(IdempotencyKey.request_hash, IdempotencyKey.response).where(
                IdempotencyKey.scope == scope, IdempotencyKey.key == key
            )
        )
    ).one()
    if stored.request_hash != digest:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used for a different operation or variables; "
            "use a new key for a new request"
        )
    return Claim(owned=False, response=stored.response)


async def store(session: AsyncSession, *, scope: str, key: str, response: dict[str, Any]) -> None:
    """Keep the response of the request that owns the key (committed with its changes)."""
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
        .values(response=response)
    )


async def _purge_expired(session: AsyncSession, *, scope: str, key: str) -> None:
    """Forget this key if it expired, and a batch of other expired keys on the way."""
    now = dt.datetime.now(dt.UTC)
    await session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.scope == scope,
            IdempotencyKey.key == key,
            IdempotencyKey.expires_at <= now,
        )
    )
    batch = (
        select(IdempotencyKey.scope, IdempotencyKey.key)
        .where(IdempotencyKey.expires_at <= now)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    expired = (await session.execute(batch)).all()
    if expired:
        pairs = [(row.scope, row.key) for row in expired]
        await session.execute(
            delete(IdempotencyKey).where(
                tuple_(IdempotencyKey.scope, IdempotencyKey.key).in_(pairs)
            )
        )
