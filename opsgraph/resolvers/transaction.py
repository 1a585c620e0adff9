"""Root mutation fields of financial transactions:
transactionCreate, transactionUpdate, transactionDelete.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry


@strawberry.type
class TransactionMutation:
    pass
