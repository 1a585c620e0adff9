"""Root mutation fields of properties (propertyCreate, propertyUpdate, propertyDelete).

Thin, as every mutation: the guard is declared in the field's metadata, the input is
converted and one service called through ``opsgraph.resolvers.mutate.mutate``.
"""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from opsgraph.auth.guard import requires
from opsgraph.auth.principal import Principal
from opsgraph.graph.ids import parse_global_id, to_global_id
from opsgraph.models import Property
from opsgraph.resolvers.mutate import Ref, mutate
from opsgraph.schema.customer_mutations import (
    PropertyCreateInput,
    PropertyCreatePayload,
    PropertyDeleteInput,
    PropertyDeletePayload,
    PropertyUpdateInput,
    PropertyUpdatePayload,
)
from opsgraph.schema.patch import patch
from opsgraph.schema.resolve import Info
from opsgraph.services import property as service
from opsgraph.services.patch import mapped


def _customer_pk(value: strawberry.ID) -> int:
    return parse_global_id(value, "Customer", field="customerId")


def _shape(prop: Property) -> dict[str, Any]:
    return {"property": Ref("Property", prop.id)}


@strawberry.type
class PropertyMutation:
    @strawberry.mutation(
        description="Create a property of a customer (`property:write`).",
        metadata=requires("property:write"),
    )
    async def property_create(
        self, info: Info, input: PropertyCreateInput
    ) -> PropertyCreatePayload:
        return await mutate(
            info,
            PropertyCreatePayload,
            lambda session, actor: service.create_property(
                session,
                customer_id=parse_global_id(input.customer_id, "Customer", field="customerId"),
                label=input.label,
                address_line1=input.address_line1,
                address_line2=input.address_line2,
                postal_code=input.postal_code,
                city=input.city,
                country=input.country,
                notes=input.notes,
                actor=actor,
            ),
            _shape,
        )

    @strawberry.mutation(
        description="Change a property, or move it to another customer (`property:write`; "
        "PROPERTY_HAS_OPEN_INVOICES, HAS_DEPENDENTS).",
        metadata=requires("property:write"),
    )
    async def property_update(
        self, info: Info, input: PropertyUpdateInput
    ) -> PropertyUpdatePayload:
        async def work(session: AsyncSession, actor: Principal) -> Property:
            return await service.update_property(
                session,
                property_id=parse_global_id(input.id, "Property"),
                customer_id=mapped(patch(input.customer_id), _customer_pk),
                label=patch(input.label),
                address_line1=patch(input.address_line1),
                address_line2=patch(input.address_line2),
                postal_code=patch(input.postal_code),
                city=patch(input.city),
                country=patch(input.country),
                notes=patch(input.notes),
                actor=actor,
            )

        return await mutate(info, PropertyUpdatePayload, work, _shape)

    @strawberry.mutation(
        description="Delete a property no order or invoice refers to (`property:write`).",
        metadata=requires("property:write"),
    )
    async def property_delete(
        self, info: Info, input: PropertyDeleteInput
    ) -> PropertyDeletePayload:
        return await mutate(
            info,
            PropertyDeletePayload,
            lambda session, actor: service.delete_property(
                session, property_id=parse_global_id(input.id, "Property"), actor=actor
            ),
            lambda deleted: {"deleted_id": strawberry.ID(to_global_id("Property", deleted))},
        )
