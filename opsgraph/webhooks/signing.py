"""Standard Webhooks signatures (``webhook-id``, ``webhook-timestamp``,
``webhook-signature``), made and checked with the ``standardwebhooks`` package.

Secrets are ``whsec_`` + base64 of 32 random bytes. While an endpoint's secret is being
rotated, a delivery carries one signature per secret (space separated, as the scheme
allows), so a receiver holding either verifies it.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from collections.abc import Mapping, Sequence

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

SECRET_PREFIX = "whsec_"  # noqa: S105 - the scheme's prefix, not a secret
SECRET_BYTES = 32

__all__ = [
    "SECRET_PREFIX",
    "WebhookVerificationError",
    "new_secret",
    "signed_headers",
    "valid_secret",
    "verify",
]


def new_secret() -> str:
    """A fresh signing secret."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def valid_secret(secret: str) -> bool:
    """Whether ``secret`` is a usable ``whsec_`` secret (of at least 24 bytes)."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return False
    return len(raw) >= 24


def signed_headers(
    message_id: str, body: bytes, secrets_: Sequence[str], *, at: dt.datetime
) -> dict[str, str]:
    """The three headers of a delivery of ``body``, signed with each of ``secrets_``."""
    payload = body.decode()
    signatures = [Webhook(secret).sign(message_id, at, payload) for secret in secrets_]
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": " ".join(signatures),
    }


def verify(secret: str, body: bytes, headers: Mapping[str, str]) -> None:
    """Nothing, if ``headers`` carry a valid signature of it by ``secret`` made
    within 5 minutes of now (the scheme's tolerance; the comparison is constant-time);
    ``WebhookVerificationError`` otherwise, also for a body that is not UTF-8."""
    try:
        payload = body.decode()
    except UnicodeDecodeError:
        raise WebhookVerificationError("the body is not UTF-8") from None
    try:
        Webhook(secret).verify(payload, dict(headers), json_parse=False)
    except (ValueError, TypeError, IndexError) as exc:  # malformed signature headers
        raise WebhookVerificationError("malformed signature headers") from exc
