"""GraphQL types for customers."""

from __future__ import annotations

import datetime as dt

import strawberry

from opsgraph import models
from opsgraph.schema.node import to_global_id


@strawberry.type
class Customer:
    id: strawberry.ID
    external_id: str | None
    name: str
    email: str | None
    phone: str | None
    org_no: str | None
    order_count: int
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def from_model(cls, row: models.Customer) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", row.id)),
            external_id=row.external_id,
            name=row.name,
            email=row.email,
            phone=row.phone,
            org_no=row.org_no,
            order_count=row.order_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
