"""Demo data for development: the records the old mock API served, and a small company around
them (customers, stock, orders, invoices, payments, tickets, users and roles).

:func:`seed_demo` is idempotent, and loads in three independent parts, each detected by its
natural keys:

* roles: every built-in role missing by name, with its permissions (existing roles are
  left as they are);
* users ``admin`` and ``staff``: each created only if its username is free, with a fresh
  random password returned to the caller once;
* the business data: present when customer ``C-100`` exists, and then left untouched.
  Otherwise it is inserted whole, after checking that none of its other natural keys
  (customer external ids, SKUs, order external ids, purchase order external ids, invoice
  numbers) is taken; a clash is a :class:`ConfigError`, never a half-merged data set.

It flushes and never commits; the caller owns the transaction.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from opsgraph.auth.passwords import hash_password
from opsgraph.models import (
    AuditEvent,
    Base,
    Customer,
    Invoice,
    Order,
    Product,
    PurchaseOrder,
    Role,
    RolePermission,
    User,
    UserRole,
)
from opsgraph.seed.demo_data import DEMO_USERS, DemoPlan, Ref
from opsgraph.seed.demo_plan import build_plan
from opsgraph.services.role import ensure_builtin_roles
from opsgraph.settings import FRESH_DATABASE, ConfigError

ANCHOR = "C-100"
# pg_advisory_xact_lock key: two seeds at once queue instead of both inserting
LOCK_KEY = 20_261_122_001
NATURAL_KEYS: tuple[tuple[str, InstrumentedAttribute[Any]], ...] = (
    ("customer", Customer.external_id),
    ("product", Product.sku),
    ("purchase_order", PurchaseOrder.external_id),
    ("order", Order.external_id),
    ("invoice", Invoice.number),
)


@dataclass(frozen=True)
class DemoResult:
    created: bool
    """False when everything was already there (nothing was written)."""
    passwords: dict[str, str] = field(default_factory=dict)
    """username -> password, for the users created by this call only."""


async def seed_demo(
    session: AsyncSession, *, production: bool = False, password_rounds: int = 12
) -> DemoResult:
    """Load the demo data set unless it is there; flush, don't commit."""
    if production:
        raise ConfigError("demo data is for development only; refusing to load it in production")
    await session.execute(select(func.pg_advisory_xact_lock(LOCK_KEY)))
    roles_before = await _count_roles(session)
    role_ids = await ensure_builtin_roles(session)
    roles_created = await _count_roles(session) != roles_before
    passwords, user_ids = await _ensure_users(session, role_ids, password_rounds)
    data_created = await _load_business_data(session, user_ids)
    await session.flush()
    return DemoResult(created=roles_created or bool(passwords) or data_created, passwords=passwords)


async def _count_roles(session: AsyncSession) -> int:
    roles = select(func.count()).select_from(Role).scalar_subquery()
    permissions = select(func.count()).select_from(RolePermission).scalar_subquery()
    return int(await session.scalar(select(roles + permissions)) or 0)


async def _ensure_users(
    session: AsyncSession, role_ids: dict[str, int], rounds: int
) -> tuple[dict[str, str], dict[int | str, int]]:
    """Create the demo users that are missing; return their passwords and every demo user's id."""
    names = [username for username, *_ in DEMO_USERS]
    taken = set(
        (await session.scalars(select(User.username).where(User.username.in_(names)))).all()
    )
    missing = [user for user in DEMO_USERS if user[0] not in taken]
    passwords: dict[str, str] = {}
    if missing:
        generated = {username: secrets.token_urlsafe(12) for username, *_ in missing}
        hashes = await asyncio.gather(
            *(asyncio.to_thread(hash_password, pw, rounds=rounds) for pw in generated.values())
        )
        rows = [
            {"username": username, "email": email, "full_name": full_name, "password_hash": hashed}
            for (username, email, full_name, _), hashed in zip(missing, hashes, strict=True)
        ]
        statement = pg_insert(User).values(rows).on_conflict_do_nothing()
        created = (await session.execute(statement.returning(User.id, User.username))).all()
        role_of = {username: role for username, _, _, role in missing}
        if created:
            await session.execute(
                insert(UserRole),
                [{"user_id": uid, "role_id": role_ids[role_of[name]]} for uid, name in created],
            )
            await session.execute(
                insert(AuditEvent),
                [
                    {
                        "action": "user.create",
                        "entity_type": "user",
                        "entity_id": uid,
                        "changes": {"username": name, "roles": [role_of[name]], "by": "demo"},
                    }
                    for uid, name in created
                ],
            )
        passwords = {name: generated[name] for _, name in created}
    found = await session.execute(select(User.username, User.id).where(User.username.in_(names)))
    ids: dict[int | str, int] = dict(found.all())
    for username in names:
        if username not in ids:
            raise ConfigError(
                f"demo user {username!r} cannot be created: its e-mail address belongs to "
                "another user"
            )
    return passwords, ids


async def _load_business_data(session: AsyncSession, user_ids: dict[int | str, int]) -> bool:
    anchor = select(Customer.id).where(Customer.external_id == ANCHOR)
    if await session.scalar(anchor) is not None:
        return False
    plan = build_plan()
    await _refuse_clashes(session, plan)
    ids: dict[str, dict[int | str, int]] = {"user": user_ids}
    for name, rows in plan.tables.items():
        table = Base.metadata.tables[name]
        values = [{key: _resolve(value, ids) for key, value in row.items()} for row in rows]
        if "id" in table.c:
            statement = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids[name] = dict(enumerate((await session.execute(statement, values)).scalars()))
        else:
            await session.execute(insert(table), values)
    await session.execute(
        insert(AuditEvent).values(
            action="demo.seed",
            entity_type="seed",
            changes={name: len(rows) for name, rows in plan.tables.items()},
        )
    )
    return True


def _resolve(value: object, ids: dict[str, dict[int | str, int]]) -> object:
    return ids[value.table][value.key] if isinstance(value, Ref) else value


async def _refuse_clashes(session: AsyncSession, plan: DemoPlan) -> None:
    for name, column in NATURAL_KEYS:
        keys = [row[column.key] for row in plan.rows(name)]
        taken = (await session.scalars(select(column).where(column.in_(keys)).limit(3))).all()
        if taken:
            raise ConfigError(
                f"cannot load the demo data: {name} {', '.join(map(str, taken))} already "
                f"exist(s) while customer {ANCHOR} does not; to load it into an empty database, "
                f"{FRESH_DATABASE}"
            )
