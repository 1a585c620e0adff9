"""Access tokens: what is accepted, and hostile tokens minted by an independent JOSE library
(joserfc, not pyjwt) that must all be rejected with the same UNAUTHENTICATED error."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import OctKey, RSAKey

from opsgraph.auth.tokens import TokenIssuer
from opsgraph.errors import Unauthenticated
from opsgraph.settings import ConfigError, JwtAlgorithm
from tests.conftest import make_settings

SECRET = "s" * 40
OLD_SECRET = "o" * 40
SESSION = uuid.uuid4()
RSA = RSAKey.generate_key(2048)
RSA_PEM = RSA.as_pem(private=True).decode()
RSA_PUBLIC_PEM = RSA.as_pem(private=False).decode()


def _b64(data: dict[str, Any] | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims: dict[str, Any] = {
        "sub": "7",
        "sid": str(SESSION),
        "iat": now,
        "exp": now + 600,
        "iss": "opsgraph",
        "aud": "opsgraph",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(claims: dict[str, Any], secret: str = SECRET, kid: str = "main") -> str:
    return jose_jwt.encode({"alg": "HS256", "kid": kid}, claims, OctKey.import_key(secret))


def _hs_issuer() -> TokenIssuer:
    return TokenIssuer(make_settings(jwt_secret=SECRET, jwt_verification_keys={"old": OLD_SECRET}))


def _rs_issuer() -> TokenIssuer:
    return TokenIssuer(make_settings(jwt_algorithm=JwtAlgorithm.RS256, jwt_private_key=RSA_PEM))


def test_our_tokens_verify_and_name_user_and_session() -> None:
    issuer = _hs_issuer()
    token = issuer.issue(7, session=SESSION)
    verified = issuer.verify(token.token)
    assert (verified.user_id, verified.session_id) == (7, SESSION)
    assert token.expires_at > dt.datetime.now(dt.UTC)


def test_tokens_of_an_api_key_name_the_key_and_no_session() -> None:
    issuer = _hs_issuer()
    token = issuer.issue_for_api_key(7, api_key_id=42).token
    verified = issuer.verify(token)
    assert (verified.user_id, verified.session_id, verified.api_key_id) == (7, None, 42)
    claims = jose_jwt.decode(token, OctKey.import_key(SECRET)).claims
    assert "sid" not in claims  # what expects a signed-in session refuses it
    assert claims["api_key"] == "42"
    assert issuer.verify(issuer.issue(7, session=SESSION).token).api_key_id is None


def test_tokens_minted_elsewhere_with_the_right_key_verify() -> None:
    """joserfc's HS256 with our secret: the format is plain JWT, nothing pyjwt-specific."""
    assert _hs_issuer().verify(_hs256(_claims())).user_id == 7


def test_the_previous_key_still_verifies_by_kid() -> None:
    assert _hs_issuer().verify(_hs256(_claims(), OLD_SECRET, kid="old")).user_id == 7


def test_rs256_and_eddsa_sign_with_the_configured_key() -> None:
    issuer = _rs_issuer()
    token = issuer.issue(7, session=SESSION).token
    assert json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["alg"] == "RS256"
    assert issuer.verify(token).user_id == 7
    decoded = jose_jwt.decode(token, RSAKey.import_key(RSA_PUBLIC_PEM))
    assert decoded.claims["sub"] == "7"


def test_a_missing_or_bad_private_key_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="PEM private key"):
        TokenIssuer(make_settings(jwt_algorithm=JwtAlgorithm.RS256))
    with pytest.raises(ConfigError, match="not a PEM private key"):
        TokenIssuer(make_settings(jwt_algorithm=JwtAlgorithm.EdDSA, jwt_private_key="nope"))


def _alg_none() -> str:
    return f"{_b64({'alg': 'none', 'kid': 'main'})}.{_b64(_claims())}."


def _hs256_with_public_key() -> str:
    """The classic confusion: HS256 'signed' with the server's RSA public key as secret."""
    signing_input = f"{_b64({'alg': 'HS256', 'kid': 'main'})}.{_b64(_claims())}"
    mac = hmac.new(RSA_PUBLIC_PEM.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _tampered() -> str:
    header, _, signature = _hs256(_claims()).split(".")
    return f"{header}.{_b64(_claims(sub='1'))}.{signature}"


def _stripped() -> str:
    header, payload, _ = _hs256(_claims()).split(".")
    return f"{header}.{payload}."


HOSTILE: dict[str, tuple[Callable[[], TokenIssuer], Callable[[], str]]] = {
    "alg none": (_hs_issuer, _alg_none),
    "HS256 signed with the public key": (_rs_issuer, _hs256_with_public_key),
    "expired": (_hs_issuer, lambda: _hs256(_claims(exp=1_000_000, iat=999_000))),
    "missing exp": (_hs_issuer, lambda: _hs256(_claims(exp=None))),
    "missing sid": (_hs_issuer, lambda: _hs256(_claims(sid=None))),
    "wrong aud": (_hs_issuer, lambda: _hs256(_claims(aud="someone-else"))),
    "wrong iss": (_hs_issuer, lambda: _hs256(_claims(iss="evil"))),
    "unknown kid": (_hs_issuer, lambda: _hs256(_claims(), kid="who")),
    "future nbf": (_hs_issuer, lambda: _hs256(_claims(nbf=4_000_000_000))),
    "tampered payload": (_hs_issuer, _tampered),
    "stripped signature": (_hs_issuer, _stripped),
    "wrong secret": (_hs_issuer, lambda: _hs256(_claims(), "w" * 40)),
    "sub not a user id": (_hs_issuer, lambda: _hs256(_claims(sub="admin"))),
    "session and API key": (_hs_issuer, lambda: _hs256(_claims(api_key="42"))),
    "API key not an id": (_hs_issuer, lambda: _hs256(_claims(sid=None, api_key="og_x"))),
    "API key too long": (_hs_issuer, lambda: _hs256(_claims(sid=None, api_key="9" * 19))),
    "garbage": (_hs_issuer, lambda: "not.a.jwt"),
    "empty": (_hs_issuer, lambda: ""),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_tokens_are_rejected_alike(name: str) -> None:
    make_issuer, make_token = HOSTILE[name]
    with pytest.raises(Unauthenticated) as caught:
        make_issuer().verify(make_token())
    assert caught.value.code == "UNAUTHENTICATED"
    assert caught.value.message == Unauthenticated().message
