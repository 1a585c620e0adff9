"""schema.graphql is the committed contract: it must match the code."""

from __future__ import annotations

from pathlib import Path

from opsgraph.api import schema

SNAPSHOT = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_committed_schema_matches_the_code() -> None:
    assert SNAPSHOT.read_text() == schema.as_str().rstrip() + "\n", (
        "schema.graphql is stale: run `make schema` and commit the result"
    )
