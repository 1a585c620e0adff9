"""Signing in: login with throttling, refresh-token rotation, logout, token revocation
(RFC 7009) and the principal behind an access token. The callers own the transaction
(these flush, never commit)."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from dataclasses import dataclass
from functools import cache

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import (
    PasswordRejected,
    hash_password,
    hash_password_async,
    needs_rehash,
    verify_password,
)
from opsgraph.auth.principal import Principal
from opsgraph.auth.tokens import AccessToken, TokenIssuer, hash_secret, new_refresh_token
from opsgraph.errors import InvalidCredentials, TooManyAttempts, Unauthenticated
from opsgraph.models import LoginAttempt, RefreshToken, RolePermission, User, UserRole
from opsgraph.services.api_key import looks_like_api_key
from opsgraph.services.audit import audit
from opsgraph.settings import Settings


@dataclass(frozen=True)
class SignedIn:
    """What a login or a refresh hands out."""

    user_id: int
    access: AccessToken
    refresh_token: str
    refresh_expires_at: dt.datetime


@cache
def _dummy_hash(rounds: int, scheme: str) -> str:
    """A hash to check unknown usernames against, so every attempt costs one check of the
    configured scheme."""
    return hash_password("not a password of anyone", rounds=rounds, scheme=scheme)


async def _rehashed(password: str, hashed: str, settings: Settings) -> str | None:
    """A new hash of a verified password when ``hashed`` is of another scheme or cost than
    configured (``OPSGRAPH_PASSWORD_SCHEME``, ``OPSGRAPH_BCRYPT_ROUNDS``); else None."""
    scheme, rounds = settings.password_scheme, settings.bcrypt_rounds
    if not needs_rehash(hashed, scheme=scheme, rounds=rounds):
        return None
    try:  # the password's length is not checked again: the user keeps it
        return await hash_password_async(password, rounds=rounds, min_length=0, scheme=scheme)
    except PasswordRejected:
        return None


async def login(
    session: AsyncSession,
    *,
    username: str,
    password: str,
    client_address: str,
    settings: Settings,
    issuer: TokenIssuer,
) -> SignedIn:
    """Tokens for a right username and password. Unknown users and wrong passwords get the
    same ``InvalidCredentials`` after one password check each; after too many failures for
    the username or the client address within the window, ``TooManyAttempts``. A right
    password held in a hash of another scheme or cost is hashed anew (``_rehashed``)."""
    name = username.strip().lower()[:320]
    client = client_address[:64]
    # one attempt at a time per username and per address, so concurrent attempts are counted
    for key in sorted({f"login:user:{name}", f"login:client:{client}"}):
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=settings.login_window_minutes)
    failures = (
        await session.execute(
            select(
                func.count().filter(LoginAttempt.username == name),
                func.count().filter(LoginAttempt.client_address == client),
            ).where(
                LoginAttempt.at > since,
                LoginAttempt.succeeded.is_(False),
                or_(LoginAttempt.username == name, LoginAttempt.client_address == client),
            )
        )
    ).one()
    if max(failures) >= settings.login_max_failures:
        raise TooManyAttempts(
            f"too many failed logins; try again in up to {settings.login_window_minutes} minutes"
        )
    user = await session.scalar(select(User).where(User.username == name))
    hashed = (
        user.password_hash
        if user is not None
        else _dummy_hash(settings.bcrypt_rounds, settings.password_scheme)
    )
    matches = await asyncio.to_thread(verify_password, password, hashed)
    succeeded = matches and user is not None and user.is_active
    session.add(LoginAttempt(username=name, client_address=client, succeeded=succeeded))
    changes = {"username": name, "client": client}
    if not succeeded or user is None:
        audit(
            session,
            "auth.login_failed",
            actor=None,
            entity_type="User",
            entity_id=None,
            changes=changes,
        )
        await session.flush()
        raise InvalidCredentials()
    user.last_login_at = dt.datetime.now(dt.UTC)
    rehashed = await _rehashed(password, user.password_hash, settings)
    if rehashed is not None:
        user.password_hash = rehashed
        changes["password_rehashed"] = settings.password_scheme
    audit(
        session, "auth.login", actor=user.id, entity_type="User", entity_id=user.id, changes=changes
    )
    return await _start_session(session, user.id, uuid.uuid4(), settings, issuer)


async def _start_session(
    session: AsyncSession, user_id: int, family: uuid.UUID, settings: Settings, issuer: TokenIssuer
) -> SignedIn:
    token, hashed = new_refresh_token()
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(days=settings.refresh_token_days)
    session.add(
        RefreshToken(user_id=user_id, family_id=family, token_hash=hashed, expires_at=expires)
    )
    await session.flush()
    return SignedIn(user_id, issuer.issue(user_id, session=family), token, expires)


async def refresh(
    session: AsyncSession, *, refresh_token: str, settings: Settings, issuer: TokenIssuer
) -> SignedIn | None:
    """Spend a refresh token for new tokens of the same family. None when the token is
    unknown, expired, revoked or already spent; a spent one presented again also revokes
    its whole family (it was stolen), which the caller must commit."""
    now = dt.datetime.now(dt.UTC)
    stored = await session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hash_secret(refresh_token))
        .with_for_update()
    )
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        return None
    if stored.used_at is not None:
        await revoke_family(session, stored.family_id, stored.user_id, reason="reuse")
        return None
    active = await session.scalar(select(User.is_active).where(User.id == stored.user_id))
    if not active:
        return None
    stored.used_at = now
    return await _start_session(session, stored.user_id, stored.family_id, settings, issuer)


async def revoke_family(
    session: AsyncSession, family: uuid.UUID, user_id: int, *, reason: str
) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    audit(
        session,
        "auth.session_revoked",
        actor=user_id,
        entity_type="User",
        entity_id=user_id,
        changes={"reason": reason},
    )
    await session.flush()


async def logout(session: AsyncSession, *, user_id: int, session_id: uuid.UUID) -> None:
    """End the signed-in session: its refresh tokens and its access tokens stop working."""
    await revoke_family(session, session_id, user_id, reason="logout")


class Revocation(enum.Enum):
    """What ``revoke`` did with a token."""

    ENDED = "ended"  # the token's signed-in session has ended
    UNKNOWN = "unknown"  # no live token of ours: nothing changed
    API_KEY = "api_key"  # an API key, or an access token acting as one: not revoked here


async def revoke(
    session: AsyncSession, *, token: str, issuer: TokenIssuer, access_first: bool = False
) -> Revocation:
    """Token revocation (RFC 7009): a refresh token (looked up by its SHA-256, as
    ``refresh`` does; spent or not, while unexpired) or an access token of a signed-in
    session ends that whole session, as ``logout`` does. A token that is unknown, expired,
    not valid, or of a session already ended changes nothing. ``access_first``: try the
    token as an access token before looking it up as a refresh token (the client's hint;
    both are tried either way)."""
    if looks_like_api_key(token):
        return Revocation.API_KEY
    tries = (_revoke_access, _revoke_refresh) if access_first else (_revoke_refresh, _revoke_access)
    for attempt in tries:
        outcome = await attempt(session, token, issuer)
        if outcome is not Revocation.UNKNOWN:
            return outcome
    return Revocation.UNKNOWN


async def _revoke_refresh(session: AsyncSession, token: str, issuer: TokenIssuer) -> Revocation:
    stored = await session.scalar(
        select(RefreshToken).where(RefreshToken.token_hash == hash_secret(token)).with_for_update()
    )
    now = dt.datetime.now(dt.UTC)
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        return Revocation.UNKNOWN
    await logout(session, user_id=stored.user_id, session_id=stored.family_id)
    return Revocation.ENDED


async def _revoke_access(session: AsyncSession, token: str, issuer: TokenIssuer) -> Revocation:
    try:
        verified = issuer.verify(token)
    except Unauthenticated:
        return Revocation.UNKNOWN
    if verified.session_id is None:  # issued to an API key: ends with the key
        return Revocation.API_KEY
    live = await session.scalar(
        select(RefreshToken.id)
        .where(
            RefreshToken.family_id == verified.session_id,
            RefreshToken.user_id == verified.user_id,
            RefreshToken.revoked_at.is_(None),
        )
        .limit(1)
        .with_for_update()
    )
    if live is None:
        return Revocation.UNKNOWN
    await logout(session, user_id=verified.user_id, session_id=verified.session_id)
    return Revocation.ENDED


async def principal_for_token(
    session: AsyncSession, *, user_id: int, session_id: uuid.UUID
) -> Principal:
    """The principal of a verified access token, in one statement: the user must still be
    active and the token's session not revoked."""
    permissions = (
        select(func.coalesce(func.array_agg(RolePermission.permission.distinct()), text("'{}'")))
        .join(UserRole, UserRole.role_id == RolePermission.role_id)
        .where(UserRole.user_id == User.id)
        .scalar_subquery()
    )
    live = (
        select(RefreshToken.id)
        .where(RefreshToken.family_id == session_id, RefreshToken.revoked_at.is_(None))
        .exists()
    )
    row = (
        await session.execute(
            select(
                User.id, User.username, User.customer_id, permissions.label("permissions")
            ).where(User.id == user_id, User.is_active.is_(True), live)
        )
    ).one_or_none()
    if row is None:
        raise Unauthenticated()
    return Principal(row.id, row.username, frozenset(row.permissions), row.customer_id)
