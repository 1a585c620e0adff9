"""Trusted documents: GraphQL documents kept by their SHA-256 (persisted queries and the
allow-list of ``OPSGRAPH_TRUSTED_DOCUMENTS=registered``).

An operator registers documents from ``.graphql`` files (``opsgraph documents register``):
each operation of a file becomes one document, the operation and the fragments it uses in
the canonical form graphql-core prints, stored under the SHA-256 of that text. Clients
send the hash (an Apollo persisted query), the same text, or any text whose selected
operation prints the same. Documents that signed-in clients register automatically
(Apollo's APQ, in the open mode) are kept apart (``source`` ``apq``): they save
bandwidth but are never trusted, and their number is capped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from graphql import (
    DefinitionNode,
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    Node,
    OperationDefinitionNode,
    parse,
    print_ast,
)
from sqlalchemy import func, literal, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.models import DocumentSource, TrustedDocument

CLI = "cli"  # created_by of documents an operator registered


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Operation:
    """One operation of a document in canonical form: the operation and the fragments it
    uses (in the order the document defines them), printed by graphql-core."""

    name: str | None
    document: str

    @property
    def sha256(self) -> str:
        return sha256_hex(self.document)


def _spreads(node: Node) -> Iterator[str]:
    """The names of the fragments ``node`` spreads directly (not through other fragments)."""
    stack = [node]
    while stack:
        current = stack.pop()
        selection_set = getattr(current, "selection_set", None)
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FragmentSpreadNode):
                yield selection.name.value
            else:
                stack.append(selection)


def operations_of(document: DocumentNode) -> list[Operation]:
    """Every operation of a parsed document, each in canonical form."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = []
    for operation in document.definitions:
        if not isinstance(operation, OperationDefinitionNode):
            continue
        used: set[str] = set()
        pending = list(_spreads(operation))
        while pending:
            name = pending.pop()
            if name in used or name not in fragments:
                continue
            used.add(name)
            pending.extend(_spreads(fragments[name]))
        definitions: list[DefinitionNode] = [operation]
        definitions += [fragment for name, fragment in fragments.items() if name in used]
        text = print_ast(DocumentNode(definitions=tuple(definitions)))
        named = operation.name.value if operation.name else None
        operations.append(Operation(name=named, document=text))
    return operations


def canonical_operation(
    text: str, operation_name: str | None, *, max_tokens: int
) -> Operation | None:
    """The canonical form of the operation a request selects from ``text``; None when the
    text does not parse within ``max_tokens`` (the server's token limit: a longer text
    could never run) or selects no single operation."""
    try:
        document = parse(text, no_location=True, max_tokens=max_tokens)
    except (GraphQLError, RecursionError):
        return None
    operations = operations_of(document)
    if operation_name is not None:
        operations = [o for o in operations if o.name == operation_name]
    return operations[0] if len(operations) == 1 else None


async def find_document(
    session: AsyncSession, hashes: Iterable[str], *, trusted_only: bool
) -> TrustedDocument | None:
    """The stored document with the first of ``hashes`` that is stored (registered by an
    operator, when ``trusted_only``)."""
    wanted = list(dict.fromkeys(hashes))
    statement = select(TrustedDocument).where(TrustedDocument.sha256.in_(wanted))
    if trusted_only:
        statement = statement.where(TrustedDocument.source == DocumentSource.cli)
    found = {row.sha256: row for row in (await session.scalars(statement)).all()}
    return next((found[h] for h in wanted if h in found), None)


async def register_documents(session: AsyncSession, operations: Sequence[Operation]) -> set[str]:
    """Register operations as trusted (idempotent); returns the hashes that were not
    trusted before (new, or stored by a client's persisted query until now)."""
    if not operations:
        return set()
    unique = {operation.sha256: operation for operation in operations}
    values = insert(TrustedDocument).values(
        [
            {
                "sha256": sha,
                "document": operation.document,
                "name": operation.name,
                "source": DocumentSource.cli,
                "created_by": CLI,
            }
            for sha, operation in unique.items()
        ]
    )
    statement = values.on_conflict_do_update(
        index_elements=[TrustedDocument.sha256],
        set_={
            "source": values.excluded.source,
            "name": values.excluded.name,
            "created_by": values.excluded.created_by,
        },
        where=TrustedDocument.source != DocumentSource.cli,
    ).returning(TrustedDocument.sha256)
    return set((await session.scalars(statement)).all())


async def store_automatic(
    session: AsyncSession, *, document: str, created_by: str, limit: int
) -> bool:
    """Keep a document a client sent with its hash (APQ), unless ``limit`` automatic
    documents are stored already; True when it was stored now."""
    stored = (
        select(func.count())
        .select_from(TrustedDocument)
        .where(TrustedDocument.source == DocumentSource.apq)
        .scalar_subquery()
    )
    row = select(
        literal(sha256_hex(document)),
        literal(document),
        literal(DocumentSource.apq.value),
        literal(created_by),
    ).where(stored < limit)
    statement = (
        insert(TrustedDocument)
        .from_select(["sha256", "document", "source", "created_by"], row)
        .on_conflict_do_nothing(index_elements=[TrustedDocument.sha256])
        .returning(TrustedDocument.sha256)
    )
    return (await session.scalars(statement)).first() is not None


async def list_documents(session: AsyncSession) -> Sequence[TrustedDocument]:
    """Every stored document, the registered ones first, oldest first."""
    statement = select(TrustedDocument).order_by(
        TrustedDocument.source.desc(), TrustedDocument.created_at, TrustedDocument.name
    )
    return (await session.scalars(statement)).all()
