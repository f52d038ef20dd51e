"""Limits checked while a document is validated, before any resolver (or query) runs:
depth, an estimated cost, and introspection when switched off."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)

# What one item of a list is assumed to cost times, when no `limit` says how many come back.
LIST_SIZE = 10
MAX_LIMIT = 100


def _multiplier(node: FieldNode, field: GraphQLField, variables: dict[str, Any]) -> int:
    """How many items a paged field's `limit` asks for (its default when not given)."""
    for argument in node.arguments or ():
        if argument.name.value == "limit":
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                sent = variables.get(value.name.value)
                return sent if isinstance(sent, int) else MAX_LIMIT
    default = field.args["limit"].default_value
    return default if isinstance(default, int) else LIST_SIZE


class _Cost:
    """Each field costs 1; a list's selection is paid once per item it may return: `limit`
    times for a paged field, LIST_SIZE times for a nested list."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def of(
        self, selections: SelectionSetNode | None, parent: Any, seen: frozenset[str], paged: bool
    ) -> int:
        if selections is None or not isinstance(parent, GraphQLObjectType):
            return 0
        total = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                field = parent.fields.get(node.name.value)
                if field is None or node.name.value.startswith("__"):
                    continue
                kind = field.type.of_type if isinstance(field.type, GraphQLNonNull) else field.type
                pages = "limit" in field.args
                if pages:
                    times = _multiplier(node, field, self.variables)
                else:
                    # A page's own list is already paid for by its `limit`.
                    times = LIST_SIZE if isinstance(kind, GraphQLList) and not paged else 1
                child = self.of(node.selection_set, get_named_type(kind), seen, pages)
                total += 1 + times * child
            elif isinstance(node, InlineFragmentNode):
                target: Any = parent
                if node.type_condition is not None:
                    target = self.schema.get_type(node.type_condition.name.value)
                total += self.of(node.selection_set, target, seen, paged)
            elif isinstance(node, FragmentSpreadNode) and node.name.value not in seen:
                fragment = self.fragments.get(node.name.value)
                if fragment is not None:
                    target = self.schema.get_type(fragment.type_condition.name.value)
                    inner = seen | {node.name.value}
                    total += self.of(fragment.selection_set, target, inner, paged)
        return total


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> int:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name and o.name.value == operation_name)
    ]
    if not chosen:
        return 0
    operation = chosen[0]
    root = schema.get_root_type(operation.operation)
    return _Cost(schema, document, variables or {}).of(
        operation.selection_set, root, frozenset(), False
    )


class QueryCostLimiter(SchemaExtension):
    """Refuses an operation whose estimated cost is too high, after validation (when the
    variables are known) and before any resolver runs."""

    def __init__(self, *, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None:
            cost = query_cost(
                context.schema._schema,
                context.graphql_document,
                context.operation_name,
                context.variables,
            )
            if cost > self.max_cost:
                message = (
                    f"Query cost {cost} exceeds the maximum of {self.max_cost}: ask for fewer "
                    "items (a smaller limit) or fewer nested fields"
                )
                context.result = ExecutionResult(data=None, errors=[GraphQLError(message)])
        yield


def limit_extensions(*, max_depth: int, max_cost: int, introspection: bool) -> list[Any]:
    """Extension instances for the Schema (strawberry accepts them as well as classes).

    Clients send the same few documents over and over: the parsed document and its validation
    (the depth limit and the introspection rule included) are remembered per query text, in
    bounded caches; the cost, which depends on the variables, is worked out every time."""
    extensions: list[Any] = [
        ParserCache(maxsize=CACHED_DOCUMENTS),
        QueryDepthLimiter(max_depth=max_depth),
        QueryCostLimiter(max_cost=max_cost),
    ]
    if not introspection:
        extensions.append(AddValidationRules([NoSchemaIntrospectionCustomRule]))
    # After the extensions that add validation rules (they add them as the operation starts).
    extensions.append(ValidationCache(maxsize=CACHED_DOCUMENTS))
    return extensions


CACHED_DOCUMENTS = 256
