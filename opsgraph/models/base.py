"""Declarative base, naming convention and the column types every model shares."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    MetaData,
    Numeric,
    String,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY = Numeric(12, 2)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        Decimal: MONEY,
        dt.datetime: DateTime(timezone=True),
        dict[str, Any]: JSONB,
        str: String(),
    }


# Column shapes used across the models.
PrimaryKey = Annotated[
    int, mapped_column(BigInteger, Identity(always=False), primary_key=True, sort_order=-10)
]
Money = Annotated[Decimal, mapped_column(MONEY)]
CreatedAt = Annotated[
    dt.datetime,
    mapped_column(DateTime(timezone=True), server_default=func.now(), index=True, sort_order=90),
]
UpdatedAt = Annotated[
    dt.datetime,
    mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), sort_order=91
    ),
]


def fk(target: str, *, ondelete: str = "RESTRICT", nullable: bool = False) -> Any:
    """An indexed BIGINT foreign key (every foreign key gets an index)."""
    return mapped_column(
        BigInteger, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
    )


def one_of(
    column: str, values: Iterable[str] | type[StrEnum], name: str | None = None
) -> CheckConstraint:
    """CHECK that ``column`` holds one of ``values`` (enums are text + CHECK, easy to extend)."""
    items = [v.value if isinstance(v, StrEnum) else v for v in values]
    listed = ", ".join(f"'{item}'" for item in items)
    return CheckConstraint(f"{column} IN ({listed})", name=name or f"{column}_valid")


def non_blank(column: str) -> CheckConstraint:
    return CheckConstraint(f"length(btrim({column})) > 0", name=f"{column}_not_blank")


# A pragmatic address shape; the services validate with email-validator before writing.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
