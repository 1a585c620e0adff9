"""``POST /auth/token``: OAuth2's password flow (RFC 6749, 4.3) for tools that expect it.

Form fields ``username`` and ``password`` (``grant_type``, if sent, must be ``password``),
``application/x-www-form-urlencoded``. The answer is the same tokens ``login`` hands out,
as JSON; failures are RFC 6749 error bodies.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse

from opsgraph.context import Context
from opsgraph.errors import DomainError, TooManyAttempts
from opsgraph.services.checks import unsafe_characters

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16 * 1024
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(status: int, error: str, description: str) -> JSONResponse:
    body = {"error": error, "error_description": description}
    return JSONResponse(body, status_code=status, headers=NO_STORE)


async def token(request: Request) -> JSONResponse:
    """OAuth2's password grant: the tokens of a sign-in.
    ---
    summary: Sign in (OAuth2 password grant)
    requestBody:
      required: true
      content:
        application/x-www-form-urlencoded:
          schema:
            type: object
            required: [username, password]
            properties:
              grant_type: {type: string, enum: [password]}
              username: {type: string}
              password: {type: string, format: password}
    responses:
      "200":
        description: Signed in.
        content:
          application/json:
            schema:
              type: object
              properties:
                access_token: {type: string}
                token_type: {type: string, enum: [bearer]}
                expires_in: {type: integer}
                refresh_token: {type: string}
      "400": {$ref: "#/components/responses/OAuthError"}
      "413": {$ref: "#/components/responses/OAuthError"}
      "415": {$ref: "#/components/responses/OAuthError"}
      "429": {$ref: "#/components/responses/OAuthError"}
      "503": {$ref: "#/components/responses/Unavailable"}
    """
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        return _error(415, "invalid_request", f"send the form as {FORM}")
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        return _error(413, "invalid_request", "the form is too large")
    try:
        fields = parse_qs(body.decode("utf-8"), strict_parsing=False, max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return _error(400, "invalid_request", "the form is not valid UTF-8 form data")
    values = {name: items[0] for name, items in fields.items() if len(items) == 1}
    if values.get("grant_type", "password") != "password":
        return _error(400, "unsupported_grant_type", "only the password grant is supported")
    username, password = values.get("username"), values.get("password")
    if not username or password is None:
        return _error(400, "invalid_request", "username and password are required, once each")
    for name, text in (("username", username), ("password", password)):
        problem = unsafe_characters(text)
        if problem is not None:
            return _error(400, "invalid_request", f"{name} {problem}")
    context = Context.of(request, None)
    signed = await context.login(username, password)
    if isinstance(signed, TooManyAttempts):
        return _error(429, "too_many_attempts", signed.message)
    if isinstance(signed, DomainError):
        return _error(400, "invalid_grant", signed.message)
    return JSONResponse(
        {
            "access_token": signed.access.token,
            "token_type": "bearer",
            "expires_in": int(context.tokens.lifetime.total_seconds()),
            "refresh_token": signed.refresh_token,
        },
        headers=NO_STORE,
    )
