"""Access tokens (JWT, pyjwt) and refresh tokens (opaque, stored hashed).

Access tokens are signed with the configured algorithm and key and name the key in their
``kid`` header. Verification looks the key up by ``kid`` in a keyring (the signing key
plus ``OPSGRAPH_JWT_VERIFICATION_KEYS``), so the signing key can rotate without logging
everyone out; the accepted algorithm comes from the configuration, never from the token.
``sub``, ``iat``, ``exp``, ``iss`` and ``aud`` are required and checked; ``sid`` names the
signed-in session (the refresh-token family), so logging out ends its access tokens too.
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

REQUIRED_CLAIMS = ["sub", "iat", "exp", "iss", "aud", "sid"]
LEEWAY = dt.timedelta(seconds=30)  # clock skew between servers
REFRESH_TOKEN_BYTES = 32


@dataclass(frozen=True)
class AccessToken:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Verified:
    """What a valid access token says: whose it is and which signed-in session."""

    user_id: int
    session_id: uuid.UUID


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
        issued = now or dt.datetime.now(dt.UTC)
        expires = issued + self.lifetime
        claims = {
            "sub": str(user_id),
            "sid": str(session),
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
            subject = str(claims["sub"])
            if not subject.isdigit() or len(subject) > 18:
                raise jwt.InvalidTokenError("sub is not a user id")
            return Verified(int(subject), uuid.UUID(str(claims["sid"])))
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
