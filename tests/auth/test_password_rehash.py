"""Password hashes are upgraded at sign-in: a right password held in a hash of another
bcrypt cost or another scheme than configured is hashed anew; a wrong one changes
nothing. Verification accepts bcrypt and Argon2id whatever is configured."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.passwords import hash_password, needs_rehash, verify_password
from tests.resolvers.accounts import LOGIN, PASSWORD, MakeApi, audit_events, make_api, make_user

__all__ = ["make_api"]  # fixtures


async def stored_hash(session: AsyncSession, username: str) -> str:
    hashed = await session.scalar(
        text('SELECT password_hash FROM "user" WHERE username = :u'), {"u": username}
    )
    assert isinstance(hashed, str)
    return hashed


async def set_hash(session: AsyncSession, username: str, hashed: str) -> None:
    await session.execute(
        text('UPDATE "user" SET password_hash = :h WHERE username = :u'),
        {"h": hashed, "u": username},
    )


async def test_a_higher_bcrypt_cost_upgrades_the_hash_at_login(
    make_api: MakeApi, session: AsyncSession
) -> None:
    await make_user(session, "ann", ["staff"])  # hashed at cost 4
    assert (await stored_hash(session, "ann")).startswith("$2b$04$")
    api = await make_api(bcrypt_rounds=5)
    await api.login("ann")
    upgraded = await stored_hash(session, "ann")
    assert upgraded.startswith("$2b$05$")
    assert verify_password(PASSWORD, upgraded)
    [event] = await audit_events(session, "auth.login")
    assert event.changes["password_rehashed"] == "bcrypt"
    assert PASSWORD not in str(event.changes)
    await api.login("ann")  # the same cost again: nothing to do
    assert await stored_hash(session, "ann") == upgraded
    assert "password_rehashed" not in (await audit_events(session, "auth.login"))[-1].changes


async def test_bcrypt_moves_to_argon2id_and_back(make_api: MakeApi, session: AsyncSession) -> None:
    await make_user(session, "ann", ["staff"])
    argon = await make_api(password_scheme="argon2id")
    await argon.login("ann")
    moved = await stored_hash(session, "ann")
    assert moved.startswith("$argon2id$")
    await argon.login("ann")  # verified as Argon2id, kept
    assert await stored_hash(session, "ann") == moved
    bcrypt = await make_api()  # bcrypt at cost 4 again: Argon2id still verifies
    await bcrypt.login("ann")
    assert (await stored_hash(session, "ann")).startswith("$2b$04$")


@pytest.mark.parametrize("overrides", [{"bcrypt_rounds": 5}, {"password_scheme": "argon2id"}])
async def test_a_wrong_password_never_rehashes(
    make_api: MakeApi, session: AsyncSession, overrides: dict[str, object]
) -> None:
    await make_user(session, "ann", ["staff"])
    before = await stored_hash(session, "ann")
    api = await make_api(**overrides)
    data = (await api(LOGIN, {"u": "ann", "p": "not the password"}))["data"]
    assert data["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    assert await stored_hash(session, "ann") == before


async def test_a_password_shorter_than_todays_minimum_still_signs_in_and_is_rehashed(
    make_api: MakeApi, session: AsyncSession
) -> None:
    await make_user(session, "ann", ["staff"])
    await set_hash(session, "ann", hash_password("old pass 1", rounds=4))
    api = await make_api(bcrypt_rounds=5, password_min_length=16)
    await api.login("ann", "old pass 1")
    assert (await stored_hash(session, "ann")).startswith("$2b$05$")


def test_needs_rehash() -> None:
    bcrypt4 = hash_password(PASSWORD, rounds=4)
    argon = hash_password(PASSWORD, scheme="argon2id")
    assert not needs_rehash(bcrypt4, scheme="bcrypt", rounds=4)
    assert needs_rehash(bcrypt4, scheme="bcrypt", rounds=5)
    assert needs_rehash(bcrypt4, scheme="argon2id", rounds=4)
    assert not needs_rehash(argon, scheme="argon2id", rounds=4)
    assert needs_rehash(argon, scheme="bcrypt", rounds=4)
    assert needs_rehash("not a hash", scheme="argon2id", rounds=4)
    assert verify_password(PASSWORD, argon)
    assert verify_password(PASSWORD, bcrypt4)
    assert not verify_password("wrong", argon)
    assert not verify_password(PASSWORD, "$argon2id$damaged")
