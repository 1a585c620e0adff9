"""The input checks every service shares: money amounts, free text, email addresses, and
the characters no text may hold; and ``InputChecks``, which runs a mutation's independent
input checks all, so that one response reports every broken rule.

Each returns the value as stored, or raises ``InvalidInput`` (``BAD_USER_INPUT``) at
``field``: the path into the GraphQL input, given by the caller (``"amount"`` or
``["lines", "0", "unitPrice"]``). The message names the field (``label``; by default the
path's last part) and the limit it broke.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from email_validator import EmailNotValidError, validate_email

from opsgraph.errors import InvalidInput, InvalidInputs, each_error

CENT = Decimal("0.01")
MAX_MONEY = Decimal("9999999999.99")  # NUMERIC(12,2): ten digits before the point
# NUL, which PostgreSQL text cannot hold, and UTF-16 surrogates, which are no characters
# at all (a JSON "\ud800" escape without its pair decodes to one) and cannot be UTF-8
UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")


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


def unsafe_characters(text: str) -> str | None:
    """What is wrong with the characters of ``text`` (NUL, an unpaired surrogate), or None."""
    found = UNSAFE_CHARACTERS.search(text)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters (U+0000)"
    return "must not contain unpaired UTF-16 surrogates (U+D800 to U+DFFF)"


def check_characters(text: str, *, field: str | Sequence[str], label: str | None = None) -> None:
    """Raise ``InvalidInput`` at ``field`` when ``text`` holds a NUL or a surrogate."""
    problem = unsafe_characters(text)
    if problem is not None:
        path = _path(field)
        raise InvalidInput(f"{label or '.'.join(path)} {problem}", field=path)


def checked_email(
    raw: str, *, field: str = "email", error: type[InvalidInput] = InvalidInput
) -> str:
    """The address as stored: validated (no deliverability lookup), normalised, lower
    case; ``error`` (by default ``InvalidInput``) at ``field`` otherwise."""
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise error(f"email {raw!r} is not valid: {exc}", field=[field]) from None


class InputChecks:
    """Runs independent input checks, each to the end, and then refuses them together.

    A service checks what the client sent before it reads the database; those checks
    don't depend on each other (a bad period says nothing about a bad total), so the
    client gets every broken rule in one response, each at its own field. Each ``with``
    block is one check: its refusal is kept and the service goes on with the next::

        checks = InputChecks()
        with checks:
            subtotal = checked_money(subtotal, field="subtotal")
        with checks:
            tax = checked_money(tax, field="tax")
        if not checks.failed:  # a rule over checked values: only when they are good
            ...checks.add(InvalidInput("total must be ...", field=["total"]))
        with checks:
            check_period(start, end)
        checks.done()  # raises them all (InvalidInputs), if any

    Checks that need the database (not found, wrong state) come after ``done`` and stop
    at the first, as before.
    """

    def __init__(self) -> None:
        self.errors: list[InvalidInput] = []

    def add(self, error: InvalidInput) -> None:
        self.errors.extend(item for item in each_error(error) if isinstance(item, InvalidInput))

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, trace: object) -> bool:
        if isinstance(error, InvalidInput):
            self.add(error)
            return True
        return False

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def done(self) -> None:
        """Raise every refusal kept so far, as one ``InvalidInputs``; nothing if none."""
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise InvalidInputs(self.errors)
