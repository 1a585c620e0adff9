"""``POST /auth/token``: OAuth2's token endpoint (RFC 6749) for tools that expect one.

A form (``application/x-www-form-urlencoded``) with ``grant_type``:

* ``password`` (4.3; the default when ``grant_type`` is left out): ``username`` and
  ``password``, checked and throttled as ``login`` does; the same tokens as JSON.
* ``refresh_token`` (6): ``refresh_token`` is spent as ``tokenRefresh`` spends it (single
  use; a spent one presented again ends its session); new tokens.
* ``client_credentials`` (4.4): an API key authenticates as the client (2.3.1), with HTTP
  Basic (``Authorization: Basic``) or the form fields ``client_id`` and ``client_secret``:
  the client id is the key's prefix, the secret the whole key. The answer is an access
  token that acts as the key (its scopes, within what its creator may do at each request;
  revoking the key ends it), and no refresh token. ``scope`` is not asked for: the key's
  scopes are what it gets, and the answer lists them.

Client credentials sent with the other grants are not looked at (the users of this
endpoint are public clients). Every failure is an RFC 6749 error body, ``{"error",
"error_description"}``: 400 ``invalid_request``, ``invalid_grant``,
``unsupported_grant_type``; 401 ``invalid_client`` (with ``WWW-Authenticate: Basic``); 429
``too_many_attempts``; 503 ``temporarily_unavailable`` with ``Retry-After`` when the
database is unavailable or not migrated; 500 ``server_error`` for anything unexpected.

``POST /auth/revoke``: token revocation (RFC 7009). A form with ``token`` (and optionally
``token_type_hint``, ``refresh_token`` or ``access_token``): a refresh token or an access
token of a signed-in session ends that session, as ``logout`` does. A token that is
unknown, expired or not valid gets the same empty 200 (nothing to learn from it); an API
key, or an access token issued to one, is 400 ``unsupported_token_type`` (``apiKeyRevoke``
revokes keys). Its form, its failures and their shapes are the token endpoint's.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, unquote_plus

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from opsgraph.context import Context
from opsgraph.db.faults import UNAVAILABLE_MESSAGE, log_failure
from opsgraph.errors import DomainError, TooManyAttempts, Unauthenticated
from opsgraph.services.api_key import principal_for_client
from opsgraph.services.auth import Revocation, revoke
from opsgraph.services.checks import unsafe_characters

log = logging.getLogger(__name__)

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
MAX_FIELDS = 10
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CHALLENGE = {"WWW-Authenticate": 'Basic realm="opsgraph", charset="UTF-8"'}
GRANTS = ("password", "refresh_token", "client_credentials")
TOKEN_TYPE_HINTS = ("refresh_token", "access_token")


class OAuthError(Exception):
    """An RFC 6749 error answer: status, ``error`` code and ``error_description``."""

    def __init__(
        self, status: int, error: str, description: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = oauth_error_body(self.error, self.description)
        return JSONResponse(body, status_code=self.status, headers={**NO_STORE, **self.headers})


def oauth_error_body(error: str, description: str) -> dict[str, str]:
    """The body of every failure of the OAuth2 routes (RFC 6749, 5.2)."""
    return {"error": error, "error_description": description}


def _invalid_request(description: str) -> OAuthError:
    return OAuthError(400, "invalid_request", description)


def _invalid_client(description: str) -> OAuthError:
    return OAuthError(401, "invalid_client", description, CHALLENGE)


async def token(request: Request) -> Response:
    """OAuth2's token endpoint: the password, refresh_token and client_credentials grants.
    ---
    summary: Tokens (OAuth2 password, refresh_token and client_credentials grants)
    description: >-
      password (the default grant_type): username and password, the tokens of a sign-in.
      refresh_token: spends the refresh token (single use) for new tokens.
      client_credentials: an API key as the client - HTTP Basic, or client_id (the key's
      prefix) and client_secret (the whole key) in the form; an access token that acts as
      the key, no refresh token.
    security:
      - {}
      - clientBasic: []
    requestBody:
      required: true
      content:
        application/x-www-form-urlencoded:
          schema:
            type: object
            properties:
              grant_type:
                type: string
                enum: [password, refresh_token, client_credentials]
                default: password
              username: {type: string, description: "password grant"}
              password: {type: string, format: password, description: "password grant"}
              refresh_token: {type: string, description: "refresh_token grant"}
              client_id: {type: string, description: "client_credentials: the key's prefix"}
              client_secret:
                type: string
                format: password
                description: "client_credentials: the whole API key, og_<prefix>_<secret>"
    responses:
      "200":
        description: The tokens (no refresh_token for client_credentials, which lists the
          key's scopes in scope instead).
        content:
          application/json:
            schema:
              type: object
              required: [access_token, token_type, expires_in]
              properties:
                access_token: {type: string}
                token_type: {type: string, enum: [bearer]}
                expires_in: {type: integer}
                refresh_token: {type: string}
                scope: {type: string}
      "400": {$ref: "#/components/responses/OAuthError"}
      "401": {$ref: "#/components/responses/OAuthClientError"}
      "405": {$ref: "#/components/responses/OAuthError"}
      "413": {$ref: "#/components/responses/OAuthError"}
      "415": {$ref: "#/components/responses/OAuthError"}
      "429": {$ref: "#/components/responses/OAuthError"}
      "500": {$ref: "#/components/responses/OAuthError"}
      "503": {$ref: "#/components/responses/OAuthUnavailable"}
    """
    return await _answer(request, _grant)


async def revocation(request: Request) -> Response:
    """OAuth2 token revocation (RFC 7009): ends the signed-in session of a token.
    ---
    summary: Revoke a token (OAuth2 token revocation, RFC 7009)
    description: >-
      A refresh token or an access token of a signed-in session ends that whole session,
      as the logout mutation does: its refresh tokens and access tokens stop working. A
      token that is unknown, expired, not valid or already revoked gets the same empty
      200. An API key, or an access token issued to one, is unsupported_token_type (revoke
      the key with apiKeyRevoke).
    requestBody:
      required: true
      content:
        application/x-www-form-urlencoded:
          schema:
            type: object
            required: [token]
            properties:
              token: {type: string, description: "a refresh token or an access token"}
              token_type_hint:
                type: string
                enum: [refresh_token, access_token]
                description: "which kind to look for first; both are looked for either way"
    responses:
      "200": {description: "Revoked, or nothing to revoke (an empty body either way)."}
      "400": {$ref: "#/components/responses/OAuthError"}
      "405": {$ref: "#/components/responses/OAuthError"}
      "413": {$ref: "#/components/responses/OAuthError"}
      "415": {$ref: "#/components/responses/OAuthError"}
      "500": {$ref: "#/components/responses/OAuthError"}
      "503": {$ref: "#/components/responses/OAuthUnavailable"}
    """
    return await _answer(request, _revoke)


async def _answer(request: Request, handle: Callable[[Request], Awaitable[Response]]) -> Response:
    """``handle``'s answer, or its failure as an RFC 6749 error body."""
    try:
        return await handle(request)
    except OAuthError as refused:
        return refused.response()
    except ClientDisconnect:
        raise  # nobody to answer (the app logs one line)
    except Exception as exc:
        return _failed(request, exc).response()


async def wrong_method(request: Request) -> JSONResponse:
    """Any method but POST on ``/auth/token`` and ``/auth/revoke`` (RFC 6749, 3.2 and RFC
    7009, 2.1: POST only)."""
    refused = OAuthError(405, "invalid_request", f"{request.url.path} takes POST only")
    refused.headers["Allow"] = "POST"
    return refused.response()


def _failed(request: Request, exc: Exception) -> OAuthError:
    """What an exception means for the client: 503 when the database is unavailable or
    not migrated, else 500 with nothing internal."""
    if log_failure(log, f"POST {request.url.path}", exc):
        retry = {"Retry-After": str(request.app.state.settings.db_retry_after)}
        return OAuthError(503, "temporarily_unavailable", UNAVAILABLE_MESSAGE, retry)
    return OAuthError(500, "server_error", "Unexpected error.")


async def _form(request: Request) -> dict[str, str]:
    """The form's fields, each sent once (RFC 6749, 3.2)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        raise OAuthError(415, "invalid_request", f"send the form as {FORM}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise OAuthError(413, "invalid_request", "the form is too large")
    try:
        fields = parse_qs(
            body.decode("utf-8"), keep_blank_values=True, errors="strict", max_num_fields=MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise _invalid_request("the form is not valid UTF-8 form data") from None
    repeated = sorted(name for name, items in fields.items() if len(items) > 1)
    if repeated:
        raise _invalid_request(f"send each parameter once: {', '.join(repeated)} came again")
    return {name: items[0] for name, items in fields.items()}


def _required(form: dict[str, str], *names: str) -> list[str]:
    missing = [name for name in names if not form.get(name)]
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        raise _invalid_request(f"{' and '.join(missing)} {verb} required, once each")
    for name in names:
        problem = unsafe_characters(form[name])
        if problem is not None:
            raise _invalid_request(f"{name} {problem}")
    return [form[name] for name in names]


async def _grant(request: Request) -> Response:
    form = await _form(request)
    grant = form.get("grant_type", "password")
    context = Context.of(request, None)
    if grant == "password":
        return await _password(context, form)
    if grant == "refresh_token":
        return await _refresh(context, form)
    if grant == "client_credentials":
        return await _client_credentials(context, request, form)
    raise OAuthError(400, "unsupported_grant_type", f"grant_type is one of {', '.join(GRANTS)}")


def _tokens(context: Context, access_token: str, **more: str) -> JSONResponse:
    body = {
        "access_token": access_token,
        "token_type": "bearer",
        "expires_in": int(context.tokens.lifetime.total_seconds()),
        **more,
    }
    return JSONResponse(body, headers=NO_STORE)


async def _password(context: Context, form: dict[str, str]) -> JSONResponse:
    username, password = _required(form, "username", "password")
    signed = await context.login(username, password)
    if isinstance(signed, TooManyAttempts):
        retry = str(context.settings.login_window_minutes * 60)
        raise OAuthError(429, "too_many_attempts", signed.message, {"Retry-After": retry})
    if isinstance(signed, DomainError):
        raise OAuthError(400, "invalid_grant", signed.message)
    return _tokens(context, signed.access.token, refresh_token=signed.refresh_token)


async def _refresh(context: Context, form: dict[str, str]) -> JSONResponse:
    (refresh_token,) = _required(form, "refresh_token")
    signed = await context.refresh(refresh_token)
    if signed is None:
        raise OAuthError(400, "invalid_grant", "The refresh token is not valid; sign in again.")
    return _tokens(context, signed.access.token, refresh_token=signed.refresh_token)


def _client(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """The client id and secret (RFC 6749, 2.3.1): from HTTP Basic or from the form, not
    both. Any 401 names Basic in ``WWW-Authenticate``, as HTTP asks of a 401."""
    header = request.headers.get("authorization")
    in_form = "client_id" in form or "client_secret" in form
    if header is None:
        if not in_form:
            raise _invalid_client(
                "authenticate the client: HTTP Basic, or client_id and client_secret in the form"
            )
        client_id, client_secret = _required(form, "client_id", "client_secret")
        return client_id, client_secret
    if in_form:
        raise _invalid_request("authenticate the client one way: HTTP Basic or the form")
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise _invalid_client("authenticate the client with HTTP Basic or the form")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise _invalid_client("the Basic credentials are not base64 of id:secret") from None
    raw_id, colon, raw_secret = decoded.partition(":")
    client_id, client_secret = unquote_plus(raw_id), unquote_plus(raw_secret)
    if not colon or not client_id or not client_secret:
        raise _invalid_client("the Basic credentials are not base64 of id:secret")
    return client_id, client_secret


async def _client_credentials(
    context: Context, request: Request, form: dict[str, str]
) -> JSONResponse:
    client_id, client_secret = _client(request, form)
    try:
        async with context.transaction() as session:  # commits lastUsedAt
            principal = await principal_for_client(
                session, client_id=client_id, client_secret=client_secret
            )
    except Unauthenticated:
        raise _invalid_client("the client id or secret is wrong, or the key is revoked") from None
    assert principal.api_key_id is not None  # noqa: S101 - an API key's principal
    access = context.tokens.issue_for_api_key(principal.user_id, api_key_id=principal.api_key_id)
    return _tokens(context, access.token, scope=" ".join(sorted(principal.permissions)))


async def _revoke(request: Request) -> Response:
    form = await _form(request)
    (presented,) = _required(form, "token")
    hint = form.get("token_type_hint") or None  # blank: no hint
    if hint is not None and hint not in TOKEN_TYPE_HINTS:
        raise OAuthError(
            400,
            "unsupported_token_type",
            f"token_type_hint is one of {', '.join(TOKEN_TYPE_HINTS)}",
        )
    context = Context.of(request, None)
    async with context.transaction() as session:
        outcome = await revoke(
            session, token=presented, issuer=context.tokens, access_first=hint == "access_token"
        )
    if outcome is Revocation.API_KEY:
        raise OAuthError(
            400,
            "unsupported_token_type",
            "API keys and their access tokens are not revoked here: revoke the key with "
            "apiKeyRevoke",
        )
    return Response(status_code=200, headers=NO_STORE)
