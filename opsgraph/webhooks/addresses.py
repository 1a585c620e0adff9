"""Where a webhook may be sent: the guard against server-side request forgery.

A URL must be ``https`` and name a public address. It is checked when an endpoint is
registered (``check_url``) and again at send time after DNS resolution
(``resolve_public``): a name that resolves to a private address then makes no connection,
and the delivery connects to the very address that was checked, so a second lookup can't
swap it (DNS rebinding).

What counts as public is the standard library's ``ipaddress`` (maintained with Python,
following the IANA special-purpose registries): an address must be ``is_global`` and not
multicast. That refuses private, shared (100.64/10), loopback, link-local (169.254/16, so
the cloud metadata service at 169.254.169.254), unique-local (fc00::/7, so fd00:ec2::254),
reserved, documentation and unspecified addresses; IPv4-mapped IPv6 addresses are judged
by the IPv4 address they carry.

``allow_insecure`` (``OPSGRAPH_WEBHOOKS_ALLOW_INSECURE``, for tests and local development)
lets loopback addresses through, over ``http`` or ``https``. Nothing else changes: private
and link-local addresses stay refused.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from opsgraph.errors import UnsafeUrl

MAX_URL = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Destination:
    """A checked URL taken apart: where to connect, and what to call the host."""

    url: str
    scheme: str
    host: str  # as written in the URL (a name, or an address without brackets)
    port: int


def _address(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def address_allowed(address: IPAddress, *, allow_insecure: bool) -> bool:
    """Whether a connection to ``address`` may be made."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return allow_insecure
    return address.is_global and not address.is_multicast


def check_url(url: str, *, allow_insecure: bool, field: str = "url") -> Destination:
    """``url`` taken apart if a webhook may be sent to it; ``UnsafeUrl`` (naming the
    reason) otherwise. A name is not resolved here: ``resolve_public`` does at send time."""
    url = url.strip()
    if not url or len(url) > MAX_URL:
        raise UnsafeUrl(f"a URL of 1 to {MAX_URL} characters is needed", field=[field])
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeUrl(f"{url!r} is not a valid URL", field=[field]) from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("https", "http") or not host:
        raise UnsafeUrl("the URL must be https://host/...", field=[field])
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("the URL must not carry a user name or password", field=[field])
    if parts.fragment:
        raise UnsafeUrl("the URL must not have a #fragment", field=[field])
    address = _address(host)
    loopback_name = host.lower() == "localhost" or host.lower().endswith(".localhost")
    if parts.scheme == "http" and not (
        allow_insecure and ((address is not None and address.is_loopback) or loopback_name)
    ):
        raise UnsafeUrl(
            "the URL must be https (http only for loopback, in insecure mode)", field=[field]
        )
    if address is not None and not address_allowed(address, allow_insecure=allow_insecure):
        raise UnsafeUrl(
            f"{host} is not a public address: webhooks are sent to public hosts only",
            field=[field],
        )
    if loopback_name and not allow_insecure:
        raise UnsafeUrl(f"{host} is a loopback name", field=[field])
    return Destination(
        url=url,
        scheme=parts.scheme,
        host=host,
        port=port or (443 if parts.scheme == "https" else 80),
    )


async def resolve_public(destination: Destination, *, allow_insecure: bool) -> list[IPAddress]:
    """Every address ``destination``'s host resolves to, if all of them may be connected
    to; ``UnsafeUrl`` if any may not (or the name does not resolve)."""
    literal = _address(destination.host)
    if literal is not None:
        found = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                destination.host, destination.port, type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise UnsafeUrl(f"{destination.host} does not resolve") from None
        found = []
        for info in infos:
            address = ipaddress.ip_address(info[4][0])
            if address not in found:
                found.append(address)
    refused = [a for a in found if not address_allowed(a, allow_insecure=allow_insecure)]
    if refused or not found:
        raise UnsafeUrl(
            f"{destination.host} resolves to {refused[0] if refused else 'nothing'}, "
            "which is not a public address"
        )
    return found
