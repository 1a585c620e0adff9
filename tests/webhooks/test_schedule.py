"""The retry schedule: a pure function of the attempt, the time and a random source."""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest

from opsgraph.webhooks.schedule import DELAYS, JITTER, MAX_ATTEMPTS, next_attempt_at, retry_delay

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def test_the_table_spans_more_than_a_day_even_with_every_wait_shrunk() -> None:
    lowest = [retry_delay(n, lambda: 0.0) for n in range(1, MAX_ATTEMPTS)]
    assert all(delay is not None for delay in lowest)
    assert sum((d for d in lowest if d), dt.timedelta()) >= dt.timedelta(hours=24)
    assert MAX_ATTEMPTS == 8


@pytest.mark.parametrize("attempt", range(1, MAX_ATTEMPTS))
def test_jitter_stays_within_ten_percent(attempt: int) -> None:
    base = DELAYS[attempt - 1]
    assert retry_delay(attempt, lambda: 0.0) == base * (1 - JITTER)
    assert retry_delay(attempt, lambda: 0.5) == base
    source = random.Random(attempt)
    for _ in range(100):
        delay = retry_delay(attempt, source.random)
        assert delay is not None
        assert base * (1 - JITTER) <= delay <= base * (1 + JITTER)


def test_waits_grow() -> None:
    middle = [retry_delay(n, lambda: 0.5) for n in range(1, MAX_ATTEMPTS)]
    assert middle == list(DELAYS)
    assert all(a <= b for a, b in itertools.pairwise(DELAYS))


def test_next_attempt_is_the_wait_after_now() -> None:
    assert next_attempt_at(1, NOW, lambda: 0.5) == NOW + dt.timedelta(seconds=5)
    assert next_attempt_at(4, NOW, lambda: 0.0) == NOW + dt.timedelta(hours=2) * 0.9


@pytest.mark.parametrize("attempt", [0, MAX_ATTEMPTS, MAX_ATTEMPTS + 3])
def test_no_attempt_after_the_last(attempt: int) -> None:
    drawn: list[float] = []

    def source() -> float:
        drawn.append(0.5)
        return 0.5

    assert next_attempt_at(attempt, NOW, source) is None
    assert drawn == []  # nothing drawn: a seeded source stays in step with the schedule
