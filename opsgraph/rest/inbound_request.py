"""What both inbound webhooks do to a request before a service runs (opsgraph.rest.inbound):
read the JSON body within its limit, check the signature, the caller and the ``webhook-id``,
parse the body into its model; and how a refusal is answered, as JSON errors."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse

from opsgraph.auth.principal import Principal
from opsgraph.context import Context
from opsgraph.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    NotFound,
    Unauthenticated,
    each_error,
)
from opsgraph.services.checks import unsafe_characters
from opsgraph.webhooks.signing import WebhookVerificationError, verify

MAX_BODY_BYTES = 256 * 1024
MAX_WEBHOOK_ID = 200
JSON = "application/json"
STATUSES = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
}
Handler = Callable[[Request], Awaitable[JSONResponse]]


class Refused(Exception):
    """A request answered with an error before any service ran."""

    def __init__(
        self, status: int, message: str, code: str, errors: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.errors = errors


def error_entry(message: str, code: str, field: list[str] | None = None) -> dict[str, Any]:
    extensions: dict[str, Any] = {"code": code}
    if field is not None:
        extensions["field"] = field
    return {"message": message, "extensions": extensions}


def error_response(
    status: int, errors: list[dict[str, Any]], extra: dict[str, Any] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"errors": errors, **(extra or {})}
    return JSONResponse(body, status_code=status, headers=headers)


def _refused(error: DomainError) -> JSONResponse:
    status = next((s for kind, s in STATUSES.items() if isinstance(error, kind)), 422)
    return error_response(
        status, [error_entry(e.message, e.code, e.field) for e in each_error(error)]
    )


def guarded(handler: Handler) -> Handler:
    """``handler`` with its refusals answered as JSON errors (database faults go on to
    the app's handlers: 503)."""

    @functools.wraps(handler)
    async def run(request: Request) -> JSONResponse:
        try:
            return await handler(request)
        except Refused as refused:
            errors = refused.errors or [error_entry(refused.message, refused.code)]
            return error_response(refused.status, errors)
        except DomainError as error:
            return _refused(error)

    return run


async def read_body(request: Request) -> bytes:
    """The JSON body, at most ``MAX_BODY_BYTES`` (413 past that, also while it streams)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != JSON:
        raise Refused(415, f"send the body as {JSON}", "UNSUPPORTED_MEDIA_TYPE")
    too_large = Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes", "PAYLOAD_TOO_LARGE")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY_BYTES:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def check_signature(secret: str, body: bytes, request: Request) -> None:
    """When the source has a secret: a valid signature of ``body`` made within 5 min."""
    if not secret:
        return
    try:
        verify(secret, body, dict(request.headers))
    except WebhookVerificationError:
        raise Refused(
            401,
            "the webhook signature is missing, does not match, or is older or newer than "
            "5 minutes (Standard Webhooks: webhook-id, webhook-timestamp, webhook-signature)",
            "INVALID_SIGNATURE",
        ) from None


async def caller(context: Context, permission: str) -> Principal:
    principal = await context.principal()
    if principal is None:
        raise Unauthenticated("send the API key as Authorization: Bearer <key>")
    principal.require(permission)
    return principal


def webhook_id_of(request: Request) -> str | None:
    value = request.headers.get("webhook-id")
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > MAX_WEBHOOK_ID or unsafe_characters(value) is not None:
        raise Refused(
            422,
            f"webhook-id must be 1-{MAX_WEBHOOK_ID} printable characters",
            "BAD_USER_INPUT",
            [error_entry("invalid webhook-id header", "BAD_USER_INPUT", ["webhook-id"])],
        )
    return value


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(body: bytes, model: type[BaseModel]) -> Any:
    """The body as ``model``, or 422 naming each bad field."""
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError):
        raise Refused(422, "the body is not JSON in UTF-8", "BAD_USER_INPUT") from None
    if not isinstance(data, dict):
        raise Refused(422, "the body must be a JSON object", "BAD_USER_INPUT")
    try:
        parsed = model.model_validate(data)
    except ValidationError as invalid:
        errors = [
            error_entry(
                str(problem["msg"]),
                "BAD_USER_INPUT",
                [str(part) for part in problem["loc"]] or ["body"],
            )
            for problem in invalid.errors(include_url=False, include_input=False)
        ]
        raise Refused(422, "invalid fields", "BAD_USER_INPUT", errors) from None
    for name, value in parsed.model_dump(mode="json").items():
        problem = unsafe_characters(value) if isinstance(value, str) else None
        if problem is not None:
            raise Refused(
                422,
                "invalid fields",
                "BAD_USER_INPUT",
                [error_entry(problem, "BAD_USER_INPUT", [name])],
            )
    return parsed
