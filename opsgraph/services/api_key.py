"""API keys for integrations: created with a secret shown once, revoked, listed, and the
principal a key acts as.

A key reads ``og_<prefix>_<secret>``. The prefix (10 letters and digits) is public and
unique: it finds the row. Only the SHA-256 of the secret is stored (256 random bits need
no slow hash) and compared in constant time. A key acts for the user who created it,
with its scopes intersected with that user's permissions *now*: a key can never do more
than its creator, and shrinks when the creator loses a role.

An admin may bind a key to whom it speaks for to the inbound webhooks: a regional office
(a customer) or a manufacturer (a brand name); its principal carries the binding
(``office_id``, ``manufacturer``), which the services scope its writes to.

A key is also an OAuth2 client (``POST /auth/token``, client credentials grant): its
prefix is the client id, the whole key the client secret; the access token issued acts as
the key (``principal_for_api_key_token``).
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import string
from dataclasses import dataclass
from typing import Final

from sqlalchemy import ColumnElement, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.principal import Principal
from opsgraph.auth.tokens import hash_secret
from opsgraph.errors import Forbidden, InvalidInput, InvalidState, NotFound, Unauthenticated
from opsgraph.graph.names import name_of, named
from opsgraph.models import ApiKey, Customer, RolePermission, User, UserRole
from opsgraph.permissions import Permission
from opsgraph.services.audit import audit
from opsgraph.services.checks import InputChecks, checked_text
from opsgraph.services.role import check_grantable, checked_permissions
from opsgraph.services.rows import locked

KEY_MARK: Final = "og_"
PREFIX_LENGTH: Final = 10
PREFIX_ALPHABET: Final = string.ascii_letters + string.digits
SECRET_BYTES: Final = 32
MAX_NAME: Final = 100
MAX_MANUFACTURER: Final = 64
KEY_PATTERN: Final = re.compile(r"^og_([A-Za-z0-9]{6,16})_([A-Za-z0-9_-]{16,128})$")
# lastUsedAt is written at most this often per key, not on every request
TOUCH_INTERVAL: Final = dt.timedelta(minutes=1)


def looks_like_api_key(credentials: str) -> bool:
    """Whether a credential is meant as an API key (access tokens are JWTs: ``eyJ...``)."""
    return credentials.startswith(KEY_MARK)


@dataclass(frozen=True)
class NewApiKey:
    key: ApiKey
    secret: str  # the whole key, ``og_<prefix>_<secret>``: shown once, never stored


def _actor(actor: Principal) -> dict[str, int | None]:
    return {"actor": actor.user_id, "actor_api_key": actor.api_key_id}


async def _binding(
    session: AsyncSession, customer_id: int | None, manufacturer: str | None, actor: Principal
) -> tuple[int | None, str | None]:
    """Who a new key speaks for to inbound webhooks, checked: a regional office (an
    existing customer) or a manufacturer (a brand name), not both; only ``user:admin``
    binds keys."""
    if customer_id is None and manufacturer is None:
        return None, None
    field = "customerId" if customer_id is not None else "manufacturer"
    if not actor.can(Permission.USER_ADMIN):
        raise Forbidden("only admins (user:admin) bind a key to an office or a manufacturer")
    if customer_id is not None and manufacturer is not None:
        raise InvalidInput("bind a key to an office or to a manufacturer, not both", field=[field])
    if manufacturer is not None:
        return None, checked_text(
            manufacturer, field="manufacturer", limit=MAX_MANUFACTURER, blank=False
        )
    found = await session.scalar(select(Customer.id).where(Customer.id == customer_id))
    if found is None:
        raise NotFound(f"no {named('Customer', customer_id)}", field=["customerId"])
    return found, None


async def create_api_key(
    session: AsyncSession,
    *,
    name: str,
    scopes: list[str],
    customer_id: int | None = None,
    manufacturer: str | None = None,
    actor: Principal,
) -> NewApiKey:
    """``apiKeyCreate`` (``api_key:write``): a key for the actor's own user, with scopes
    the actor holds; bound to a regional office (``customer_id``) or a manufacturer when
    given (admins only)."""
    actor.require(Permission.API_KEY_WRITE)
    if actor.api_key_id is not None:
        # a leaked key must not mint keys that outlive its revocation
        raise Forbidden("API keys are created by a signed-in user, not with an API key")
    checks = InputChecks()  # every broken input rule at once
    with checks:
        name = checked_text(name, field="name", limit=MAX_NAME, blank=False)
    with checks:
        wanted = checked_permissions(scopes, field="scopes")
        if not wanted:
            raise InvalidInput("give the key at least one scope", field=["scopes"])
        check_grantable(wanted, actor, field="scopes")
    checks.done()
    office_id, manufacturer = await _binding(session, customer_id, manufacturer, actor)
    secret = secrets.token_urlsafe(SECRET_BYTES)
    key_id: int | None = None
    while key_id is None:  # a prefix already taken (62**10 of them) just draws again
        prefix = "".join(secrets.choice(PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))
        key_id = await session.scalar(
            insert(ApiKey)
            .values(
                name=name,
                prefix=prefix,
                secret_hash=hash_secret(secret),
                scopes=wanted,
                created_by=actor.user_id,
                customer_id=office_id,
                manufacturer=manufacturer,
            )
            .on_conflict_do_nothing(index_elements=["prefix"])
            .returning(ApiKey.id)
        )
    key = await session.get_one(ApiKey, key_id)
    bound = {
        column: value
        for column, value in (("customer_id", office_id), ("manufacturer", manufacturer))
        if value is not None
    }
    audit(
        session,
        "api_key.create",
        entity_type="ApiKey",
        entity_id=key.id,
        changes={"name": name, "prefix": prefix, "scopes": wanted, **bound},
        **_actor(actor),
    )
    await session.flush()
    return NewApiKey(key, f"{KEY_MARK}{prefix}_{secret}")


def _visible(actor: Principal) -> list[ColumnElement[bool]]:
    """Keys the actor may see and revoke: its own, or every key with ``user:admin``."""
    return [] if actor.can(Permission.USER_ADMIN) else [ApiKey.created_by == actor.user_id]


async def list_api_keys(session: AsyncSession, *, actor: Principal) -> list[ApiKey]:
    """``apiKeys`` (``api_key:read``): oldest first, revoked ones included."""
    actor.require(Permission.API_KEY_READ)
    found = await session.scalars(select(ApiKey).where(*_visible(actor)).order_by(ApiKey.id))
    return list(found.all())


async def revoke_api_key(session: AsyncSession, *, key_id: int, actor: Principal) -> ApiKey:
    """``apiKeyRevoke`` (``api_key:write``): one's own key, or any with ``user:admin``.
    Requests with it fail from the next one on."""
    actor.require(Permission.API_KEY_WRITE)
    key = await locked(session, ApiKey, key_id, where=_visible(actor))
    if key.revoked_at is not None:
        raise InvalidState(f"{name_of(key)} is already revoked", field=["id"])
    key.revoked_at = dt.datetime.now(dt.UTC)
    audit(
        session,
        "api_key.revoke",
        entity_type="ApiKey",
        entity_id=key.id,
        changes={"name": key.name, "prefix": key.prefix},
        **_actor(actor),
    )
    await session.flush()
    return key


def _key_permissions(scopes: frozenset[str], creator: frozenset[str]) -> frozenset[str]:
    """What a key may do: its scopes, within what its creator may do now; a portal
    creator's limit (``portal:scoped``) comes with every key it made, whatever its scopes."""
    return (scopes & creator) | (creator & {Permission.PORTAL_SCOPED})


async def principal_for_api_key(session: AsyncSession, *, key: str) -> Principal:
    """The principal a key acts as, in one statement (two when ``lastUsedAt`` is over a
    minute old). Malformed, unknown, revoked, wrong secret, inactive creator: all the
    same ``Unauthenticated``. The caller commits (``lastUsedAt``)."""
    match = KEY_PATTERN.match(key)
    if match is None:
        raise Unauthenticated()
    prefix, secret = match.groups()
    return await _acting_as(session, ApiKey.prefix == prefix, secret=secret)


async def principal_for_client(
    session: AsyncSession, *, client_id: str, client_secret: str
) -> Principal:
    """OAuth2 client authentication with an API key: the client id is the key's prefix
    (``ApiKey.prefix``), the client secret the whole key (``og_<prefix>_<secret>``). The
    key's principal, or ``Unauthenticated`` as for the key itself."""
    match = KEY_PATTERN.match(client_secret)
    if match is None or match.group(1) != client_id:  # the prefix is public
        raise Unauthenticated()
    return await principal_for_api_key(session, key=client_secret)


async def principal_for_api_key_token(
    session: AsyncSession, *, api_key_id: int, user_id: int
) -> Principal:
    """The principal of a verified access token issued to an API key: the key's, checked
    as on every request with the key itself (not revoked, creator active, scopes within
    what the creator may do now). The caller commits (``lastUsedAt``)."""
    return await _acting_as(session, ApiKey.id == api_key_id, ApiKey.created_by == user_id)


async def _acting_as(
    session: AsyncSession, *where: ColumnElement[bool], secret: str | None = None
) -> Principal:
    """The principal of the live key ``where`` finds; its secret is checked when given."""
    creator_permissions = (
        select(func.coalesce(func.array_agg(RolePermission.permission.distinct()), text("'{}'")))
        .join(UserRole, UserRole.role_id == RolePermission.role_id)
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )
    stale = or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < func.now() - TOUCH_INTERVAL)
    row = (
        await session.execute(
            select(
                ApiKey.id,
                ApiKey.secret_hash,
                ApiKey.scopes,
                User.id.label("user_id"),
                User.username,
                User.customer_id,
                ApiKey.customer_id.label("office_id"),
                ApiKey.manufacturer,
                creator_permissions.label("permissions"),
                stale.label("stale"),
            )
            .join(User, User.id == ApiKey.created_by)
            .where(*where, ApiKey.revoked_at.is_(None), User.is_active.is_(True))
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated()
    if secret is not None and not hmac.compare_digest(hash_secret(secret), row.secret_hash):
        raise Unauthenticated()
    if row.stale:
        await session.execute(
            update(ApiKey).where(ApiKey.id == row.id, stale).values(last_used_at=func.now())
        )
    return Principal(
        user_id=row.user_id,
        username=row.username,
        permissions=_key_permissions(frozenset(row.scopes), frozenset(row.permissions)),
        customer_id=row.customer_id,
        api_key_id=row.id,
        office_id=row.office_id,
        manufacturer=row.manufacturer,
    )
