"""``opsgraph export-schema`` and ``opsgraph documents``: the GraphQL schema, and the
trusted documents checked against it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsgraph.cli.common import PROG, add_command, database, in_transaction
from opsgraph.settings import ConfigError, Settings

if TYPE_CHECKING:
    import argparse

    from sqlalchemy.ext.asyncio import AsyncSession

    from opsgraph.services.trusted_document import Operation


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from opsgraph.api import schema

    sdl = schema.as_str().rstrip() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
        return
    try:
        Path(args.output).write_text(sdl)
    except OSError as exc:
        raise ConfigError(f"cannot write {args.output}: {exc.strerror}") from None


def _where(path: str, error: Any) -> str:
    """``FILE:LINE:COLUMN: message`` of a GraphQL syntax or validation error."""
    locations = error.locations or []
    at = f"{locations[0].line}:{locations[0].column}:" if locations else ""
    return f"{path}:{at} {error.message}"


def _operations_in(path: str) -> list[Operation]:
    """The operations of a .graphql file, parsed and validated against the schema."""
    from graphql import GraphQLError, parse, specified_rules
    from strawberry.schema.schema import validate_document

    from opsgraph.api import schema
    from opsgraph.services.trusted_document import operations_of

    try:
        source = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text") from None
    try:
        document = parse(source)
    except GraphQLError as exc:
        raise ConfigError(_where(path, exc)) from None
    errors = validate_document(schema._schema, document, tuple(specified_rules))
    if errors:
        raise ConfigError(_where(path, errors[0]))
    return operations_of(document)


def cmd_documents(args: argparse.Namespace, settings: Settings) -> None:
    from opsgraph.services.trusted_document import list_documents, register_documents

    if args.action == "list":
        if args.files:
            raise ConfigError("documents list takes no files")
        with database(settings) as url:
            rows = in_transaction(url, settings, list_documents)
        for row in rows:
            when = row.created_at.strftime("%Y-%m-%d %H:%M")
            print(f"{row.sha256}  {row.source}  {when}  {row.created_by}  {row.name or '-'}")
        return
    if not args.files:
        raise ConfigError("documents register needs one or more .graphql files")
    operations = [operation for path in args.files for operation in _operations_in(path)]

    async def register(session: AsyncSession) -> set[str]:
        return await register_documents(session, operations)

    with database(settings) as url:
        new = in_transaction(url, settings, register)
    for operation in operations:
        state = "registered" if operation.sha256 in new else "already registered"
        print(f"{operation.sha256}  {operation.name or '(anonymous)'}  {state}")


def add_export_schema(commands: Any) -> None:
    """The ``export-schema`` command."""
    export = add_command(
        commands,
        "export-schema",
        "write the GraphQL SDL",
        "Print the GraphQL schema (SDL), or write it to a file; needs no database.",
        f"""  {PROG} export-schema
  {PROG} export-schema --output schema.graphql""",
    )
    export.add_argument("--output", "-o", default="-", help="file (default stdout)")
    export.set_defaults(handler=cmd_export_schema)


def add_documents(commands: Any) -> None:
    """The ``documents`` command."""
    documents = add_command(
        commands,
        "documents",
        "register or list the trusted documents (persisted queries)",
        "Register the operations of .graphql files as trusted documents (each checked\n"
        "against the schema first), or list the stored ones. With\n"
        "OPSGRAPH_TRUSTED_DOCUMENTS=registered only these run.",
        f"""  {PROG} documents register queries/*.graphql
  {PROG} documents list""",
    )
    documents.add_argument(
        "action", choices=["register", "list"], help="register files, or list the documents"
    )
    documents.add_argument("files", nargs="*", metavar="FILE", help=".graphql files to register")
    documents.set_defaults(handler=cmd_documents)
