"""Domain errors: the expected failures the services raise.

Mutations turn them into ``UserError`` payload entries; queries surface them as top-level
GraphQL errors whose ``extensions.code`` is the error's code. Anything that is not a
DomainError is unexpected: masked for the client and logged with the request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

# Every code a DomainError may carry: the GraphQL ``ErrorCode`` enum is made from this
# tuple, and defining an error class with a code missing here fails at import.
CODES: tuple[str, ...] = (
    "BAD_REQUEST",
    "BAD_USER_INPUT",
    "NOT_FOUND",
    "CONFLICT",
    "INVALID_STATE",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "INVALID_CREDENTIALS",
    "TOO_MANY_ATTEMPTS",
    "ROLE_IN_USE",
    "LAST_ADMIN",
    # business rules (opsgraph.services)
    "INVALID_EMAIL",
    "DUPLICATE_EXTERNAL_ID",
    "DUPLICATE_SKU",
    "INVALID_SKU",
    "HAS_DEPENDENTS",
    "PROPERTY_CUSTOMER_MISMATCH",
    "PROPERTY_HAS_OPEN_INVOICES",
    "INACTIVE",
    "INSUFFICIENT_STOCK",
    "INVALID_TRANSITION",
    "ALREADY_INVOICED",
    "INVOICE_ALREADY_PAID",
    "INVOICE_VOID",
    "INVOICE_NOT_SENT",
    "INVOICE_HAS_PAYMENTS",
    "PAYMENT_EXCEEDS_BALANCE",
    "DUPLICATE_REFERENCE",
    "TICKET_CLOSED",
    "STALE_VERSION",
    "BOOKED_BY_PAYMENT",
    # webhooks (opsgraph.webhooks)
    "UNSAFE_URL",
    # idempotency keys (opsgraph.services.idempotency)
    "IDEMPOTENCY_IN_PROGRESS",
    "IDEMPOTENCY_KEY_REUSED",
    # trusted documents (opsgraph.rest.trusted_documents)
    "PERSISTED_QUERY_NOT_FOUND",
    "DOCUMENT_NOT_TRUSTED",
    # query cost and budgets (opsgraph.execution.cost, opsgraph.auth.budget)
    "QUERY_TOO_COSTLY",
    "BUDGET_EXCEEDED",
    # the database was busy: a lock or a statement took too long (opsgraph.db.faults)
    "TRY_AGAIN",
    # the size and shape of a GraphQL document (opsgraph.schema.limits)
    "DOCUMENT_TOO_LONG",
    "TOO_MANY_TOKENS",
    "QUERY_TOO_DEEP",
    "TOO_MANY_FIELDS",
    "TOO_MANY_ALIASES",
    "TOO_MANY_DIRECTIVES",
    "TOO_MANY_DUPLICATE_FIELDS",
)


# Codes of GraphQL request errors and of faults, in ``extensions.code`` of top-level errors
# only (never in a payload's ``errors``): every error a response carries has a code.
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"  # the document is not GraphQL
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"  # it does not validate against the schema
OPERATION_NOT_FOUND = "OPERATION_NOT_FOUND"  # no operation of that name, or several and none named
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"  # unexpected: masked and logged


class DomainError(Exception):
    code: ClassVar[str] = "BAD_REQUEST"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.code not in CODES:
            raise TypeError(f"{cls.__name__}.code {cls.code!r} is not listed in errors.CODES")

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = list(field) if field is not None else None

    @property
    def extensions(self) -> dict[str, Any]:
        """Read by graphql-core when it wraps the exception in a GraphQLError."""
        data: dict[str, Any] = {"code": self.code}
        if self.field is not None:
            data["field"] = self.field
        return data


class InvalidInput(DomainError):
    code = "BAD_USER_INPUT"


class InvalidInputs(InvalidInput):
    """Several broken input rules, found at once (``opsgraph.services.checks.InputChecks``):
    a mutation's payload lists each of ``errors`` with its own code and field. Seen as one
    error (a REST answer, a query's top-level error), it is the first of them."""

    def __init__(self, errors: Sequence[InvalidInput]) -> None:
        if not errors:
            raise ValueError("InvalidInputs needs at least one error")
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = list(errors)

    @property
    def extensions(self) -> dict[str, Any]:
        return self.errors[0].extensions


def each_error(error: DomainError) -> list[DomainError]:
    """The errors ``error`` stands for: those of an ``InvalidInputs``, else itself."""
    return list(error.errors) if isinstance(error, InvalidInputs) else [error]


class NotFound(DomainError):
    code = "NOT_FOUND"


class Conflict(DomainError):
    code = "CONFLICT"


class InvalidState(DomainError):
    code = "INVALID_STATE"


class Unauthenticated(DomainError):
    """No valid credentials: every rejected token or key gets this same error."""

    code = "UNAUTHENTICATED"

    def __init__(
        self, message: str = "Authentication required: send a valid access token."
    ) -> None:
        super().__init__(message)


class Forbidden(DomainError):
    code = "FORBIDDEN"


class InvalidCredentials(DomainError):
    """A login that failed: the same for an unknown user and a wrong password."""

    code = "INVALID_CREDENTIALS"

    def __init__(self) -> None:
        super().__init__("The username or password is wrong.")


class TooManyAttempts(DomainError):
    code = "TOO_MANY_ATTEMPTS"


# --- limits on a GraphQL document: refused before it is validated or run -----------------


class DocumentLimitExceeded(DomainError):
    """A GraphQL document larger or deeper than a configured limit allows."""


class DocumentTooLong(DocumentLimitExceeded):
    code = "DOCUMENT_TOO_LONG"


class TooManyTokens(DocumentLimitExceeded):
    code = "TOO_MANY_TOKENS"


class QueryTooDeep(DocumentLimitExceeded):
    code = "QUERY_TOO_DEEP"


class TooManyFields(DocumentLimitExceeded):
    code = "TOO_MANY_FIELDS"


class TooManyAliases(DocumentLimitExceeded):
    code = "TOO_MANY_ALIASES"


class TooManyDirectives(DocumentLimitExceeded):
    code = "TOO_MANY_DIRECTIVES"


class TooManyDuplicateFields(DocumentLimitExceeded):
    code = "TOO_MANY_DUPLICATE_FIELDS"


# --- business rules: the services raise these, payloads list them ----------------------


class InvalidEmail(InvalidInput):
    code = "INVALID_EMAIL"


class DuplicateExternalId(Conflict):
    code = "DUPLICATE_EXTERNAL_ID"


class DuplicateSku(Conflict):
    code = "DUPLICATE_SKU"


class InvalidSku(InvalidInput):
    code = "INVALID_SKU"


class HasDependents(Conflict):
    """A delete refused while other rows still refer to the row (orders, invoices...)."""

    code = "HAS_DEPENDENTS"


class PropertyCustomerMismatch(InvalidInput):
    """A property given for a customer it does not belong to."""

    code = "PROPERTY_CUSTOMER_MISMATCH"


class PropertyHasOpenInvoices(InvalidState):
    code = "PROPERTY_HAS_OPEN_INVOICES"


class Inactive(InvalidState):
    """A deactivated product or user named where an active one is needed."""

    code = "INACTIVE"


class InsufficientStock(InvalidState):
    code = "INSUFFICIENT_STOCK"


class InvalidTransition(InvalidState):
    """A status change the entity's transition table does not allow from its status."""

    code = "INVALID_TRANSITION"


class AlreadyInvoiced(Conflict):
    code = "ALREADY_INVOICED"


class InvoiceAlreadyPaid(InvalidState):
    code = "INVOICE_ALREADY_PAID"


class InvoiceVoid(InvalidState):
    code = "INVOICE_VOID"


class InvoiceNotSent(InvalidState):
    code = "INVOICE_NOT_SENT"


class InvoiceHasPayments(InvalidState):
    code = "INVOICE_HAS_PAYMENTS"


class PaymentExceedsBalance(InvalidInput):
    code = "PAYMENT_EXCEEDS_BALANCE"


class DuplicateReference(Conflict):
    code = "DUPLICATE_REFERENCE"


class TicketClosed(InvalidState):
    code = "TICKET_CLOSED"


class StaleVersion(Conflict):
    """An optimistic version check failed: the row changed since the caller read it."""

    code = "STALE_VERSION"


class BookedByPayment(InvalidState):
    """A financial transaction a payment booked: it changes only with the payment."""

    code = "BOOKED_BY_PAYMENT"


class IdempotencyInProgress(Conflict):
    code = "IDEMPOTENCY_IN_PROGRESS"


class IdempotencyKeyReused(Conflict):
    code = "IDEMPOTENCY_KEY_REUSED"


class PersistedQueryNotFound(NotFound):
    """A persisted query's hash that names no stored document. Message and code are the
    ones Apollo's clients look for before they send the document itself."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class DocumentNotTrusted(Forbidden):
    """A document that is not registered, sent while only registered documents run."""

    code = "DOCUMENT_NOT_TRUSTED"

    def __init__(self) -> None:
        super().__init__(
            "Only registered documents run on this server: this document is not registered "
            "(opsgraph documents register)."
        )


class QueryTooCostly(DomainError):
    """An operation that costs more than the limit: refused before it runs."""

    code = "QUERY_TOO_COSTLY"

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(
            f"This operation costs {cost}, more than the limit of {limit}: ask for smaller "
            "pages (first/last) or fewer nested lists."
        )
        self.cost = cost
        self.limit = limit


class BudgetExceeded(DomainError):
    """The caller has spent its cost budget for now; ``retry_after`` seconds from now the
    operation fits again."""

    code = "BUDGET_EXCEEDED"

    def __init__(self, cost: int, remaining: int, retry_after: int) -> None:
        super().__init__(
            f"This operation costs {cost} and {remaining} of your budget is left; "
            f"retry in {retry_after} s."
        )
        self.remaining = remaining
        self.retry_after = retry_after

    @property
    def extensions(self) -> dict[str, Any]:
        return {**super().extensions, "retryAfter": self.retry_after}


class TryAgain(DomainError):
    """A mutation waited too long for a lock or ran past the statement timeout: nothing
    was changed, and the same request may simply be sent again."""

    code = "TRY_AGAIN"

    def __init__(self) -> None:
        super().__init__(
            "The database was busy (a lock or a statement took too long); nothing was "
            "changed. The mutation may be retried."
        )


class UnsafeUrl(InvalidInput):
    """A webhook URL that could reach the server's own network: not https, or a private,
    loopback, link-local, metadata or otherwise non-public address."""

    code = "UNSAFE_URL"
