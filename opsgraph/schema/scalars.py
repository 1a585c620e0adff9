"""The Date, DateTime and Decimal scalars, held to what opsgraph stores.

They keep Strawberry's names and output (ISO dates and timestamps; decimals as written by
``str``, e.g. ``"250.00"``) and refuse on input what PostgreSQL or Python would only
choke on later:

* ``Date`` and ``DateTime`` lie between 1900-01-01 and 2999-12-31 (a timestamp's own
  calendar date, before any time zone conversion, so none overflows);
* ``Decimal`` is written in ASCII digits, ``-?[0-9]+(\\.[0-9]+)?``: no exponent, no ``_``,
  no white space, no other digits, no ``NaN``/``Infinity``. Every amount of money is
  checked further by the services (at most 2 decimals, not negative, within
  NUMERIC(12,2); ``opsgraph.services.checks.checked_money``), with the field named.

A refused value is a GraphQL request error naming the argument or variable, as for any
other badly typed input.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from typing import Any, Final

from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode
from strawberry.exceptions import StrawberryInputCoercionError
from strawberry.schema.types.base_scalars import (
    DateDefinition,
    DateTimeDefinition,
    DecimalDefinition,
)
from strawberry.types.scalar import ScalarDefinition

EARLIEST: Final = dt.date(1900, 1, 1)
LATEST: Final = dt.date(2999, 12, 31)
RANGE: Final = f"{EARLIEST.isoformat()} to {LATEST.isoformat()}"  # both included
DECIMAL_PATTERN: Final = re.compile(r"-?[0-9]+(\.[0-9]+)?")
DECIMAL_FORM: Final = "-?[0-9]+(.[0-9]+)?"


class InvalidScalar(StrawberryInputCoercionError):
    """A refused input value: a request error with ``extensions.code`` BAD_USER_INPUT
    (graphql-core carries the code over when it names the variable)."""

    def __init__(self, message: str, nodes: ValueNode | None = None) -> None:
        super().__init__(message, nodes, extensions={"code": "BAD_USER_INPUT"})


def _refuse(kind: str, value: object, why: str) -> InvalidScalar:
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return InvalidScalar(f"{kind} cannot represent {shown}: {why}")


def _in_range(kind: str, value: object, day: dt.date) -> None:
    if not EARLIEST <= day <= LATEST:
        raise _refuse(kind, value, f"it must be from {RANGE}")


def _text(kind: str, value: object, form: str) -> str:
    if not isinstance(value, str):
        raise _refuse(kind, value, f"expected a string, {form}")
    return value


def parse_date(value: object) -> dt.date:
    text = _text("Date", value, "YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _refuse("Date", value, "expected an ISO 8601 date, YYYY-MM-DD") from None
    _in_range("Date", value, day)
    return day


def parse_datetime(value: object) -> dt.datetime:
    text = _text("DateTime", value, "an ISO 8601 timestamp")
    try:
        moment = dt.datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        raise _refuse(
            "DateTime", value, "expected an ISO 8601 timestamp, YYYY-MM-DDTHH:MM:SS+HH:MM"
        ) from None
    _in_range("DateTime", value, moment.date())
    return moment


def parse_decimal(value: object) -> decimal.Decimal:
    """A JSON number is read as it prints (``10``, ``10.5``); a string as written."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _refuse("Decimal", value, f"expected a string {DECIMAL_FORM}")
    text = value if isinstance(value, str) else str(value)
    if not DECIMAL_PATTERN.fullmatch(text):
        raise _refuse("Decimal", value, f"write it as {DECIMAL_FORM} in ASCII digits")
    return decimal.Decimal(text)


def _literal(parse: Callable[[object], Any]) -> Callable[..., Any]:
    """parse_literal from the literal's own text: ``1e3`` stays ``1e3`` (refused), where
    graphql-core would first turn it into the float 1000.0."""

    def parse_literal(node: ValueNode, _variables: Any = None) -> Any:
        raw = (
            node.value
            if isinstance(node, StringValueNode | IntValueNode | FloatValueNode)
            else None
        )
        try:
            return parse(raw)
        except InvalidScalar as refused:
            raise InvalidScalar(refused.message, node) from None  # located in the document

    return parse_literal


def _bounded(base: ScalarDefinition, parse: Callable[[object], Any], note: str) -> ScalarDefinition:
    return ScalarDefinition(
        name=base.name,
        description=f"{base.description}; {note}",
        specified_by_url=base.specified_by_url,
        serialize=base.serialize,
        parse_value=parse,
        parse_literal=_literal(parse),
        origin=base.origin,
    )


SCALAR_OVERRIDES: Final[dict[object, Any]] = {
    dt.date: _bounded(DateDefinition, parse_date, f"from {RANGE}"),
    dt.datetime: _bounded(DateTimeDefinition, parse_datetime, f"its date from {RANGE}"),
    decimal.Decimal: _bounded(
        DecimalDefinition, parse_decimal, f"written {DECIMAL_FORM} in ASCII digits"
    ),
}
