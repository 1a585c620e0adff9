"""Signatures as the Standard Webhooks package's own verifier reads them."""

from __future__ import annotations

import datetime as dt

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from opsgraph.webhooks.signing import new_secret, signed_headers, valid_secret, verify


def test_a_signature_verifies_with_the_standard_verifier() -> None:
    secret = new_secret()
    assert valid_secret(secret)
    body = b'{"id":"evt_1","type":"order.created"}'
    headers = signed_headers("evt_1", body, [secret], at=dt.datetime.now(dt.UTC))
    assert Webhook(secret).verify(body.decode(), headers) == {
        "id": "evt_1",
        "type": "order.created",
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body.decode(), headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    body = b"{}"
    headers = signed_headers("evt_2", body, [new, old], at=dt.datetime.now(dt.UTC))
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        verify(secret, body, headers)


@pytest.mark.parametrize("minutes", [-6, 6])
def test_timestamps_outside_five_minutes_are_refused(minutes: int) -> None:
    secret = new_secret()
    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)
    headers = signed_headers("evt_3", b"{}", [secret], at=at)
    with pytest.raises(WebhookVerificationError):
        verify(secret, b"{}", headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"webhook-id": "x", "webhook-timestamp": "nan-ish", "webhook-signature": "v1,AAAA"},
        {"webhook-id": "x", "webhook-timestamp": "1", "webhook-signature": "garbage"},
    ],
)
def test_malformed_headers_are_a_verification_error(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), b"{}", headers)


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(WebhookVerificationError):
        verify(new_secret(), b"\xff\xfe", {"webhook-id": "x"})


def test_secrets_must_be_whsec_base64() -> None:
    assert not valid_secret("whsec_short")
    assert not valid_secret("abc")
    assert not valid_secret("whsec_!!!!")
