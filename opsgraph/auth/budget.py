"""Cost budgets: what each caller may spend on operations over time.

Every operation spends its cost (``opsgraph.execution.cost``) from its caller's budget:
``OPSGRAPH_COST_BUDGET`` per ``OPSGRAPH_COST_BUDGET_WINDOW_SECONDS``, counted by the
``limits`` library's sliding window counter (the last full window weighted by how much of
it still overlaps, plus the current one). The caller is the API key, else the signed-in
user, else the client address. When an operation does not fit, it is refused with the
seconds until it would (``BudgetExceeded``: 429 with ``Retry-After``).

The counts live in ``OPSGRAPH_COST_BUDGET_STORAGE_URL``: ``memory://`` keeps them in the
server process (each worker its own), a Redis, Memcached or MongoDB URL shares them among
workers and servers. A store that fails lets operations through (logged): the limit on
each operation's cost still holds.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from urllib.parse import urlsplit

from limits import RateLimitItemPerSecond
from limits.aio.storage import SlidingWindowCounterSupport
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string

from opsgraph.auth.principal import Principal
from opsgraph.errors import BudgetExceeded
from opsgraph.settings import ConfigError, Settings

log = logging.getLogger(__name__)


def caller_key(principal: Principal | None, client_address: str) -> str:
    """Whose budget an operation spends: the API key's, the user's, or the address's."""
    if principal is None:
        return f"address:{client_address}"
    if principal.api_key_id is not None:
        return f"api-key:{principal.api_key_id}"
    return f"user:{principal.user_id}"


def async_storage_url(url: str) -> str:
    """The limits library's async variant of a storage URL (``redis://`` ->
    ``async+redis://``)."""
    return url if url.startswith("async+") else f"async+{url}"


@dataclass
class CostReport:
    """What an operation costs (``requested``), the most one may cost (``limit``) and what
    its caller has left of its budget (``remaining``, once spent): ``extensions.cost``."""

    requested: int
    limit: int
    remaining: int | None = None

    def as_json(self) -> dict[str, int]:
        report = {"requested": self.requested, "limit": self.limit}
        if self.remaining is not None:
            report["remaining"] = self.remaining
        return report


class CostBudget:
    """The budgets of every caller, in one store."""

    def __init__(self, amount: int, window_seconds: int, storage_url: str) -> None:
        url = async_storage_url(storage_url)
        try:
            storage = storage_from_string(url, wrap_exceptions=True)
            self.limiter = SlidingWindowCounterRateLimiter(storage)
        except (ConfigurationError, NotImplementedError) as exc:
            # name the kind of store, never the URL: it may hold a password
            reason = str(exc).replace(url, f"{urlsplit(url).scheme}://...")
            raise ConfigError(f"OPSGRAPH_COST_BUDGET_STORAGE_URL: {reason}") from None
        self.storage: SlidingWindowCounterSupport = storage  # type: ignore[assignment]
        self.item = RateLimitItemPerSecond(amount, window_seconds, namespace="opsgraph-cost")

    @classmethod
    def from_settings(cls, settings: Settings) -> CostBudget | None:
        """The configured budgets; None when they are off (``OPSGRAPH_COST_BUDGET=0``)."""
        if settings.cost_budget == 0:
            return None
        return cls(
            settings.cost_budget,
            settings.cost_budget_window_seconds,
            settings.cost_budget_storage_url,
        )

    async def spend(self, caller: str, cost: int) -> int | None:
        """Spend ``cost`` from ``caller``'s budget and return what is left, or raise
        ``BudgetExceeded`` (nothing spent) when it does not fit. None: the store failed,
        and the operation goes ahead."""
        try:
            spent = await self.limiter.hit(self.item, caller, cost=cost)
            stats = await self.limiter.get_window_stats(self.item, caller)
            if spent:
                return stats.remaining
            retry_after = await self.retry_after(caller, cost)
        except StorageError as exc:
            log.warning("cost budget store failed, operation let through: %s", exc.storage_error)
            return None
        raise BudgetExceeded(cost, stats.remaining, retry_after)

    async def retry_after(self, caller: str, cost: int) -> int:
        """Whole seconds until ``cost`` fits in ``caller``'s budget (at least 1).

        The sliding window counter weighs the previous window by the share of it still
        inside the sliding window, which falls linearly to 0 at the end of the current
        window; after that the current window is the previous one."""
        window = self.item.get_expiry()
        previous, _, current, current_ttl = await self.storage.get_sliding_window(
            self.item.key_for(caller), window
        )
        left_in_window = max(0.0, current_ttl - window)
        room = self.item.amount - cost - current  # what the previous window may still hold
        if room >= 0:
            wait = left_in_window - window * room / previous if previous else 0.0
        else:  # not before the current window has become the previous one and decayed
            wait = left_in_window + window * (1 - (self.item.amount - cost) / current)
        return max(1, math.ceil(wait))
