"""Each GraphQL document parsed, checked and validated once, off the event loop.

``CheckedDocuments`` takes the place of Strawberry's ParserCache, ValidationCache and its
depth and alias limiters (which expand every fragment spread, so a small document could
hold the server for seconds):

1. A document seen before (the same text under the same limits) comes from a cache of the
   last ``CACHED_DOCUMENTS`` documents, with its validation errors: nothing is parsed or
   validated again.
2. A new one is parsed with the token limit and measured against the other limits
   (``opsgraph.schema.limits``: linear in the document's length, before any validation
   rule); a document over a limit is a request error whose ``extensions.code`` names it.
3. Only then is it validated. Parsing and validation run in worker threads of their own
   (not the default pool, which hashes passwords), so that the event loop keeps answering
   other requests (``/health`` included) while they run; the limits bound how long that
   is. graphql-core is pure Python, so a thread holds the interpreter lock while it works,
   but gives it up every few milliseconds (measured: ``/health`` answered within about
   15 ms while the largest valid document is validated, against the whole 100-200 ms on
   the event loop).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from graphql import ASTValidationRule, DocumentNode, GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

from opsgraph.schema.limits import DocumentLimits, check_document, parse_limited

CACHED_DOCUMENTS = 256  # parsed and validated documents kept, least recently used out
# more threads would not work faster (one interpreter lock), only queue less
THREADS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="graphql-documents")

T = TypeVar("T")

Rules = tuple[type[ASTValidationRule], ...]


@dataclass
class Prepared:
    """A parsed document within the limits, and its validation errors per rule set."""

    document: DocumentNode
    errors: dict[Rules, list[GraphQLError]] = field(default_factory=dict)


class DocumentCache:
    """The last ``size`` documents, by text and limits (least recently used out)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[str, DocumentLimits], Prepared] = OrderedDict()

    def get(self, key: tuple[str, DocumentLimits]) -> Prepared | None:
        prepared = self._entries.get(key)
        if prepared is not None:
            self._entries.move_to_end(key)
        return prepared

    def put(self, key: tuple[str, DocumentLimits], prepared: Prepared) -> None:
        self._entries[key] = prepared
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


documents = DocumentCache(CACHED_DOCUMENTS)


def limits_of(context: Any) -> DocumentLimits:
    """The limits of the request's settings (the defaults when it has none)."""
    settings = getattr(context, "settings", None)
    return DocumentLimits.of(settings) if settings is not None else DocumentLimits()


async def in_thread(function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(THREADS, function, *args)


def prepare(query: str, limits: DocumentLimits) -> DocumentNode:
    document = parse_limited(query, limits)
    check_document(document, limits)
    return document


class CheckedDocuments(SchemaExtension):
    """Parse (with the limits) and validate each new document once, in a worker thread."""

    prepared: Prepared | None = None

    async def on_parse(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            key = (context.query, limits_of(context.context))
            prepared = documents.get(key)
            if prepared is None:
                # a refused document raises here: a request error, and nothing is cached
                document = await in_thread(prepare, *key)
                prepared = Prepared(document)
                documents.put(key, prepared)
            self.prepared = prepared
            context.graphql_document = prepared.document
        yield

    async def on_validate(self) -> AsyncIterator[None]:
        context = self.execution_context
        prepared = self.prepared
        if prepared is not None and context.pre_execution_errors is None:
            rules = tuple(context.validation_rules)
            errors = prepared.errors.get(rules)
            if errors is None:
                errors = await in_thread(
                    validate_document, context.schema._schema, prepared.document, rules
                )
                prepared.errors[rules] = errors
            context.pre_execution_errors = errors
        yield
