"""GraphQL over HTTP, as the GraphQL-over-HTTP specification describes it, recommendations included.

Strawberry's ASGI view parses GET and POST requests and executes them; this subclass adds,
through the view's hooks, what the specification asks for beyond that:

* media types: ``application/graphql-response+json`` whenever the ``Accept`` header allows it
  (the server's choice when ``application/json`` ranks equal), ``application/json`` for legacy
  clients that ask only for that or send no ``Accept``; 406 when neither is acceptable.
  Responses name their charset and vary on ``Accept``.
* status codes: under ``application/graphql-response+json`` a request error (the document
  does not parse or validate, the operation cannot be picked, the variables do not coerce)
  is 400 and the body has no ``data`` entry, as has an operation the guards refuse as a
  whole (401 unauthenticated, 403 forbidden); field errors during execution stay 200. Under
  ``application/json`` every well-formed request gets 200, except one whose caller has
  spent its cost budget: 429 with ``Retry-After`` under either media type.
* GET runs queries only: a mutation over GET is 405 with ``Allow: POST``.
* POST bodies must be ``application/json`` in UTF-8 (else 415) and a JSON object (else 400);
  more than 1 MiB is 413; batching stays off.
* persisted queries and the allow-list of trusted documents (opsgraph.rest.trusted_documents),
  when the view has ``documents``: the document is resolved from its hash before Strawberry
  parses it.
* a request the database could not serve (unavailable, out of connections, past a timeout)
  is 503 with ``Retry-After`` as a whole, whatever part of it met the fault.
* every HTTP-level error is a JSON body ``{"errors": [{"message", "extensions": {"code"}}]}``
  with a plain message, never a traceback; every GraphQL error has an ``extensions.code``
  too (``opsgraph.api``; ``OPERATION_NOT_FOUND`` when no operation can be picked).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar, cast

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException, StarletteRequestAdapter
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from opsgraph.db.faults import (
    UNAVAILABLE_CODE,
    UNAVAILABLE_MESSAGE,
    DatabaseUnavailable,
    describe,
    unavailable,
)
from opsgraph.errors import OPERATION_NOT_FOUND, DomainError
from opsgraph.rest.graphql_protocol import (
    APPLICATION_JSON,
    ERROR_CODES,
    GRAPHQL_RESPONSE_JSON,
    HTTP_LEVEL,
    MAX_BODY_BYTES,
    BodyTooLarge,
    RequestRejected,
    encode_replacing_surrogates,
    error_body,
    is_request_error,
    limit_body,
    negotiate,
    refusal,
    with_charset,
)
from opsgraph.rest.idempotency import (
    IDEMPOTENCY_HEADER,
    Refused,
    Replayed,
    is_mutation,
    run_idempotent,
)
from opsgraph.rest.trusted_documents import BadPersistedQuery, TrustedDocuments

log = logging.getLogger(__name__)
ContextT = TypeVar("ContextT")
RootValueT = TypeVar("RootValueT")


class GraphQLOverHTTP(GraphQL[ContextT, RootValueT]):
    """Strawberry's ASGI view, held to the GraphQL-over-HTTP specification."""

    max_body_bytes = MAX_BODY_BYTES
    #: the message the schema puts on unexpected errors (``masked``); a request error
    #: carrying it was a server fault before execution, answered 500 instead of 400
    masked_message: str | None = None
    #: persisted queries and the allow-list; None runs every document as sent
    documents: TrustedDocuments | None = None
    #: the Retry-After (seconds) of a 503 answered while the database is unavailable
    retry_after = 5

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # pragma: no cover - create_app routes only HTTP here
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive=limit_body(receive, self.max_body_bytes))
        request.state.graphql_media_type = APPLICATION_JSON  # for errors until negotiated
        try:
            response = await self.handle(request)
        except BodyTooLarge:
            response = self.error_response(request, 413, self._too_large)
        except RequestRejected as exc:
            response = self.error_response(
                request, exc.status_code, exc.reason, exc.headers, code=exc.code
            )
        except HTTPException as exc:  # strawberry's: malformed body, missing query, ...
            headers = {"Allow": "GET, POST"} if exc.status_code == 405 else None
            response = self.error_response(request, exc.status_code, exc.reason, headers)
        except Exception as exc:
            if not unavailable(exc):
                raise
            if not isinstance(exc, DatabaseUnavailable):
                log.warning("database unavailable: %s", describe(exc))
            response = self.error_response(
                request,
                503,
                UNAVAILABLE_MESSAGE,
                {"Retry-After": str(self.retry_after)},
                code=UNAVAILABLE_CODE,
            )
        await response(scope, receive, send)

    @property
    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_body_bytes} bytes."

    def should_render_graphql_ide(self, request: Any) -> bool:
        """GraphiQL for a browser's GET without a document (a persisted query is one)."""
        return bool(
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    async def handle(self, request: Request) -> Response:
        """Checks that need the raw request, then Strawberry's own handling (``run``)."""
        if request.method == "POST":
            length = request.headers.get("content-length", "")
            if length.isdigit() and int(length) > self.max_body_bytes:
                raise BodyTooLarge
            self.check_content_type(request.headers.get("content-type"))
        if not self.should_render_graphql_ide(StarletteRequestAdapter(request)):
            media_type = negotiate(request.headers.get("accept"))
            if media_type is None:
                raise RequestRejected(
                    406,
                    f"Not acceptable: this endpoint answers with {GRAPHQL_RESPONSE_JSON} or "
                    f"{APPLICATION_JSON}; the Accept header allows neither.",
                )
            request.state.graphql_media_type = media_type
        return await self.run(request)

    @staticmethod
    def check_content_type(header: str | None) -> None:
        if not header:
            raise RequestRejected(
                415, f"A POST request needs a Content-Type header: use {APPLICATION_JSON}."
            )
        media_type, params = parse_content_type(header)
        charset = params.get("charset", "utf-8").lower()
        if media_type.lower() != APPLICATION_JSON or charset not in {"utf-8", "utf8"}:
            raise RequestRejected(
                415,
                f"Unsupported Content-Type {header!r}: send the request as "
                f"{APPLICATION_JSON} in UTF-8.",
            )

    def error_response(
        self,
        request: Request,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
        *,
        code: str | None = None,
    ) -> Response:
        media_type: str = request.state.graphql_media_type
        body = error_body(message, code or ERROR_CODES.get(status, "BAD_REQUEST"))
        response = Response(
            self.encode_json(body),
            status_code=status,
            media_type=with_charset(media_type),
            headers=dict(headers or {}),
        )
        response.headers["Vary"] = "Accept"
        return response

    # Strawberry's hooks

    def encode_json(self, data: object) -> bytes:
        """UTF-8 JSON with orjson: the dashboard's 330 kB response in about a tenth of the
        time ``json.dumps`` takes. A text UTF-8 cannot hold (an unpaired surrogate a client
        sent, echoed in an error message) is written as U+FFFD instead."""
        try:
            return orjson.dumps(data)
        except orjson.JSONEncodeError:
            return encode_replacing_surrogates(data)

    def decode_json(self, data: str | bytes) -> object:
        """JSON in UTF-8 only (``json.loads`` would also guess UTF-16 and UTF-32)."""
        return json.loads(data.decode("utf-8") if isinstance(data, bytes) else data)

    def parse_json(self, data: str | bytes) -> Any:
        """Request bodies and the ``variables`` / ``extensions`` parameters are JSON objects.

        A list body would be a batch: batching is off, whatever the schema's configuration.
        """
        try:
            value = super().parse_json(data)
        except UnicodeDecodeError:
            raise HTTPException(400, "The request body is not valid UTF-8.") from None
        except RecursionError:
            raise HTTPException(400, "The JSON is nested too deeply.") from None
        if isinstance(value, list):
            raise HTTPException(400, "Batched requests are not supported: send one operation.")
        if not isinstance(value, dict):
            raise HTTPException(400, "Expected a JSON object.")
        return value

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        for operation in data if isinstance(data, list) else [data]:
            if not isinstance(operation.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null."
                )
            # the specification: an empty operationName is the same as none
            operation.operation_name = operation.operation_name or None
        return data

    async def execute_single(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        if self.documents is None:
            return await self._execute_idempotent(
                request, request_adapter, sub_response, context, root_value, request_data
            )
        try:
            prepared = await self.documents.prepare(request_data, context)
        except BadPersistedQuery as exc:
            raise RequestRejected(400, exc.message, code=exc.code) from None
        except DomainError as exc:  # not found, not trusted: a request error
            return PreExecutionError(
                data=None,
                errors=[GraphQLError(exc.message, original_error=exc, extensions=exc.extensions)],
            )
        result = await self._execute_idempotent(
            request, request_adapter, sub_response, context, root_value, prepared.request_data
        )
        if not is_request_error(result):
            await self.documents.store(prepared, context)
        return result

    async def _execute_idempotent(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the request, under its Idempotency-Key when it is a mutation with one."""

        def execute() -> Awaitable[ExecutionResult]:
            return self._execute(
                request, request_adapter, sub_response, context, root_value, request_data
            )

        async def to_store(result: ExecutionResult) -> dict[str, Any] | None:
            """The response to keep for the key; None when nothing ran (a request error)."""
            if is_request_error(result):
                return None
            return dict(await self.process_result(request, result))

        raw_key = request.headers.get(IDEMPOTENCY_HEADER)
        if raw_key is None or request_adapter.method != "POST" or not is_mutation(request_data):
            return await execute()
        try:
            return await run_idempotent(
                raw_key, sub_response, context, request_data, execute, to_store
            )
        except Refused as refused:
            raise RequestRejected(refused.status, refused.message, code=refused.code) from None

    async def _execute(
        self,
        request: Any,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Any,
        context: Any,
        root_value: Any,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        try:
            result = await super().execute_single(
                request=request,
                request_adapter=request_adapter,
                sub_response=sub_response,
                context=context,
                root_value=root_value,
                request_data=request_data,
            )
        except HTTPException as exc:
            cause = exc.__cause__
            # POST allows every operation type, so this is one GET may not run: a mutation
            if isinstance(cause, InvalidOperationTypeError):
                kind = cause.operation_type.value
                raise RequestRejected(
                    405, f"A {kind} is not allowed over GET; use POST.", {"Allow": "POST"}
                ) from None
            if isinstance(cause, CannotGetOperationTypeError):
                # a GraphQL request error (GetOperation() failed), answered like the others
                error = GraphQLError(exc.reason, extensions={"code": OPERATION_NOT_FOUND})
                return PreExecutionError(data=None, errors=[error])
            raise
        for error in result.errors or ():
            # the whole response is a 503 (and an Idempotency-Key stays unused)
            if unavailable(error.original_error):
                raise DatabaseUnavailable(error.original_error or error)
        return result

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if isinstance(result, Replayed):
            return cast("GraphQLHTTPResponse", result.response)
        response = await super().process_result(request, result)
        if is_request_error(result):
            response.pop("data", None)
            unexpected = isinstance(result, PreExecutionError) and any(
                error.message == self.masked_message for error in result.errors or ()
            )
            status, headers = (500, {}) if unexpected else refusal(result)
            request.state.graphql_error_status = status
            request.state.graphql_error_headers = headers
        return response

    async def get_sub_response(self, request: Request | Any) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.graphql_state = request.state  # type: ignore[attr-defined]
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        state = getattr(sub_response, "graphql_state", None)
        media_type = getattr(state, "graphql_media_type", APPLICATION_JSON)
        status = 200
        headers: dict[str, str] = {}
        error_status = getattr(state, "graphql_error_status", 200)
        if not isinstance(response_data, list) and (
            media_type == GRAPHQL_RESPONSE_JSON or error_status in HTTP_LEVEL
        ):
            status, headers = error_status, getattr(state, "graphql_error_headers", {})
        response = Response(
            self.encode_json(response_data), status_code=status, media_type=with_charset(media_type)
        )
        response.headers.raw.extend(
            (key, value) for key, value in sub_response.headers.raw if key != b"content-type"
        )
        response.headers["Vary"] = "Accept"
        response.headers.update(headers)
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        return response
