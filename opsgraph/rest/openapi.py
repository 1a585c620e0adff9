"""``GET /openapi.json``: the OpenAPI document of the REST routes, generated from the
routes themselves (Starlette's ``SchemaGenerator`` reads each endpoint's docstring after
its ``---``) over the shared parts below; the request bodies' schemas come from the
pydantic models the routes validate with. GraphQL has its own schema (``schema.graphql``).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute
from starlette.schemas import SchemaGenerator

from opsgraph.rest.inbound import SalesReport, StateReport
from opsgraph.rest.inbound_request import MAX_BODY_BYTES
from opsgraph.version import __version__


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Errors"}}},
    }


def _models(*models: Any) -> dict[str, Any]:
    """The JSON schemas of pydantic ``models`` and of what they refer to, by name."""
    schemas: dict[str, Any] = {}
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas


def _header(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "header",
        "required": False,
        "description": description,
        "schema": {"type": "string"},
    }


RECEIPT: dict[str, Any] = {
    "receiptId": {"type": "string", "description": "The WebhookReceipt's global id."},
    "status": {"type": "string", "enum": ["received", "processed", "failed"]},
    "duplicate": {
        "type": "boolean",
        "description": "True when an earlier delivery of the same webhook stored it.",
    },
}
PURCHASE_ORDER: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "externalId": {"type": "string"},
        "state": {"type": "string"},
        "stateVersion": {"type": "integer"},
        "brand": {"type": ["string", "null"]},
        "carModel": {"type": ["string", "null"]},
    },
}
OAUTH_ERROR: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}
ERRORS: dict[str, Any] = {
    "type": "object",
    "required": ["errors"],
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["message", "extensions"],
                "properties": {
                    "message": {"type": "string"},
                    "extensions": {
                        "type": "object",
                        "required": ["code"],
                        "properties": {
                            "code": {"type": "string"},
                            "field": {
                                "type": "array",
                                "items": {"type": "string"},
                                "description": "The field at fault (422: one entry each).",
                            },
                        },
                    },
                },
            },
        }
    },
}


def base_schema() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "opsgraph REST",
            "version": __version__,
            "description": "Health, readiness, the OAuth2 token and revocation routes and "
            "the inbound webhooks. Everything else is GraphQL at /graphql.",
        },
        "components": {
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key (`og_...`), also accepted as `Client-Secret`.",
                },
                "clientBasic": {
                    "type": "http",
                    "scheme": "basic",
                    "description": "/auth/token's client_credentials grant: an API key as "
                    "the OAuth2 client, its prefix as the id, the whole key as the secret.",
                },
            },
            "parameters": {
                "WebhookId": _header(
                    "webhook-id",
                    "The message id (1-200 characters): what makes a delivery idempotent.",
                ),
                "WebhookTimestamp": _header(
                    "webhook-timestamp",
                    "Unix seconds; within 5 minutes of the server's clock when signing is on.",
                ),
                "WebhookSignature": _header(
                    "webhook-signature",
                    "`v1,<base64 HMAC-SHA256>` (Standard Webhooks), needed when the source "
                    "has a signing secret.",
                ),
            },
            "schemas": {
                "Errors": ERRORS,
                **_models(SalesReport, StateReport),
                "SalesReceipt": {"type": "object", "properties": RECEIPT},
                "StateReceipt": {
                    "type": "object",
                    "properties": {**RECEIPT, "purchaseOrder": PURCHASE_ORDER},
                },
                "StateConflict": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Errors"},
                        {
                            "type": "object",
                            "properties": {**RECEIPT, "purchaseOrder": PURCHASE_ORDER},
                        },
                    ]
                },
            },
            "responses": {
                "OAuthError": {
                    "description": "An RFC 6749 error: invalid_request, invalid_grant, "
                    "unsupported_grant_type, unsupported_token_type (400), "
                    "too_many_attempts (429, with Retry-After), server_error (500).",
                    "content": {"application/json": {"schema": OAUTH_ERROR}},
                },
                "OAuthClientError": {
                    "description": "invalid_client: the client (an API key) did not authenticate.",
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}}},
                    "content": {"application/json": {"schema": OAUTH_ERROR}},
                },
                "OAuthUnavailable": {
                    "description": "temporarily_unavailable: the database is unavailable "
                    "or not migrated; retry after Retry-After.",
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": OAUTH_ERROR}},
                },
                "Unauthenticated": _error_response(
                    "No API key, a bad one, or (signing on) a bad or stale signature."
                ),
                "Forbidden": _error_response(
                    "The key lacks the scope or is not bound to an office/manufacturer."
                ),
                "NotFound": _error_response("No such purchase order (of your brand)."),
                "Conflict": _error_response("The webhook-id was used with another body."),
                "TooLarge": _error_response(f"The body is larger than {MAX_BODY_BYTES} bytes."),
                "UnsupportedMediaType": _error_response("The body is not application/json."),
                "Invalid": _error_response(
                    "Malformed JSON, or missing/invalid fields (one error per field)."
                ),
                "Unavailable": {
                    **_error_response("The database is unavailable; retry after Retry-After."),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                },
            },
        },
    }


def document(routes: list[BaseRoute]) -> dict[str, Any]:
    """The OpenAPI document of ``routes``."""
    return SchemaGenerator(base_schema()).get_schema(routes=routes)


async def openapi(request: Request) -> JSONResponse:
    """This document.
    ---
    summary: The OpenAPI document of the REST routes
    responses:
      "200":
        description: OpenAPI 3.1, as JSON.
        content:
          application/json:
            schema: {type: object}
    """
    return JSONResponse(document(request.app.routes))
