"""Access tokens (JWT, pyjwt) and refresh tokens (opaque, stored hashed).

Access tokens are signed with the configured algorithm and key and name the key in their
``kid`` header. Verification looks the key up by ``kid`` in a keyring (the signing key
plus ``OPSGRAPH_JWT_VERIFICATION_KEYS``), so the signing key can rotate without logging
everyone out; the accepted algorithm comes from the configuration, never from the token.
``sub``, ``iat``, ``exp``, ``iss`` and ``aud`` are required and checked; ``sid`` names the
signed-in session (the refresh-token family), so logging out ends its access tokens too.

A token issued to an API key (OAuth2's client credentials grant) names the key in
``api_key`` instead of a session: it acts as that key, with the key's scopes, and stops
working when the key is revoked. It carries no ``sid``, so nothing that expects a signed-in
session (a server of an earlier version included) takes it for a user's own token.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from opsgraph.errors import Unauthenticated
from opsgraph.settings import ConfigError, JwtAlgorithm, Settings

REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud"]
# and exactly one of these: whose token it is beyond the user
SESSION_CLAIM = "sid"
API_KEY_CLAIM = "api_key"
LEEWAY = dt.timedelta(seconds=30)  # clock skew between servers
REFRESH_TOKEN_BYTES = 32


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Verified:
    """What a valid access token says: whose it is, and which signed-in session or which
    API key it belongs to (one of the two)."""

    user_id: int
    session_id: uuid.UUID | None
    api_key_id: int | None = None


def _id_claim(value: object, what: str) -> int:
    text = str(value)
    if not text.isdigit() or len(text) > 18:
        raise jwt.InvalidTokenError(f"{what} is not an id")
    return int(text)


class TokenIssuer:
    """Signs and verifies access tokens with the keys the settings name."""

    def __init__(self, settings: Settings) -> None:
        self.algorithm = settings.jwt_algorithm.value
        self.key_id = settings.jwt_key_id
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.lifetime = dt.timedelta(minutes=settings.access_token_minutes)
        if settings.jwt_algorithm is JwtAlgorithm.HS256:
            self.signing_key: Any = settings.jwt_secret
            own_public: Any = settings.jwt_secret
        else:
            if not settings.jwt_private_key.strip():
                raise ConfigError(
                    f"OPSGRAPH_JWT_PRIVATE_KEY: {self.algorithm} needs a PEM private key"
                )
            try:
                self.signing_key = load_pem_private_key(
                    settings.jwt_private_key.encode(), password=None
                )
            except (ValueError, TypeError):
                raise ConfigError("OPSGRAPH_JWT_PRIVATE_KEY is not a PEM private key") from None
            own_public = self.signing_key.public_key()
        self.keyring: dict[str, Any] = {**settings.jwt_verification_keys, self.key_id: own_public}

    def issue(
        self, user_id: int, *, session: uuid.UUID, now: dt.datetime | None = None
    ) -> AccessToken:
        """An access token of a signed-in session."""
        return self._issue(user_id, {SESSION_CLAIM: str(session)}, now)

    def issue_for_api_key(
        self, user_id: int, *, api_key_id: int, now: dt.datetime | None = None
    ) -> AccessToken:
        """An access token that acts as the API key ``api_key_id`` of its creator ``user_id``."""
        return self._issue(user_id, {API_KEY_CLAIM: str(api_key_id)}, now)

    def _issue(self, user_id: int, whose: dict[str, str], now: dt.datetime | None) -> AccessToken:
        issued = now or dt.datetime.now(dt.UTC)
        expires = issued + self.lifetime
        claims = {
            "sub": str(user_id),
            **whose,
            "iat": int(issued.timestamp()),
            "exp": int(expires.timestamp()),
            "iss": self.issuer,
            "aud": self.audience,
        }
        token = jwt.encode(
            claims, self.signing_key, algorithm=self.algorithm, headers={"kid": self.key_id}
        )
        return AccessToken(token, expires)

    def verify(self, token: str) -> Verified:
        """What a valid token says; ``Unauthenticated`` for anything else."""
        try:
            header = jwt.get_unverified_header(token)
            key = self.keyring.get(str(header.get("kid")))
            if key is None:
                raise jwt.InvalidTokenError("unknown kid")
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": REQUIRED_CLAIMS, "verify_signature": True},
            )
            user_id = _id_claim(claims["sub"], "sub")
            session, api_key = claims.get(SESSION_CLAIM), claims.get(API_KEY_CLAIM)
            if (session is None) == (api_key is None):
                raise jwt.InvalidTokenError("a token names a session or an API key, one of them")
            if api_key is not None:
                return Verified(user_id, None, _id_claim(api_key, API_KEY_CLAIM))
            return Verified(user_id, uuid.UUID(str(session)))
        except (jwt.InvalidTokenError, ValueError, TypeError, KeyError, AttributeError):
            raise Unauthenticated() from None


def new_refresh_token() -> tuple[str, str]:
    """A new opaque refresh token and the hash that is stored instead of it."""
    token = secrets.token_urlsafe(REFRESH_TOKEN_BYTES)
    return token, hash_secret(token)


def hash_secret(token: str) -> str:
    """SHA-256 of a high-entropy secret (refresh tokens, API keys): a slow hash buys
    nothing against 256 random bits, and lookups by hash must be fast."""
    return hashlib.sha256(token.encode()).hexdigest()
