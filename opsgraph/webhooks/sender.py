"""One HTTP attempt of a delivery: POST the signed body to the endpoint, and say how it went.

The URL is checked again (``check_url``) and its host resolved and checked at send time
(``resolve_public``): a name that now resolves to a private or loopback address makes no
connection. The request then goes to the checked address itself, with the URL's host in
the ``Host`` header and as the TLS server name (httpcore's ``sni_hostname`` extension,
also what the certificate is verified against), so no second lookup can swap the address
(DNS rebinding). Redirects are not followed (a 3xx is a failure), no proxy from the
environment is used, the whole attempt has ``SEND_TIMEOUT`` seconds, and only the first
``ERROR_BYTES`` of a response are read (for ``last_error``).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

import httpx

from opsgraph.errors import UnsafeUrl
from opsgraph.webhooks.addresses import check_url, resolve_public

SEND_TIMEOUT: Final = 10.0
ERROR_BYTES: Final = 2048
USER_AGENT: Final = "opsgraph-webhooks/1"


@dataclass(frozen=True)
class Outcome:
    """What an attempt came to: the receiver's status code (None: no response) and, for a
    failure, a short reason with the start of the response body."""

    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    """The certificate store, loaded once per process (it is the costly part of a client)."""
    return httpx.create_ssl_context()


async def post(
    url: str, body: bytes, headers: Mapping[str, str], *, allow_insecure: bool
) -> Outcome:
    """POST ``body`` with ``headers`` to ``url``, guarded as the module says."""
    try:
        async with asyncio.timeout(SEND_TIMEOUT):
            return await _post(url, body, headers, allow_insecure=allow_insecure)
    except UnsafeUrl as exc:
        return Outcome(None, f"refused: {exc.message}")
    except TimeoutError:
        return Outcome(None, f"no answer within {SEND_TIMEOUT:.0f} s")
    except (httpx.HTTPError, OSError, ValueError) as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_BYTES])


async def _post(
    url: str, body: bytes, headers: Mapping[str, str], *, allow_insecure: bool
) -> Outcome:
    destination = check_url(url, allow_insecure=allow_insecure)
    addresses = await resolve_public(destination, allow_insecure=allow_insecure)
    target = httpx.URL(url)
    request_headers = {
        **headers,
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "accept-encoding": "identity",  # the start of an error body is read as sent
        "host": target.netloc.decode("ascii"),
    }
    extensions = {"sni_hostname": destination.host} if destination.scheme == "https" else {}
    failure = Outcome(None, "no address to connect to")
    async with httpx.AsyncClient(
        verify=_tls_context(),
        trust_env=False,
        follow_redirects=False,
        timeout=SEND_TIMEOUT,
        limits=httpx.Limits(max_keepalive_connections=0),
    ) as client:
        for address in addresses:
            request = client.build_request(
                "POST",
                target.copy_with(host=str(address)),
                content=body,
                headers=request_headers,
                extensions=extensions,
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.ConnectError as exc:  # nothing was sent: the next address may answer
                failure = Outcome(None, f"cannot connect to {address}: {str(exc) or 'refused'}")
                continue
            except httpx.TimeoutException:
                return Outcome(None, f"no answer within {SEND_TIMEOUT:.0f} s")
            except httpx.HTTPError as exc:
                return Outcome(None, f"{type(exc).__name__}: {exc}"[:ERROR_BYTES])
            try:
                return await _outcome(response)
            finally:
                await response.aclose()
    return failure


async def _outcome(response: httpx.Response) -> Outcome:
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(status, None)
    start = b""
    try:
        async for chunk in response.aiter_raw():
            start += chunk
            if len(start) >= ERROR_BYTES:
                break
    except httpx.HTTPError:
        pass
    text = start[:ERROR_BYTES].decode("utf-8", errors="replace").strip()
    reason = f"HTTP {status}"
    if 300 <= status < 400:
        location = response.headers.get("location", "")[:500]
        reason += f": redirect to {location!r} not followed"
    return Outcome(status, f"{reason}: {text}" if text else reason)
