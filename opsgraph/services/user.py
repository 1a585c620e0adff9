"""Users: registration (by an admin or open self-signup), the bootstrap admin and
``opsgraph create-admin`` / ``create-user``, and the checks every change of a user makes.
Profile and password changes, activation, role assignment and the link to a customer are
in ``services.user_account``.

The link of a user to a customer (``customer_id``) is what a portal user's scope is made
of; only an actor with ``user:admin`` sets or clears it (on anyone, itself included).

Every function flushes, never commits: the caller owns the transaction. Failures are
``DomainError``s; ``Forbidden`` when the actor may not do this at all.
"""

from __future__ import annotations

import enum
import re
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import (
    BCRYPT,
    PasswordRejected,
    check_password,
    hash_password_async,
)
from opsgraph.auth.principal import Principal
from opsgraph.errors import (
    Conflict,
    InvalidInput,
    Unauthenticated,
)
from opsgraph.models import Role, User, UserRole
from opsgraph.permissions import Permission
from opsgraph.services.audit import audit
from opsgraph.services.checks import InputChecks, checked_email, checked_text
from opsgraph.services.customer_access import lock_customer
from opsgraph.services.role import ensure_builtin_roles
from opsgraph.settings import Settings

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD_LENGTH = 10
MAX_FULL_NAME = 200
DEFAULT_ROLES = ("staff",)  # what userRegister gives when no roles are chosen (always, self-signup)


def check_full_name(full_name: str) -> str:
    return checked_text(full_name, field="fullName", limit=MAX_FULL_NAME, label="full name")


def check_new_password(password: str, min_length: int, *, field: str) -> None:
    try:
        check_password(password, min_length=min_length)
    except PasswordRejected as exc:
        raise InvalidInput(str(exc), field=[field]) from None


def unique_clash(error: IntegrityError, username: str | None, email: str | None) -> Conflict:
    """The ``Conflict`` for a unique index that a concurrent request won the race for."""
    constraint = getattr(getattr(error.orig, "diag", None), "constraint_name", None)
    if constraint == "uq_user_username":
        return Conflict(f"a user with the username {username!r} already exists", field=["username"])
    if constraint == "uq_user_email":
        return Conflict(f"a user with the email {email!r} already exists", field=["email"])
    return Conflict("the change conflicts with another user")


async def check_free(
    session: AsyncSession, *, username: str | None, email: str | None, other_than: int | None
) -> None:
    clauses = []
    if username is not None:
        clauses.append(User.username == username)
    if email is not None:
        clauses.append(func.lower(User.email) == email)
    query = select(User.username, User.email).where(or_(*clauses))
    if other_than is not None:
        query = query.where(User.id != other_than)
    for taken_username, taken_email in await session.execute(query):
        if taken_username == username:
            raise Conflict(
                f"a user with the username {username!r} already exists", field=["username"]
            )
        if taken_email.lower() == email:
            raise Conflict(f"a user with the email {email!r} already exists", field=["email"])


async def create_user(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    roles: list[str] | tuple[str, ...],
    full_name: str = "",
    customer_id: int | None = None,
    password_rounds: int = 12,
    min_password_length: int = MIN_PASSWORD_LENGTH,
    password_scheme: str = BCRYPT,
) -> User:
    """Create a user with ``roles`` (names), linked to the customer ``customer_id`` when
    given. Checks, cheapest first: username, email, full name, password rules, roles,
    customer, uniqueness; then one password hash off the loop."""
    checks = InputChecks()  # every broken input rule at once
    name = username.strip().lower()
    if not USERNAME_PATTERN.match(name):
        checks.add(
            InvalidInput(
                "username must be 2-64 characters: letters, digits, '.', '_' or '-'",
                field=["username"],
            )
        )
    with checks:
        address = checked_email(email)
    with checks:
        full_name = check_full_name(full_name)
    with checks:
        check_new_password(password, min_password_length, field="password")
    checks.done()
    role_ids = await ensure_builtin_roles(session)
    unknown = sorted({role for role in roles if role not in role_ids})
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(unknown)}", field=["roles"])
    if customer_id is not None:
        await lock_customer(session, customer_id)
    await check_free(session, username=name, email=address, other_than=None)
    hashed = await hash_password_async(
        password, rounds=password_rounds, min_length=min_password_length, scheme=password_scheme
    )
    user = User(
        username=name,
        email=address,
        full_name=full_name,
        password_hash=hashed,
        customer_id=customer_id,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same name or address, registered meanwhile
        raise unique_clash(exc, name, address) from None
    session.add_all(
        UserRole(user_id=user.id, role_id=role_ids[role]) for role in dict.fromkeys(roles)
    )
    await session.flush()
    return user


def _password_settings(settings: Settings) -> dict[str, Any]:
    return {
        "password_rounds": settings.bcrypt_rounds,
        "min_password_length": settings.password_min_length,
        "password_scheme": settings.password_scheme,
    }


def actor_fields(actor: Principal | None) -> dict[str, Any]:
    if actor is None:
        return {"actor": None, "actor_api_key": None}
    return {"actor": actor.user_id, "actor_api_key": actor.api_key_id}


async def register_user(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    full_name: str = "",
    roles: list[str] | None = None,
    customer_id: int | None = None,
    actor: Principal | None,
    settings: Settings,
) -> User:
    """``userRegister``: an actor with ``user:admin`` creates a user with the roles it
    chooses (default ``staff``), linked to a customer if it says so; with
    ``settings.self_signup`` on, anyone else may create one, always with the default role
    only and linked to no customer."""
    admin = actor is not None and actor.can(Permission.USER_ADMIN)
    if not admin:
        if not settings.self_signup:
            if actor is None:
                raise Unauthenticated()
            actor.require(Permission.USER_ADMIN)
        if roles is not None:
            raise InvalidInput(
                "only an administrator (user:admin) chooses roles; self-signup gets the "
                "default role",
                field=["roles"],
            )
        if customer_id is not None:
            raise InvalidInput(
                "only an administrator (user:admin) links a user to a customer",
                field=["customerId"],
            )
    chosen = list(DEFAULT_ROLES) if roles is None else roles
    user = await create_user(
        session,
        username=username,
        email=email,
        password=password,
        roles=chosen,
        full_name=full_name,
        customer_id=customer_id,
        **_password_settings(settings),
    )
    audit(
        session,
        "user.create",
        entity_type="User",
        entity_id=user.id,
        changes={
            "username": user.username,
            "email": user.email,
            "roles": sorted(set(chosen)),
            "customer_id": customer_id,
            "self_signup": not admin,
        },
        **actor_fields(actor),
    )
    await session.flush()
    return user


async def create_by_operator(
    session: AsyncSession,
    *,
    username: str,
    email: str,
    password: str,
    roles: list[str],
    settings: Settings,
    via: str,
    customer_id: int | None = None,
) -> User:
    """A user made by an operator (``opsgraph create-admin`` / ``create-user``, the
    bootstrap admin), audited with ``via`` naming the path."""
    user = await create_user(
        session,
        username=username,
        email=email,
        password=password,
        roles=roles,
        customer_id=customer_id,
        **_password_settings(settings),
    )
    changes: dict[str, Any] = {"username": user.username, "email": user.email}
    changes["roles"] = sorted(set(roles))
    if customer_id is not None:
        changes["customer_id"] = customer_id
    audit(
        session,
        "user.create",
        actor=None,
        entity_type="User",
        entity_id=user.id,
        changes={**changes, "by": via},
    )
    await session.flush()
    return user


async def create_admin(
    session: AsyncSession, *, username: str, email: str, password: str, settings: Settings, via: str
) -> User:
    """A user with the admin role, made by an operator."""
    return await create_by_operator(
        session,
        username=username,
        email=email,
        password=password,
        roles=["admin"],
        settings=settings,
        via=via,
    )


class Bootstrap(enum.Enum):
    """What ``ensure_bootstrap_admin`` found or did."""

    CREATED = "created"
    PRESENT = "present"  # the username exists and holds the admin role
    PRESENT_WITHOUT_ADMIN = "present without the admin role"


async def ensure_bootstrap_admin(
    session: AsyncSession, *, username: str, email: str, password: str, settings: Settings
) -> Bootstrap:
    """Create the configured admin unless a user with its username exists (whatever other
    admins there are); an existing user is left as it is, password and roles included.
    Refusals (a weak password, an email that belongs to another user) are the
    ``DomainError``s of ``create_admin``. Start-ups of several workers take turns on an
    advisory lock."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('opsgraph:bootstrap'))"))
    existing = await session.scalar(
        select(User.id).where(User.username == username.strip().lower())
    )
    if existing is not None:
        is_admin = await session.scalar(
            select(UserRole.user_id)
            .join(Role, Role.id == UserRole.role_id)
            .where(UserRole.user_id == existing, Role.name == "admin")
        )
        return Bootstrap.PRESENT if is_admin is not None else Bootstrap.PRESENT_WITHOUT_ADMIN
    await create_admin(
        session,
        username=username,
        email=email,
        password=password,
        settings=settings,
        via="bootstrap",
    )
    return Bootstrap.CREATED
