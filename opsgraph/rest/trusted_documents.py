"""Persisted queries and the allow-list on ``/graphql`` (``OPSGRAPH_TRUSTED_DOCUMENTS``);
opsgraph.services.trusted_document keeps the documents.

A request names a stored document by ``extensions.persistedQuery.sha256Hash`` (Apollo's
automatic persisted queries, version 1), over POST or GET. The document is looked up
before anything is parsed, in a small in-process cache first, then in the database.

* ``open`` (default): any document runs. A hash alone runs the stored document or gets
  the error ``PersistedQueryNotFound`` (code ``PERSISTED_QUERY_NOT_FOUND``), on which
  Apollo's clients send the document with its hash; such a document is stored once it has
  parsed, validated and run for a signed-in caller (anonymous callers' documents run but
  are not stored), at most ``OPSGRAPH_APQ_MAX_DOCUMENTS`` of them.
* ``registered``: only documents an operator registered run, named by their hash or sent
  as text whose selected operation is a registered one; anything else is refused with
  ``DOCUMENT_NOT_TRUSTED`` before it is parsed for execution. Nothing is stored
  automatically. Signed-in admins (``user:admin``, not API keys) may send any document
  while ``OPSGRAPH_TRUSTED_DOCUMENTS_ADMIN_BYPASS`` is on.

A hash that doesn't match the document sent with it is refused as Apollo Server does:
400, "provided sha does not match query".
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from strawberry.http import GraphQLRequestData

from opsgraph.context import Context
from opsgraph.errors import DocumentNotTrusted, DomainError, PersistedQueryNotFound
from opsgraph.models import DocumentSource
from opsgraph.permissions import Permission
from opsgraph.services import idempotency
from opsgraph.services.trusted_document import (
    canonical_operation,
    find_document,
    sha256_hex,
    store_automatic,
)
from opsgraph.settings import Settings, TrustedDocumentsMode

log = logging.getLogger(__name__)

PERSISTED_QUERY = "persistedQuery"
SUPPORTED_VERSION = 1
SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
ADMIN_PERMISSION = Permission.USER_ADMIN
CACHED_DOCUMENTS = 1000  # documents kept in memory, least recently used out ...
CACHED_CHARACTERS = 16 * 1024 * 1024  # ... and at most this much text
MAX_AUTOMATIC_CHARACTERS = 100_000  # longer documents sent with a hash run, but aren't stored


class BadPersistedQuery(Exception):
    """``extensions.persistedQuery`` that can't be used: answered 400 with ``code``."""

    def __init__(self, message: str, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.message, self.code = message, code


def requested_hash(extensions: Mapping[str, Any] | None) -> str | None:
    """The lowercase SHA-256 a request names in ``extensions.persistedQuery``, if any."""
    persisted = (extensions or {}).get(PERSISTED_QUERY)
    if persisted is None:
        return None
    if not isinstance(persisted, dict):
        raise BadPersistedQuery("extensions.persistedQuery must be an object.")
    version = persisted.get("version")
    if version != SUPPORTED_VERSION or isinstance(version, bool):
        raise BadPersistedQuery("Unsupported persisted query version")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.fullmatch(sha256):
        raise BadPersistedQuery(
            "extensions.persistedQuery.sha256Hash must be 64 hexadecimal characters."
        )
    return sha256.lower()


@dataclass
class Prepared:
    """The request to run, and whether to store its document once it has run (APQ)."""

    request_data: GraphQLRequestData
    store: bool = False


class DocumentCache:
    """Stored documents by hash, least recently used out (bounded in count and size)."""

    def __init__(self, maxsize: int = CACHED_DOCUMENTS, max_chars: int = CACHED_CHARACTERS):
        self.maxsize, self.max_chars = maxsize, max_chars
        self._entries: OrderedDict[str, tuple[str, str]] = OrderedDict()
        self._chars = 0

    def get(self, sha256: str, *, trusted_only: bool) -> str | None:
        entry = self._entries.get(sha256)
        if entry is None or (trusted_only and entry[1] != DocumentSource.cli):
            return None
        self._entries.move_to_end(sha256)
        return entry[0]

    def put(self, sha256: str, document: str, source: str) -> None:
        if len(document) > self.max_chars:
            return
        old = self._entries.pop(sha256, None)
        if old is not None:
            self._chars -= len(old[0])
        self._entries[sha256] = (document, source)
        self._chars += len(document)
        while len(self._entries) > self.maxsize or self._chars > self.max_chars:
            _, (evicted, _) = self._entries.popitem(last=False)
            self._chars -= len(evicted)


class TrustedDocuments:
    """Resolves a request's document by its hash and enforces the mode, before execution."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cache = DocumentCache()

    @property
    def registered_only(self) -> bool:
        return self.settings.trusted_documents is TrustedDocumentsMode.registered

    async def prepare(self, data: GraphQLRequestData, context: Context) -> Prepared:
        """The request with its document; raises PersistedQueryNotFound, DocumentNotTrusted
        or BadPersistedQuery."""
        sha256 = requested_hash(data.extensions)
        if sha256 is not None and data.query is not None and sha256_hex(data.query) != sha256:
            raise BadPersistedQuery(
                "provided sha does not match query", "PERSISTED_QUERY_HASH_MISMATCH"
            )
        if data.query is None:
            if sha256 is None:  # no document at all: Strawberry answers that
                return Prepared(data)
            document = await self.lookup(context, [sha256])
            if document is None:
                raise PersistedQueryNotFound()
            return Prepared(replace(data, query=document))
        if self.registered_only:
            return Prepared(await self.trusted(data, context))
        if sha256 is None or self.cache.get(sha256, trusted_only=False) is not None:
            return Prepared(data)
        return Prepared(data, store=True)

    async def lookup(self, context: Context, hashes: Iterable[str]) -> str | None:
        """The first of the documents named by ``hashes`` that is stored (and trusted, in
        the registered mode): from the cache, else from the database."""
        wanted = list(hashes)
        for sha256 in wanted:
            document = self.cache.get(sha256, trusted_only=self.registered_only)
            if document is not None:
                return document
        async with context.read_session() as session:
            row = await find_document(session, wanted, trusted_only=self.registered_only)
        if row is None:
            return None
        self.cache.put(row.sha256, row.document, row.source)
        return row.document

    async def trusted(self, data: GraphQLRequestData, context: Context) -> GraphQLRequestData:
        """A request with a document in the registered mode: the registered document it
        names (the same text, or the same operation in canonical form), or refused."""
        assert data.query is not None  # noqa: S101 - prepare() sends only those
        hashes = [sha256_hex(data.query)]
        if self.cache.get(hashes[0], trusted_only=True) is not None:
            return data
        operation = canonical_operation(
            data.query, data.operation_name, max_tokens=self.settings.graphql_max_tokens
        )
        if operation is not None:
            hashes.append(operation.sha256)
        document = await self.lookup(context, hashes)
        if document is not None:
            return replace(data, query=document)
        if await self.may_bypass(context):
            return data
        raise DocumentNotTrusted()

    async def may_bypass(self, context: Context) -> bool:
        """Whether the caller may send documents that are not registered: a signed-in
        admin, when the bypass is on (API keys never)."""
        if not self.settings.trusted_documents_admin_bypass:
            return False
        try:
            principal = await context.principal()
        except DomainError:
            return False  # bad credentials: refused like any other caller
        return (
            principal is not None
            and principal.api_key_id is None
            and principal.can(ADMIN_PERMISSION)
        )

    async def store(self, prepared: Prepared, context: Context) -> None:
        """Keep the document of a persisted query that ran, for a signed-in caller (a
        document of public fields only runs without looking at credentials: not kept)."""
        document = prepared.request_data.query
        limit = self.settings.apq_max_documents
        if not prepared.store or document is None or limit == 0:
            return
        if len(document) > MAX_AUTOMATIC_CHARACTERS:
            return
        try:
            principal = await context.principal()
        except DomainError:
            return
        if principal is None:
            return
        try:
            async with context.transaction() as session:
                stored = await store_automatic(
                    session,
                    document=document,
                    created_by=idempotency.scope_of(principal),
                    limit=limit,
                )
        except SQLAlchemyError:
            log.warning("could not store a persisted query", exc_info=True)
            return
        if stored:
            self.cache.put(sha256_hex(document), document, DocumentSource.apq)
