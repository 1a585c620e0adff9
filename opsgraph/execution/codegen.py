"""Record makers: one generated function per selection that writes a response dict.

A selection of ``n`` fields would otherwise cost a loop with ``n`` calls per row; the
function made here is a single dict display, with the common case - a text column whose
value is already a ``str`` - read inline. The source is built from response keys (GraphQL
names, which the parser restricts to ``[_A-Za-z][_0-9A-Za-z]*``, and quoted with ``repr``
anyway) and attribute names from the schema; nothing else of the request reaches it.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from types import CodeType
from typing import Any

NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*\Z")


@dataclass(frozen=True)
class Column:
    """A plain attribute of the row, completed by ``complete`` (``str_as_is``: a ``str``
    value needs no completion, as for String and ID)."""

    attr: str
    complete: Callable[[Any], Any]
    str_as_is: bool

    def __call__(self, row: Any) -> Any:
        return self.complete(getattr(row, self.attr))


Entry = tuple[str, Callable[..., Any]]  # a response key and what makes its value


@lru_cache(maxsize=1024)
def _compiled(source: str) -> CodeType:
    """Compiled once per distinct selection shape, not on every request."""
    return compile(source, "<opsgraph.execution.codegen>", "exec")


def record_maker(entries: Sequence[Entry], args: str = "row") -> Callable[..., dict[str, Any]]:
    """``def make(<args>): return {key: value, ...}`` for ``entries``; a ``Column`` entry
    reads ``row.<attr>`` (``args`` must then be ``"row"``), any other entry is called with
    ``args``."""
    namespace: dict[str, Any] = {}
    items = []
    for n, (key, make) in enumerate(entries):
        if not NAME.match(key):  # pragma: no cover - the parser allows no other names
            raise ValueError(f"not a GraphQL name: {key!r}")
        if isinstance(make, Column) and args == "row":
            namespace[f"c{n}"] = make.complete
            read = (
                f"row.{make.attr}"
                if make.attr.isidentifier() and not keyword.iskeyword(make.attr)
                else f"getattr(row, {make.attr!r})"
            )
            value = (
                f"(v if type(v := {read}) is str else c{n}(v))"
                if make.str_as_is
                else f"c{n}({read})"
            )
        else:
            namespace[f"g{n}"] = make
            value = f"g{n}({args})"
        items.append(f"{key!r}: {value}")
    source = f"def make({args}):\n    return {{{', '.join(items)}}}\n"
    exec(_compiled(source), namespace)  # noqa: S102
    maker: Callable[..., dict[str, Any]] = namespace["make"]
    return maker
