"""``opsgraph create-admin`` and ``opsgraph create-user``: accounts made from the command line."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from opsgraph.cli.common import PROG, add_command, database, in_transaction
from opsgraph.settings import ConfigError, Settings

if TYPE_CHECKING:
    import argparse

    from sqlalchemy.ext.asyncio import AsyncSession


def _password(given: str | None, who: str, env: str | None = None) -> str:
    """The new user's password: given, from ``env``, or asked for on a terminal."""
    password = given or (os.environ.get(env) if env else None)
    if password:
        return password
    if not sys.stdin.isatty():
        where = f"pass --password or set {env}" if env else "pass --password"
        raise ConfigError(f"no password: {where}")
    return getpass.getpass(f"Password for the new {who}: ")


# what to change when create-admin / create-user is refused, by the refused input's field
ACCOUNT_FIXES = {
    "username": "choose another --username",
    "email": "give another --email",
    "password": "choose a stronger --password",
    "customer": "check --customer (a customer's external id, or its id)",
    "roles": "check --role",
}


def _create_account(settings: Settings, work: Callable[[AsyncSession], Awaitable[None]]) -> None:
    """Run a user-creating service in one transaction; its refusal is a one-line error
    saying which option to change."""
    from opsgraph.errors import DomainError

    with database(settings) as url:
        try:
            in_transaction(url, settings, work)
        except DomainError as exc:
            fix = ACCOUNT_FIXES.get(exc.field[-1] if exc.field else "")
            raise ConfigError(f"{exc.message}; {fix}" if fix else exc.message) from None


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> None:
    password = _password(args.password, "admin", "OPSGRAPH_ADMIN_PASSWORD")

    async def create(session: AsyncSession) -> None:
        from opsgraph.services.user import create_admin

        await create_admin(
            session,
            username=args.username,
            email=args.email,
            password=password,
            settings=settings,
            via="cli",
        )

    _create_account(settings, create)
    print(f"admin user {args.username.strip().lower()!r} created")


def cmd_create_user(args: argparse.Namespace, settings: Settings) -> None:
    password = _password(args.password, "user")
    roles = args.role or (["customer"] if args.customer else ["staff"])

    async def create(session: AsyncSession) -> None:
        from opsgraph.services.customer import customer_id_for
        from opsgraph.services.user import create_by_operator

        customer_id = None
        if args.customer is not None:
            customer_id = await customer_id_for(session, args.customer)
        await create_by_operator(
            session,
            username=args.username,
            email=args.email,
            password=password,
            roles=roles,
            customer_id=customer_id,
            settings=settings,
            via="cli",
        )

    _create_account(settings, create)
    linked = f", linked to customer {args.customer!r}" if args.customer else ""
    print(f"user {args.username.strip().lower()!r} created with roles {', '.join(roles)}{linked}")


def add_create_admin(commands: Any) -> None:
    """The ``create-admin`` command."""
    admin = add_command(
        commands,
        "create-admin",
        "create a user with the admin role",
        "Create a user holding the admin role. The password follows the password rules\n"
        "(OPSGRAPH_PASSWORD_MIN_LENGTH); it comes from --password, OPSGRAPH_ADMIN_PASSWORD,\n"
        "or a prompt on a terminal.",
        f"""  {PROG} create-admin --username boss --email boss@example.com
  OPSGRAPH_ADMIN_PASSWORD=... {PROG} create-admin --username boss --email boss@example.com""",
    )
    admin.add_argument("--username", required=True, help="2-64 letters, digits, '.', '_', '-'")
    admin.add_argument("--email", required=True, help="the admin's e-mail address")
    admin.add_argument("--password", help="or OPSGRAPH_ADMIN_PASSWORD, or asked for")
    admin.set_defaults(handler=cmd_create_admin)


def add_create_user(commands: Any) -> None:
    """The ``create-user`` command."""
    user = add_command(
        commands,
        "create-user",
        "create a user, e.g. a portal user linked to a customer",
        "Create a user with the roles given (default: customer with --customer, else staff).\n"
        "A user linked to a customer sees that customer's data only (the portal).",
        f"""  {PROG} create-user --username pat --email pat@acme.se --customer ACME-1
  {PROG} create-user --username sam --email sam@example.com --role staff --role support""",
    )
    user.add_argument("--username", required=True, help="2-64 letters, digits, '.', '_', '-'")
    user.add_argument("--email", required=True, help="the user's e-mail address")
    user.add_argument("--password", help="or asked for on a terminal")
    user.add_argument(
        "--customer",
        metavar="EXTERNAL_ID_OR_ID",
        help="link the user to this customer (its external id, or its id)",
    )
    user.add_argument(
        "--role",
        action="append",
        help="a role to give (repeatable; default customer with --customer, else staff)",
    )
    user.set_defaults(handler=cmd_create_user)
