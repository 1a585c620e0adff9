"""The input checks every service shares: money amounts, free text and email addresses.

Each returns the value as stored, or raises ``InvalidInput`` (``BAD_USER_INPUT``) at
``field``: the path into the GraphQL input, given by the caller (``"amount"`` or
``["lines", "0", "unitPrice"]``). The message names the field (``label``; by default the
path's last part) and the limit it broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from opsgraph.errors import InvalidInput

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # NUMERIC(12,2): ten digits before the point


def _path(field: str | Sequence[str]) -> list[str]:
    return [field] if isinstance(field, str) else list(field)


def checked_money(
    value: Decimal,
    *,
    field: str | Sequence[str],
    label: str | None = None,
    positive: bool = False,
) -> Decimal:
    """An amount of money as stored: finite, not negative (more than 0 when ``positive``),
    at most 2 decimals and within NUMERIC(12,2)."""
    path = _path(field)
    what = label or path[-1]
    if not value.is_finite():
        raise InvalidInput(f"{what} must be a number, not {value}", field=path)
    if positive and value <= 0:
        raise InvalidInput(f"{what} must be more than 0 (got {value})", field=path)
    if value < 0:
        raise InvalidInput(f"{what} must not be negative (got {value})", field=path)
    if value > MAX_MONEY:
        raise InvalidInput(f"{what} must be at most {MAX_MONEY} (got {value})", field=path)
    if value != value.quantize(CENT):
        raise InvalidInput(f"{what} must have at most 2 decimals (got {value})", field=path)
    return value.quantize(CENT) + 0  # + 0: no negative zero


def checked_text(
    value: str | None,
    *,
    field: str | Sequence[str],
    limit: int,
    blank: bool = True,
    label: str | None = None,
) -> str:
    """Free text as stored: surrounding white space dropped (None counts as empty); empty
    only when ``blank``; at most ``limit`` characters."""
    path = _path(field)
    what = label or path[-1]
    text = (value or "").strip()
    if not blank and not text:
        raise InvalidInput(f"{what} must not be blank", field=path)
    if len(text) > limit:
        raise InvalidInput(f"{what} must be at most {limit} characters", field=path)
    return text


def checked_email(
    raw: str, *, field: str = "email", error: type[InvalidInput] = InvalidInput
) -> str:
    """The address as stored: validated (no deliverability lookup), normalised, lower
    case; ``error`` (by default ``InvalidInput``) at ``field`` otherwise."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise error(f"email {raw!r} is not valid: {exc}", field=[field]) from None
