"""Limits on the size and shape of a GraphQL document, checked before it is validated.

graphql-core's validation rules (and limiters that count by walking the document) expand
every fragment spread where it is used: a document of a few hundred bytes whose fragments
each spread the previous one twice expands to millions of fields. Here each fragment is
measured once, after the fragments it spreads (in the order of the spread graph), and a
spread adds the measured size of its fragment: the counts are exact, and the work is
linear in the length of the document.

Measured, for all the operations of a document together, with every fragment expanded:

* ``fields``: the fields selected (a fragment spread twice counts twice);
* ``depth``: the most fields with a selection set nested in each other (introspection
  fields, ``__schema`` and ``__type``, and what they select are not counted, as before);
* ``aliases`` and ``directives``: as many as the expanded operations carry;
* ``duplicates``: fields that another field of the same response name already selects at
  the same place of the response (the merged response, as execution builds it); the rule
  that checks such fields can be merged compares them pairwise.

A fragment spread within itself (a cycle), a fragment no operation uses and two fragments
of one name are refused with the specification's validation messages: all three would be
validation errors anyway, and the measures count each fragment where it is used.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

from opsgraph.errors import (
    DocumentTooLong,
    QueryTooDeep,
    TooManyAliases,
    TooManyDirectives,
    TooManyDuplicateFields,
    TooManyFields,
    TooManyTokens,
)

if TYPE_CHECKING:
    from opsgraph.settings import Settings


@dataclass(frozen=True)
class DocumentLimits:
    """The largest document the server takes (``OPSGRAPH_GRAPHQL_MAX_*``)."""

    length: int = 100_000
    tokens: int = 5_000
    depth: int = 12
    fields: int = 2_000
    aliases: int = 50
    directives: int = 50
    duplicates: int = 100

    @classmethod
    def of(cls, settings: Settings) -> DocumentLimits:
        return cls(
            length=settings.graphql_max_length,
            tokens=settings.graphql_max_tokens,
            depth=settings.graphql_max_depth,
            fields=settings.graphql_max_fields,
            aliases=settings.graphql_max_aliases,
            directives=settings.graphql_max_directives,
            duplicates=settings.graphql_max_duplicate_fields,
        )


@dataclass(frozen=True)
class Size:
    """What a selection set amounts to with its fragments expanded."""

    fields: int = 0
    depth: int = 0
    aliases: int = 0
    directives: int = 0


EMPTY = Size()


def parse_limited(query: str, limits: DocumentLimits) -> DocumentNode:
    """Parse ``query``, giving up after ``limits.tokens`` tokens (comments count too)."""
    if len(query) > limits.length:
        raise limit_error(
            DocumentTooLong(
                f"The document is {len(query)} characters long, more than the limit of "
                f"{limits.length}; pass long values as variables."
            )
        )
    try:
        return parse(query, max_tokens=limits.tokens)
    except GraphQLSyntaxError as error:
        if f"more than {limits.tokens} tokens" in error.message:
            raise limit_error(
                TooManyTokens(
                    f"The document has more tokens than the limit of {limits.tokens} "
                    "(parsing stopped there); send a smaller document."
                )
            ) from None
        raise


def check_document(document: DocumentNode, limits: DocumentLimits) -> Size:
    """The document's measured size; a GraphQLError (with ``extensions.code`` naming the
    limit) when it passes one of ``limits``."""
    fragments: dict[str, FragmentDefinitionNode] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            name = definition.name.value
            if name in fragments:  # the second would not be measured
                raise GraphQLError(f"There can be only one fragment named '{name}'.", definition)
            fragments[name] = definition
        elif isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
    spreads = {name: set(spread_names(f.selection_set)) for name, f in fragments.items()}
    order = spread_order(fragments, spreads)
    unused(fragments, spreads, operations)
    sizes: dict[str, Size] = {}
    for name in order:
        fragment = fragments[name]
        inner = measure(fragment.selection_set, sizes)
        sizes[name] = add(inner, Size(directives=len(fragment.directives or ())))
    total = EMPTY
    for operation in operations:
        size = measure(operation.selection_set, sizes)
        total = add(total, add(size, Size(directives=len(operation.directives or ()))))
    refuse_over(total, limits)
    duplicates = sum(duplicate_fields(op.selection_set, fragments) for op in operations)
    if duplicates > limits.duplicates:
        raise limit_error(
            TooManyDuplicateFields(
                f"The document selects {duplicates} fields again where a field of the same "
                f"response name is already selected, more than the limit of "
                f"{limits.duplicates}; select each field once."
            )
        )
    return total


def refuse_over(size: Size, limits: DocumentLimits) -> None:
    if size.fields > limits.fields:
        raise limit_error(
            TooManyFields(
                f"The document selects {size.fields} fields with its fragments expanded, "
                f"more than the limit of {limits.fields}."
            )
        )
    if size.depth > limits.depth:
        raise limit_error(
            QueryTooDeep(
                f"The query is {size.depth} levels deep, more than the maximum depth of "
                f"{limits.depth}."
            )
        )
    if size.aliases > limits.aliases:
        raise limit_error(
            TooManyAliases(
                f"The document uses {size.aliases} aliases with its fragments expanded, "
                f"more than the limit of {limits.aliases}."
            )
        )
    if size.directives > limits.directives:
        raise limit_error(
            TooManyDirectives(
                f"The document uses {size.directives} directives with its fragments "
                f"expanded, more than the limit of {limits.directives}."
            )
        )


def limit_error(error: Exception) -> GraphQLError:
    """A request error carrying the DomainError's ``extensions.code``."""
    return GraphQLError(str(error), original_error=error)


def add(a: Size, b: Size) -> Size:
    return Size(
        a.fields + b.fields,
        max(a.depth, b.depth),
        a.aliases + b.aliases,
        a.directives + b.directives,
    )


def measure(selection_set: SelectionSetNode, fragments: dict[str, Size]) -> Size:
    """The size of ``selection_set``; spreads add their fragment's size from ``fragments``
    (a fragment not there, unknown or spread within itself, adds nothing: validation or
    ``spread_order`` refuses the document)."""
    fields = depth = aliases = directives = 0
    for selection in selection_set.selections:
        directives += len(selection.directives or ())
        if isinstance(selection, FieldNode):
            fields += 1
            aliases += selection.alias is not None
            if selection.selection_set is not None:
                inner = measure(selection.selection_set, fragments)
                fields += inner.fields
                aliases += inner.aliases
                directives += inner.directives
                if not selection.name.value.startswith("__"):
                    depth = max(depth, 1 + inner.depth)
            continue
        if isinstance(selection, InlineFragmentNode):
            inner = measure(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            inner = fragments.get(selection.name.value, EMPTY)
        else:  # pragma: no cover - the parser makes no other selections
            continue
        fields += inner.fields
        aliases += inner.aliases
        directives += inner.directives
        depth = max(depth, inner.depth)
    return Size(fields, depth, aliases, directives)


def spread_names(selection_set: SelectionSetNode) -> Iterable[str]:
    """The names of the fragments spread anywhere in ``selection_set``."""
    for selection in selection_set.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            yield from spread_names(selection.selection_set)


def spread_order(
    fragments: dict[str, FragmentDefinitionNode], spreads: dict[str, set[str]]
) -> list[str]:
    """The fragments, each after every fragment it spreads (iteratively: a chain of
    fragments may be longer than Python's recursion limit). A cycle is refused."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False while on the path, True when done
    for root in fragments:
        if root in state:
            continue
        state[root] = False
        path: list[tuple[str, Any]] = [(root, iter(sorted(spreads[root])))]
        while path:
            name, pending = path[-1]
            for spread in pending:
                if spread not in fragments:
                    continue  # unknown: a validation error
                seen = state.get(spread)
                if seen is None:
                    state[spread] = False
                    path.append((spread, iter(sorted(spreads[spread]))))
                    break
                if seen is False:
                    names = [entry[0] for entry in path]
                    via = names[names.index(spread) + 1 :]
                    raise GraphQLError(
                        f"Cannot spread fragment '{spread}' within itself"
                        + (f" via {', '.join(repr(n) for n in via)}." if via else ".")
                    )
            else:
                path.pop()
                state[name] = True
                order.append(name)
    return order


def unused(
    fragments: dict[str, FragmentDefinitionNode],
    spreads: dict[str, set[str]],
    operations: Sequence[OperationDefinitionNode],
) -> None:
    """Refuse a fragment no operation spreads (the specification's rule, checked early:
    the measures below count only what the operations use)."""
    reached: set[str] = set()
    todo = [name for op in operations for name in spread_names(op.selection_set)]
    while todo:
        name = todo.pop()
        if name in reached or name not in fragments:
            continue
        reached.add(name)
        todo.extend(spreads[name])
    for name in fragments:
        if name not in reached:
            raise GraphQLError(f"Fragment '{name}' is never used.", fragments[name])


def duplicate_fields(
    selection_set: SelectionSetNode, fragments: dict[str, FragmentDefinitionNode]
) -> int:
    """Fields merged into one response field with another, counted over the operation's
    response as execution merges it (a fragment spread twice at one place counts once).

    Visits each field of the expanded operation at most once: call it only when the
    operation's fields are within their limit, and on documents without fragment cycles.
    """
    duplicates = 0
    merged: list[list[SelectionSetNode]] = [[selection_set]]
    while merged:
        todo = merged.pop()
        counts: dict[str, int] = {}
        children: dict[str, list[SelectionSetNode]] = {}
        spread: set[str] = set()
        while todo:
            for selection in todo.pop().selections:
                if isinstance(selection, FieldNode):
                    key = (selection.alias or selection.name).value
                    counts[key] = counts.get(key, 0) + 1
                    if selection.selection_set is not None:
                        children.setdefault(key, []).append(selection.selection_set)
                elif isinstance(selection, InlineFragmentNode):
                    todo.append(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in fragments and name not in spread:
                        spread.add(name)
                        todo.append(fragments[name].selection_set)
        duplicates += sum(count - 1 for count in counts.values())
        merged.extend(children.values())
    return duplicates
