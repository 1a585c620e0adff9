"""The address guard: which webhook URLs may be registered, and where a name may lead."""

from __future__ import annotations

import ipaddress

import pytest

from opsgraph.errors import UnsafeUrl
from opsgraph.webhooks.addresses import address_allowed, check_url, resolve_public

REFUSED_ALWAYS = [
    "https://10.0.0.5/hook",
    "https://172.16.3.4/hook",
    "https://192.168.1.1/hook",
    "https://100.64.0.1/hook",  # shared address space
    "https://169.254.169.254/latest/meta-data",  # cloud metadata
    "https://[fd00:ec2::254]/hook",  # metadata over IPv6 (unique local)
    "https://[fe80::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",  # IPv4-mapped private
    "https://0.0.0.0/hook",
    "https://224.0.0.1/hook",
    "https://192.0.2.10/hook",  # documentation range
    "ftp://example.com/hook",
    "https://user:pw@example.com/hook",
    "https:///hook",
    "not a url",
    "https://example.com:99999/hook",
]


@pytest.mark.parametrize("url", REFUSED_ALWAYS)
@pytest.mark.parametrize("insecure", [False, True])
def test_non_public_destinations_are_refused(url: str, insecure: bool) -> None:
    with pytest.raises(UnsafeUrl) as refused:
        check_url(url, allow_insecure=insecure)
    assert refused.value.code == "UNSAFE_URL"
    assert refused.value.field == ["url"]


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1:8443/h",
        "http://127.0.0.1:9000/h",
        "http://localhost/h",
        "https://[::1]/h",
    ],
)
def test_loopback_only_in_insecure_mode(url: str) -> None:
    with pytest.raises(UnsafeUrl):
        check_url(url, allow_insecure=False)
    assert check_url(url, allow_insecure=True).port in (8443, 9000, 80, 443)


def test_public_https_is_accepted_and_taken_apart() -> None:
    destination = check_url("  https://hooks.example.com/in?x=1 ", allow_insecure=False)
    assert (destination.scheme, destination.host, destination.port) == (
        "https",
        "hooks.example.com",
        443,
    )
    assert destination.url == "https://hooks.example.com/in?x=1"
    with pytest.raises(UnsafeUrl):
        check_url("http://hooks.example.com/in", allow_insecure=True)


async def test_a_name_is_judged_by_what_it_resolves_to() -> None:
    # "localhost" resolves to loopback: refused outside insecure mode, at send time too
    named = check_url("https://localhost:8443/h", allow_insecure=True)
    with pytest.raises(UnsafeUrl):
        await resolve_public(named, allow_insecure=False)
    addresses = await resolve_public(named, allow_insecure=True)
    assert addresses
    assert all(address.is_loopback for address in addresses)


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    destination = check_url("https://no-such-host.invalid/h", allow_insecure=False)
    with pytest.raises(UnsafeUrl):
        await resolve_public(destination, allow_insecure=False)


def test_public_addresses_pass() -> None:
    assert address_allowed(ipaddress.ip_address("93.184.215.14"), allow_insecure=False)
    assert address_allowed(ipaddress.ip_address("2606:4700::1111"), allow_insecure=False)
    assert not address_allowed(ipaddress.ip_address("127.0.0.1"), allow_insecure=False)
