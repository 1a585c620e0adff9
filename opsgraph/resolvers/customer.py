"""Root mutation fields of customers:
customerCreate, customerUpdate, customerUpsert, customerDelete.

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.customer_mutations import (
    CustomerCreateInput,
    CustomerCreatePayload,
    CustomerDeleteInput,
    CustomerDeletePayload,
    CustomerUpdateInput,
    CustomerUpdatePayload,
    CustomerUpsertInput,
    CustomerUpsertPayload,
)
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.services import customer as service


@strawberry.type
class CustomerMutation:
    @strawberry.mutation(
        description="Create a customer (`customer:write`). INVALID_EMAIL, DUPLICATE_EXTERNAL_ID.",
        metadata=requires("customer:write"),
    )
    async def customer_create(
        self, info: Info, input: CustomerCreateInput
    ) -> CustomerCreatePayload:
        return await mutate(
            info,
            CustomerCreatePayload,
            lambda session, actor: service.create_customer(
                session,
                name=input.name,
                external_id=input.external_id,
                email=input.email,
                phone=input.phone,
                org_no=input.org_no,
                actor=actor,
            ),
            lambda customer: {"customer": Ref("Customer", customer.id)},
        )

    @strawberry.mutation(
        description="Change a customer's fields (`customer:write`). INVALID_EMAIL, "
        "DUPLICATE_EXTERNAL_ID.",
        metadata=requires("customer:write"),
    )
    async def customer_update(
        self, info: Info, input: CustomerUpdateInput
    ) -> CustomerUpdatePayload:
        return await mutate(
            info,
            CustomerUpdatePayload,
            lambda session, actor: service.update_customer(
                session,
                customer_id=parse_global_id(input.id, "Customer"),
                name=patch(input.name),
                external_id=patch(input.external_id),
                email=patch(input.email),
                phone=patch(input.phone),
                org_no=patch(input.org_no),
                actor=actor,
            ),
            lambda customer: {"customer": Ref("Customer", customer.id)},
        )

    @strawberry.mutation(
        description="Create the customer with this external id, or update the one that "
        "has it (`customer:write`); `created` tells which. Safe when requests race.",
        metadata=requires("customer:write"),
    )
    async def customer_upsert(
        self, info: Info, input: CustomerUpsertInput
    ) -> CustomerUpsertPayload:
        return await mutate(
            info,
            CustomerUpsertPayload,
            lambda session, actor: service.upsert_customer(
                session,
                external_id=input.external_id,
                name=input.name,
                email=patch(input.email),
                phone=patch(input.phone),
                org_no=patch(input.org_no),
                actor=actor,
            ),
            lambda done: {"customer": Ref("Customer", done.customer.id), "created": done.created},
        )

    @strawberry.mutation(
        description="Delete a customer and its properties (`customer:write`); refused "
        "with HAS_DEPENDENTS while anything else refers to it.",
        metadata=requires("customer:write"),
    )
    async def customer_delete(
        self, info: Info, input: CustomerDeleteInput
    ) -> CustomerDeletePayload:
        return await mutate(
            info,
            CustomerDeletePayload,
            lambda session, actor: service.delete_customer(
                session, customer_id=parse_global_id(input.id, "Customer"), actor=actor
            ),
            lambda deleted: {"deleted_id": strawberry.ID(to_global_id("Customer", deleted))},
        )
