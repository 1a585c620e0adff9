"""Dataloaders, created per request: one per (entity, key) and per page shape.

``Loaders`` is the per-request registry. Loaders are made on first use from the
declarative mapping, so there is one mechanism for every relation instead of a
hand-written loader each; names follow ``<entity>_by_<key>``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, Row
from strawberry.dataloader import DataLoader

from opsgraph.graph.catalogue import ENTITIES, Relation
from opsgraph.loaders import sql
from opsgraph.loaders.sql import PageSpec, Scope

Fetch = Callable[[Executable], Awaitable[Sequence[Any]]]


@dataclass(frozen=True)
class Page:
    rows: list[Row[Any]]
    has_next: bool
    has_previous: bool


def cut_page(rows: list[Row[Any]], spec: PageSpec) -> Page:
    """Trim the look-ahead row and restore natural order for backward pages."""
    more = len(rows) > spec.limit
    rows = rows[: spec.limit]
    if spec.backwards:
        rows.reverse()
        return Page(rows, has_next=spec.before is not None, has_previous=more)
    return Page(rows, has_next=more, has_previous=spec.after is not None)


class Loaders:
    """The loaders of one request. Never shared across requests."""

    def __init__(self, fetch: Fetch, scope: Callable[[], Scope | None]) -> None:
        self.fetch = fetch
        # the caller's row scope, asked for when a statement is built (after the guard)
        self.scope = scope
        self._loaders: dict[Any, DataLoader[Any, Any]] = {}
        self._values: dict[int, dict[Any, Any]] = {}  # load_all's values, per loader

    def forget(self) -> None:
        """Drop every loader and value read so far: after a mutation, nothing the request
        loaded before may stand in for the rows as they are now."""
        self._loaders.clear()
        self._values.clear()

    def _get(self, name: Any, make: Callable[[], DataLoader[Any, Any]]) -> DataLoader[Any, Any]:
        loader = self._loaders.get(name)
        if loader is None:
            loader = self._loaders[name] = make()
        return loader

    async def load_all(self, loader: DataLoader[Any, Any], keys: Sequence[Any]) -> list[Any]:
        """The values for ``keys`` (distinct), those not loaded yet in one batch through
        ``loader``'s batch function: for a caller that holds every key of a level at once,
        a future per key would be waste. Values are kept per loader for the request, as
        the loader's own cache keeps them."""
        known = self._values.setdefault(id(loader), {})
        missing = [key for key in keys if key not in known]
        if missing:
            known.update(zip(missing, await loader.load_fn(missing), strict=True))
        return [known[key] for key in keys]

    def by_key(self, entity: str, column: str = "id") -> DataLoader[Any, Row[Any] | None]:
        """``<entity>_by_<column>``: one row per key, or None."""
        target = ENTITIES[entity]

        async def load(keys: list[Any]) -> list[Row[Any] | None]:
            rows = await self.fetch(sql.rows_by_key(target, column, keys, self.scope()))
            found = {getattr(row, column): row for row in rows}
            return [found.get(key) for key in keys]

        return self._get((entity, "by", column), lambda: DataLoader(load))

    def one(self, relation: Relation) -> DataLoader[Any, Row[Any] | None]:
        return self.by_key(relation.target, relation.remote)

    def children(self, relation: Relation, spec: PageSpec) -> DataLoader[Any, Page]:
        """``<entities>_by_<parent key>``: one page per parent, all parents in one statement."""

        async def load(keys: list[Any]) -> list[Page]:
            rows = await self.fetch(sql.page_of_children(relation, keys, spec, self.scope()))
            grouped: dict[Any, list[Row[Any]]] = defaultdict(list)
            for row in rows:
                grouped[row.graph_parent].append(row)
            return [cut_page(grouped.get(key, []), spec) for key in keys]

        return self._get((relation, spec), lambda: DataLoader(load))

    def child_counts(
        self, relation: Relation, filters: tuple[tuple[str, Any], ...]
    ) -> DataLoader[Any, int]:
        async def load(keys: list[Any]) -> list[int]:
            rows = await self.fetch(sql.count_of_children(relation, keys, filters, self.scope()))
            counts = {row.graph_parent: row.n for row in rows}
            return [int(counts.get(key, 0)) for key in keys]

        return self._get((relation, "count", filters), lambda: DataLoader(load))

    def computed(
        self, name: str, build: Callable[[Sequence[Any]], Executable]
    ) -> DataLoader[Any, Any]:
        """A batched computed value per key: ``build(keys)`` selects ``(key, value)`` rows.
        The keys are ids of rows the caller was given, so they are already in scope."""

        async def load(keys: list[Any]) -> list[Any]:
            rows = await self.fetch(build(keys))
            values = {row[0]: row[1] for row in rows}
            return [values.get(key) for key in keys]

        return self._get(("computed", name), lambda: DataLoader(load))
