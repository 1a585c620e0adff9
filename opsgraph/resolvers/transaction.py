"""Root mutation fields of financial transactions:
transactionCreate, transactionUpdate, transactionDelete.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

from typing import Any

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.models import FinancialTransaction
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.enums import TransactionKind
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.schema.transaction_mutations import (
    TransactionCreateInput,
    TransactionCreatePayload,
    TransactionDeleteInput,
    TransactionDeletePayload,
    TransactionUpdateInput,
    TransactionUpdatePayload,
)
from opsgraph.services import transaction as service
from opsgraph.services.patch import mapped

TYPE = "FinancialTransaction"


def _shape(entry: FinancialTransaction) -> dict[str, Any]:
    return {"transaction": Ref(TYPE, entry.id)}


def _kind(kind: TransactionKind) -> str:
    return str(kind.value)


@strawberry.type
class TransactionMutation:
    @strawberry.mutation(
        description="Book an income, expense or transfer (`transaction:write`).",
        metadata=requires("transaction:write"),
    )
    async def transaction_create(
        self, info: Info, input: TransactionCreateInput
    ) -> TransactionCreatePayload:
        return await mutate(
            info,
            TransactionCreatePayload,
            lambda session, actor: service.create_transaction(
                session,
                kind=input.kind.value,
                amount=input.amount,
                occurred_on=input.occurred_on,
                description=input.description,
                actor=actor,
            ),
            _shape,
        )

    @strawberry.mutation(
        description="Change a transaction (`transaction:write`); BOOKED_BY_PAYMENT for one "
        "a payment booked.",
        metadata=requires("transaction:write"),
    )
    async def transaction_update(
        self, info: Info, input: TransactionUpdateInput
    ) -> TransactionUpdatePayload:
        return await mutate(
            info,
            TransactionUpdatePayload,
            lambda session, actor: service.update_transaction(
                session,
                transaction_id=parse_global_id(input.id, TYPE),
                kind=mapped(patch(input.kind), _kind),
                amount=patch(input.amount),
                occurred_on=patch(input.occurred_on),
                description=patch(input.description),
                actor=actor,
            ),
            _shape,
        )

    @strawberry.mutation(
        description="Delete a transaction (`transaction:write`); BOOKED_BY_PAYMENT for one "
        "a payment booked.",
        metadata=requires("transaction:write"),
    )
    async def transaction_delete(
        self, info: Info, input: TransactionDeleteInput
    ) -> TransactionDeletePayload:
        return await mutate(
            info,
            TransactionDeletePayload,
            lambda session, actor: service.delete_transaction(
                session, transaction_id=parse_global_id(input.id, TYPE), actor=actor
            ),
            lambda deleted: {"deleted_id": strawberry.ID(to_global_id(TYPE, deleted))},
        )
