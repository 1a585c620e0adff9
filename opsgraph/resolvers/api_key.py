"""Root fields of API keys: apiKeyCreate and apiKeyRevoke (`api_key:write`), apiKeys
(`api_key:read`). Without `user:admin` a caller sees and revokes only its own keys."""

from __future__ import annotations

import strawberry

from opsgraph.auth.guard import requires
from opsgraph.graph.ids import parse_global_id
from opsgraph.resolvers.mutate import mutate
from opsgraph.schema.account import (
    ApiKey,
    ApiKeyCreateInput,
    ApiKeyCreatePayload,
    ApiKeyRevokeInput,
    ApiKeyRevokePayload,
)
from opsgraph.schema.resolve import Info
from opsgraph.services import api_key as service


@strawberry.type
class ApiKeyMutation:
    @strawberry.mutation(
        description="Create an API key acting for you, with scopes you hold "
        "(`api_key:write`), bound to a regional office or a manufacturer if given "
        "(admins only). The secret is in this payload only, never again.",
        metadata=requires("api_key:write"),
    )
    async def api_key_create(self, info: Info, input: ApiKeyCreateInput) -> ApiKeyCreatePayload:
        return await mutate(
            info,
            ApiKeyCreatePayload,
            lambda session, actor: service.create_api_key(
                session,
                name=input.name,
                scopes=input.scopes,
                customer_id=None
                if input.customer_id is None
                else parse_global_id(input.customer_id, "Customer", field="customerId"),
                manufacturer=input.manufacturer,
                actor=actor,
            ),
            lambda done: {"api_key": ApiKey.of(done.key), "secret": done.secret},
        )

    @strawberry.mutation(
        description="Revoke an API key: your own, or any with `user:admin` "
        "(`api_key:write`). Requests with it fail from the next one on.",
        metadata=requires("api_key:write"),
    )
    async def api_key_revoke(self, info: Info, input: ApiKeyRevokeInput) -> ApiKeyRevokePayload:
        return await mutate(
            info,
            ApiKeyRevokePayload,
            lambda session, actor: service.revoke_api_key(
                session, key_id=parse_global_id(input.id, "ApiKey"), actor=actor
            ),
            lambda done: {"api_key": ApiKey.of(done)},
        )


@strawberry.type
class ApiKeyQuery:
    @strawberry.field(
        description="API keys, without their secrets: your own, or every key with "
        "`user:admin`; oldest first, revoked ones included (`api_key:read`).",
        metadata=requires("api_key:read"),
    )
    async def api_keys(self, info: Info) -> list[ApiKey]:
        actor = await info.context.require_principal()
        async with info.context.read_session() as session:
            keys = await service.list_api_keys(session, actor=actor)
        return [ApiKey.of(key) for key in keys]
