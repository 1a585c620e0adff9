"""When a failed delivery is tried again: exponential backoff with jitter, for over a day.

The first attempt goes out as soon as a worker takes the job. After a failed attempt ``n``
the next one waits ``DELAYS[n - 1]``, stretched or shrunk by up to ``JITTER`` (± 10 %,
uniformly), so deliveries that failed together (a receiver that was down) don't all come
back in the same second:

| after attempt | waits     | attempt at (about) |
|---------------|-----------|--------------------|
| 1             | 5 s       | 5 s                |
| 2             | 5 min     | 5 min              |
| 3             | 30 min    | 35 min             |
| 4             | 2 h       | 2 h 35 min         |
| 5             | 5 h       | 7 h 35 min         |
| 6             | 10 h      | 17 h 35 min        |
| 7             | 10 h      | 27 h 35 min        |

Eight attempts in all; when the eighth fails the delivery is dead. Even with every wait
shrunk by the jitter, the last attempt comes more than 24 h after the first (24 h 49 min).
The waits are those of the Standard Webhooks reference implementation (Svix).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Final

DELAYS: Final = (
    dt.timedelta(seconds=5),
    dt.timedelta(minutes=5),
    dt.timedelta(minutes=30),
    dt.timedelta(hours=2),
    dt.timedelta(hours=5),
    dt.timedelta(hours=10),
    dt.timedelta(hours=10),
)
MAX_ATTEMPTS: Final = len(DELAYS) + 1
JITTER: Final = 0.1

# a source of uniform numbers in [0, 1): ``random.random``, or a seeded ``Random().random``
RandomSource = Callable[[], float]


def retry_delay(attempt: int, random: RandomSource) -> dt.timedelta | None:
    """How long after failed attempt ``attempt`` (1 for the first) the next one waits;
    None when it was the last. Draws one number from ``random`` when there is a next."""
    if attempt < 1 or attempt >= MAX_ATTEMPTS:
        return None
    factor = 1 + JITTER * (2 * random() - 1)
    return DELAYS[attempt - 1] * factor


def next_attempt_at(attempt: int, now: dt.datetime, random: RandomSource) -> dt.datetime | None:
    """When the attempt after failed attempt ``attempt`` (made at ``now``) is due; None
    when there is none (the delivery is dead)."""
    delay = retry_delay(attempt, random)
    return None if delay is None else now + delay
