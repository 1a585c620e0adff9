"""``guarded``: a field's permission written once, for its guard and its description."""

from __future__ import annotations

import pytest
import strawberry

from opsgraph.auth.guard import METADATA_KEY, Requirement, guarded
from opsgraph.permissions import Permission


def test_the_description_names_the_permission_where_it_says_needs() -> None:
    field = guarded(Permission.ORDER_WRITE, "Confirm a pending order ({needs}).")
    assert field["description"] == "Confirm a pending order (`order:write`)."
    assert field["metadata"] == {METADATA_KEY: Requirement("order:write")}


def test_a_description_may_leave_the_permission_out() -> None:
    assert guarded(Permission.REPORT_READ, "Key figures.")["description"] == "Key figures."
    assert guarded(Permission.REPORT_READ)["description"] is None


def test_public_if_is_kept() -> None:
    field = guarded(Permission.USER_ADMIN, "({needs})", public_if="self_signup")
    assert field["metadata"][METADATA_KEY] == Requirement("user:admin", public_if="self_signup")


def test_unknown_permissions_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown permission"):
        guarded("invoice:delete", "({needs})")  # type: ignore[arg-type]


def test_a_strawberry_field_takes_it_as_keyword_arguments() -> None:
    @strawberry.type
    class Query:
        @strawberry.field(**guarded(Permission.INVOICE_READ, "One ({needs})."))
        def one(self) -> int:
            return 1

    schema = strawberry.Schema(query=Query)
    field = schema.get_type_by_name("Query").fields[0]  # type: ignore[union-attr]
    assert field.description == "One (`invoice:read`)."
    assert field.metadata[METADATA_KEY] == Requirement("invoice:read")
