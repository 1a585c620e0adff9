"""Hostile GraphQL documents, each with the error code the server refuses it with.

Used by ``tests/rest/test_hostile_documents.py`` and by the benchmark (``bench/run.py``),
which times each one against a running server while it polls ``/health``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import httpx

ACCEPT = {"Accept": "application/graphql-response+json"}


@dataclass(frozen=True)
class Hostile:
    name: str
    query: str
    code: str  # extensions.code of the refusal


def fragment_bomb(levels: int, leaf: str = "x: __typename") -> str:
    """``{ ...G<levels> }`` where each fragment spreads the one below it twice: a few hundred
    bytes that expand to 2**levels copies of ``leaf``."""
    parts = [f"{{ ...G{levels} }}", f"fragment G0 on Query {{ {leaf} }}"]
    parts += [f"fragment G{n} on Query {{ ...G{n - 1} ...G{n - 1} }}" for n in range(1, levels + 1)]
    return " ".join(parts)


def nested(levels: int) -> str:
    """A query about ``levels`` fields deep (customers -> orders -> customer -> ...), in
    steps of seven."""
    steps = max(1, levels // 7)
    step = "customers { edges { node { orders { edges { node { customer {"
    return "{ " + step * steps + " id" + " }" * (7 * steps) + " }"


MIB = 1024 * 1024
HOSTILE = [
    Hostile("fragment bomb, 30 levels", fragment_bomb(30, "__typename"), "TOO_MANY_FIELDS"),
    Hostile("aliased fragment bomb, 20 levels", fragment_bomb(20), "TOO_MANY_FIELDS"),
    Hostile(
        "600 directives on one field",
        "{ __typename" + " @skip(if: false)" * 600 + " }",
        "TOO_MANY_DIRECTIVES",
    ),
    Hostile("100,000 directives", "{ x" + " @a" * 100_000 + " }", "DOCUMENT_TOO_LONG"),
    Hostile(
        "1,000 duplicate fields", "{ " + "__typename " * 1_000 + "}", "TOO_MANY_DUPLICATE_FIELDS"
    ),
    Hostile(
        "30 x 30 duplicate nested fields",
        "{ " + ("customers { edges { node { " + "id " * 30 + "} } } ") * 30 + "}",
        "TOO_MANY_DUPLICATE_FIELDS",
    ),
    Hostile("100,000 duplicate fields", "{ " + "x " * 100_000 + "}", "DOCUMENT_TOO_LONG"),
    Hostile("20,000 tokens", "{ " + "a " * 20_000 + "}", "TOO_MANY_TOKENS"),
    Hostile("1 MiB of tokens", "{ " + "a " * ((MIB - 100) // 2) + "}", "DOCUMENT_TOO_LONG"),
    Hostile(
        "1,600 aliases",
        "{ " + " ".join(f"a{n}: __typename" for n in range(1_600)) + " }",
        "TOO_MANY_ALIASES",
    ),
    Hostile("105 levels deep", nested(105), "QUERY_TOO_DEEP"),
]


async def answer(
    client: httpx.AsyncClient, query: str, *, get: bool = False, operation: str | None = None
) -> httpx.Response:
    params = {"query": query, **({"operationName": operation} if operation else {})}
    if get:
        return await client.get("/graphql", params=params, headers=ACCEPT)
    return await client.post("/graphql", json=params, headers=ACCEPT)


@dataclass
class Timed:
    response: httpx.Response
    seconds: float  # the hostile request, sent to answered
    health_seconds: float  # the slowest /health answered while it ran


async def timed_with_health(
    client: httpx.AsyncClient,
    query: str,
    *,
    get: bool = False,
    operation: str | None = None,
    interval: float = 0.002,
) -> Timed:
    """Send ``query`` while ``/health`` is asked again and again on the same server."""
    slowest = 0.0
    done = asyncio.Event()

    async def poll() -> None:
        nonlocal slowest
        while not done.is_set():
            started = time.perf_counter()
            health = await client.get("/health")
            health.raise_for_status()
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(interval)

    poller = asyncio.create_task(poll())
    await asyncio.sleep(0)
    started = time.perf_counter()
    try:
        response = await answer(client, query, get=get, operation=operation)
    finally:
        seconds = time.perf_counter() - started
        done.set()
        await poller
    return Timed(response, seconds, slowest)


# the most validation work within the default limits: a thousand operations just under
# the token limit (valid; one of them is run)
LARGEST_VALID = " ".join(f"query Q{n} {{ __typename }}" for n in range(990))
MAX_GET_QUERY = 8_000  # uvicorn refuses longer request lines itself


@dataclass
class HostileFigures:
    refused: int
    worst: str  # the hostile document answered slowest
    worst_ms: float
    health_ms: float  # the slowest /health while a hostile document was answered
    valid_ms: float  # the largest valid document, parsed, validated and run
    valid_health_ms: float

    def __str__(self) -> str:
        return (
            f"hostile documents: {self.refused} refused with their limit codes; slowest "
            f"{self.worst_ms:.1f} ms ({self.worst}); slowest /health meanwhile "
            f"{self.health_ms:.1f} ms\nlargest valid document (990 operations, new to the "
            f"server): {self.valid_ms:.1f} ms; slowest /health meanwhile "
            f"{self.valid_health_ms:.1f} ms"
        )


async def bench_hostile(base_url: str) -> HostileFigures:
    """Send every hostile document (POST, and GET when it fits in a URL) to the server at
    ``base_url`` while polling its ``/health``: the figures of the slowest."""
    refused, worst, worst_seconds, health = 0, "", 0.0, 0.0
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for hostile in HOSTILE:
            for get in (False, True) if len(hostile.query) < MAX_GET_QUERY else (False,):
                timed = await timed_with_health(client, hostile.query, get=get)
                code = timed.response.json()["errors"][0]["extensions"]["code"]
                assert timed.response.status_code == 400, timed.response.text[:300]
                assert code == hostile.code, (hostile.name, code)
                refused += 1
                health = max(health, timed.health_seconds)
                if timed.seconds > worst_seconds:
                    worst_seconds = timed.seconds
                    worst = f"{hostile.name}, {'GET' if get else 'POST'}"
        # a text the server has not cached yet
        valid = await timed_with_health(client, f"{LARGEST_VALID} # {time.time()}", operation="Q7")
        assert valid.response.json()["data"] == {"__typename": "Query"}, valid.response.text
    return HostileFigures(
        refused,
        worst,
        worst_seconds * 1000,
        health * 1000,
        valid.seconds * 1000,
        valid.health_seconds * 1000,
    )
