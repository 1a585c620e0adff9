"""The rules of GraphQL over HTTP that need no view (opsgraph.rest.graphql_http applies
them): the media types and their negotiation, the request body's limit, the JSON error body
of an HTTP-level error, and the status a request error is answered with."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from cross_web import HTTPException
from starlette.types import Message, Receive
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from opsgraph.db.faults import UNAVAILABLE_CODE

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
SUPPORTED = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)  # in the server's order of preference
MAX_BODY_BYTES = 1024 * 1024

ERROR_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    503: UNAVAILABLE_CODE,
    500: "INTERNAL_SERVER_ERROR",
}


class RequestRejected(HTTPException):
    """An HTTP-level error with extra response headers (``Allow`` for 405) and, where the
    status alone doesn't say it, its own ``extensions.code``."""

    def __init__(
        self,
        status_code: int,
        reason: str,
        headers: Mapping[str, str] | None = None,
        *,
        code: str | None = None,
    ):
        super().__init__(status_code, reason)
        self.headers = dict(headers or {})
        self.code = code


class BodyTooLarge(Exception):
    pass


def error_body(message: str, code: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


def encode_replacing_surrogates(data: object) -> bytes:
    """JSON in UTF-8 with every unpaired surrogate replaced by U+FFFD."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace").encode("utf-8")


def with_charset(media_type: str) -> str:
    return f"{media_type}; charset=utf-8"


def negotiate(accept: str | None) -> str | None:
    """The response media type for an ``Accept`` header, or None when none is acceptable.

    No header (or an empty one) is a legacy client: ``application/json``. Otherwise each
    supported type gets the quality of the most specific range that matches it (RFC 9110,
    12.5.1); the best positive quality wins, ties go to ``application/graphql-response+json``.
    """
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    best: dict[str, tuple[int, float]] = {}  # media type -> (specificity, quality)
    for item in accept.split(","):
        if not item.strip():
            continue
        media_range, *raw_params = (part.strip() for part in item.split(";"))
        params = {}
        for raw in raw_params:
            key, _, value = raw.partition("=")
            params[key.strip().lower()] = value.strip().strip('"').lower()
        try:
            quality = float(params.pop("q", "1"))
        except ValueError:
            quality = 0.0
        charset = params.get("charset")
        if charset is not None and charset not in {"utf-8", "utf8"}:
            continue  # we only write UTF-8
        kind, _, subtype = media_range.lower().partition("/")
        for media_type in SUPPORTED:
            own_kind, own_subtype = media_type.split("/")
            if (kind, subtype) == (own_kind, own_subtype):
                specificity = 3
            elif kind == own_kind and subtype == "*":
                specificity = 2
            elif (kind, subtype) == ("*", "*"):
                specificity = 1
            else:
                continue
            if specificity > best.get(media_type, (0, 0.0))[0]:
                best[media_type] = (specificity, quality)
    ranked = [(best[m][1], -SUPPORTED.index(m), m) for m in best if best[m][1] > 0]
    return max(ranked)[2] if ranked else None


def limit_body(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises BodyTooLarge once the request body passes ``limit`` bytes."""
    received = 0

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise BodyTooLarge
        return message

    return limited


def is_request_error(result: ExecutionResult) -> bool:
    """True when GraphQL raised a request error: nothing executed, so no ``data`` entry.

    Parse and validation errors come as PreExecutionError; failed variable coercion as a
    result without data whose errors, unlike field errors, have no path.
    """
    if result.data is not None or not result.errors:
        return False
    return isinstance(result, PreExecutionError) or all(e.path is None for e in result.errors)


# request errors with their own status under application/graphql-response+json: operations
# refused as a whole before execution by the guards (opsgraph.auth.guard), by the trusted
# documents (the statuses Apollo's router gives them), or because the caller's cost budget
# is spent (opsgraph.auth.budget); any other request error, a query that costs too much
# included, is 400
REFUSALS = {
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "DOCUMENT_NOT_TRUSTED": 403,
    "PERSISTED_QUERY_NOT_FOUND": 404,
    "BUDGET_EXCEEDED": 429,
}
# statuses about the HTTP exchange itself, sent under application/json too
HTTP_LEVEL = frozenset({429})


def refusal(result: ExecutionResult) -> tuple[int, dict[str, str]]:
    """The status of a request error and the headers that go with it: 401 (with
    ``WWW-Authenticate``) or 403 for an operation the guards refused, 403/404 for trusted
    documents, 429 (with ``Retry-After``) when the caller's budget is spent, else 400."""
    for error in result.errors or ():
        extensions = error.extensions or {}
        status = REFUSALS.get(extensions.get("code", ""))
        if status == 401:
            return status, {"WWW-Authenticate": "Bearer"}
        if status == 429:
            return status, {"Retry-After": str(extensions.get("retryAfter", 1))}
        if status is not None:
            return status, {}
    return 400, {}
