"""A short load run (``bench/load.py``) as a test: mixed reads, racing mutations and
hostile documents from several clients against ``opsgraph serve`` leave no 5xx, no
unexpected error and every money and stock invariant intact. ``make load`` runs the same
for 60 s and prints the figures."""

from __future__ import annotations

import pytest
from sqlalchemy import URL

from bench.load import run_load


@pytest.mark.timeout(600)
async def test_mixed_load_keeps_every_invariant(fresh_database_url: URL) -> None:
    url = fresh_database_url.render_as_string(hide_password=False)
    failures = await run_load(url, seconds=8, users=6)
    assert failures == []
