"""What a query may ask for, decided before anything of it runs.

- size: at most MAX_QUERY_CHARS characters (the transports refuse more before parsing) and
  MAX_TOKENS tokens (graphql-core stops lexing there);
- shape: depth at most MAX_DEPTH, at most MAX_ALIASES aliases, and inside introspection at most
  MAX_INTROSPECTION_LISTS nested lists (`types { fields { type { fields ...` grows the answer
  tenfold per level). Computed here, walking each fragment once: Strawberry's own depth and
  alias limiters expand fragments on every spread, and forty fragments that each spread the
  next twice took them seconds to minutes;
- cost: every field that returns an object counts 1, or its WEIGHTS entry where reading it costs
  a walk of the repository; a connection multiplies what is under it by `first` (default 20,
  at most 100) and any other list by LIST_GUESS. At most `REGISTRY_GRAPHQL_MAX_COST` per query,
  and a query's cost is drawn from its caller's budget per minute (per token, or per client IP
  without one) in the rate limiter's store, so it holds across processes and nodes.

The answer's `extensions.cost` says what the query cost, the limit, and what is left of the
budget. A refusal is a validation error with a reason and `extensions.code`.
"""
from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
    is_composite_type,
    value_from_ast_untyped,
)
from limits import RateLimitItemPerMinute, strategies
from strawberry.extensions import MaxTokensLimiter, SchemaExtension

from .paging import DEFAULT_FIRST, MAX_FIRST

log = logging.getLogger("api.graphql")
MAX_QUERY_CHARS = 20_000
MAX_TOKENS = 2_000  # the full introspection query is 183; a hand-written query rarely passes 500
MAX_DEPTH = 15  # graphql-js' introspection query is 13 deep; data queries need far less
MAX_ALIASES = 100
MAX_INTROSPECTION_LISTS = 3  # types { fields { args } }: the standard introspection query's deepest
LIST_GUESS = 10  # a list that takes no `first` (checks, reviews, files) counts as this many
INTROSPECTION_LISTS = {"types", "fields", "args", "inputFields", "interfaces", "possibleTypes", "enumValues",
                       "directives"}
# Fields whose resolution walks the repository or diffs trees: they cost more than a row.
WEIGHTS = {"Template.readme": 5, "Template.commits": 5, "Template.versions": 5, "Template.contents": 3,
           "Template.resolvedManifest": 5, "PullRequest.files": 10, "PullRequest.commits": 5,
           "PullRequest.mergeability": 10, "Query.search": 5}


class Refused(GraphQLError):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


class _Costing:
    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode],
                 variables: dict[str, Any]) -> None:
        self.schema, self.fragments, self.variables = schema, fragments, variables
        self.memo: dict[tuple[str, str, int], tuple[int, int]] = {}

    def selection(self, node: SelectionSetNode | None, parent: Any, lists: int,
                  seen: frozenset[str]) -> tuple[int, int]:
        """(cost at multiplier 1, depth) of a selection set: cost is linear in the multiplier."""
        if node is None:
            return 0, 0
        total, depth = 0, 0
        for sel in node.selections:
            if isinstance(sel, FieldNode):
                cost, deep = self.field(sel, parent, lists, seen)
            elif isinstance(sel, InlineFragmentNode):
                kind = self.schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                cost, deep = self.selection(sel.selection_set, kind or parent, lists, seen)
            elif isinstance(sel, FragmentSpreadNode):
                cost, deep = self.spread(sel.name.value, lists, seen)
            else:
                continue
            total, depth = total + cost, max(depth, deep)
        return total, depth

    def spread(self, name: str, lists: int, seen: frozenset[str]) -> tuple[int, int]:
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:  # unknown or cyclic: graphql-core's own rules refuse it
            return 0, 0
        kind = self.schema.get_type(fragment.type_condition.name.value)
        key = (name, getattr(kind, "name", ""), lists)
        if key not in self.memo:  # a fragment spread a thousand times is walked once
            self.memo[key] = self.selection(fragment.selection_set, kind, lists, seen | {name})
        return self.memo[key]

    def field(self, node: FieldNode, parent: Any, lists: int, seen: frozenset[str]) -> tuple[int, int]:
        name = node.name.value
        if name.startswith("__"):
            if name == "__typename":
                return 0, 1
            return 0, 1 + self.introspection(node, lists, seen)
        definition = parent.fields.get(name) if hasattr(parent, "fields") else None
        if definition is None:
            return 0, 1  # graphql-core names the unknown field
        named = get_named_type(definition.type)
        if not is_composite_type(named):
            return 0, 1
        cost, depth = self.selection(node.selection_set, named, lists, seen)
        if parent.name.endswith(("Connection", "Edge", "SearchResults")):  # a page's parts: its field paid
            return cost, 1 + depth
        weight = WEIGHTS.get(f"{parent.name}.{name}", 1)
        size = 1
        if "first" in definition.args:
            size = self.first(node)
        elif _is_list(definition.type):
            size = LIST_GUESS
        return weight + size * cost, 1 + depth

    def introspection(self, node: FieldNode, lists: int, seen: frozenset[str]) -> int:
        """Introspection is free but for its nesting (`lists` counts its nested list fields);
        its depth below `node`."""
        def walk(sel_set: SelectionSetNode | None, nests: int, path: frozenset[str]) -> int:
            deepest = 0
            for sel in sel_set.selections if sel_set else ():
                if isinstance(sel, FieldNode):
                    deeper = nests + (sel.name.value in INTROSPECTION_LISTS)
                    if deeper > MAX_INTROSPECTION_LISTS:
                        raise Refused(f"introspection nests more than {MAX_INTROSPECTION_LISTS} lists "
                                      f"(at {sel.name.value})", "introspection_too_deep")
                    deepest = max(deepest, 1 + walk(sel.selection_set, deeper, path))
                elif isinstance(sel, InlineFragmentNode):
                    deepest = max(deepest, walk(sel.selection_set, nests, path))
                elif isinstance(sel, FragmentSpreadNode) and sel.name.value not in path:
                    key = (sel.name.value, "__introspection", nests)
                    if key not in self.memo and (fragment := self.fragments.get(sel.name.value)):
                        self.memo[key] = (0, walk(fragment.selection_set, nests, path | {sel.name.value}))
                    deepest = max(deepest, self.memo.get(key, (0, 0))[1])
            return deepest
        return walk(node.selection_set, lists + (node.name.value in INTROSPECTION_LISTS), seen)

    def first(self, node: FieldNode) -> int:
        for arg in node.arguments or ():
            if arg.name.value != "first":
                continue
            if isinstance(arg.value, VariableNode):
                value = self.variables.get(arg.value.name.value)
            else:
                value = value_from_ast_untyped(arg.value, self.variables)
            if value is None:
                return DEFAULT_FIRST
            if not isinstance(value, int) or not 0 <= value <= MAX_FIRST:
                raise Refused(f"first must be from 0 to {MAX_FIRST} (at {node.name.value})", "invalid_first")
            return value
        return DEFAULT_FIRST


def _aliases(document: Any) -> Iterator[FieldNode]:
    """Aliased fields as written (fragments counted once: spreading them costs, see _Costing)."""
    stack = list(document.definitions)
    while stack:
        node = stack.pop()
        if isinstance(node, FieldNode) and node.alias is not None:
            yield node
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            stack.extend(selection_set.selections)


def _is_list(kind: Any) -> bool:
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def query_cost(context: ValidationContext, variables: dict[str, Any], operation_name: str | None) -> tuple[int, int]:
    """(cost, depth) of the operation that would run; fragments are walked once each, however
    often they are spread (a fragment spreading the next twice, forty deep, is 2^40 paths)."""
    document = context.document
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [o for o in operations if operation_name is None or (o.name and o.name.value == operation_name)]
    if not chosen:
        return 0, 0  # graphql-core says which operation is missing
    op = chosen[0]
    root = context.schema.get_root_type(op.operation)
    return _Costing(context.schema, fragments, variables).selection(op.selection_set, root, 0, frozenset())


class CostLimit(SchemaExtension):
    """Adds the cost rule to the operation's validation and reports the cost in `extensions`."""

    def __init__(self, max_cost: int, per_minute: int, per_minute_anonymous: int) -> None:
        self.max_cost, self.per_minute, self.per_minute_anonymous = max_cost, per_minute, per_minute_anonymous
        self.report: dict[str, Any] = {}

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        extension = self

        class CostRule(ValidationRule):
            def enter_document(self, *_: Any) -> None:
                aliases = sum(1 for _ in _aliases(self.context.document))
                if aliases > MAX_ALIASES:
                    self.report_error(Refused(f"the query has {aliases} aliases; at most {MAX_ALIASES}",
                                              "too_many_aliases"))
                    return
                try:
                    cost, depth = query_cost(self.context, ec.variables or {}, ec.operation_name)
                except Refused as refused:
                    self.report_error(refused)
                    return
                except Exception:  # a document no rule foresaw: refused, never half-costed
                    log.exception("graphql: costing the query failed")
                    self.report_error(Refused("the query's cost could not be computed", "invalid_query"))
                    return
                if depth > MAX_DEPTH:
                    self.report_error(Refused(f"the query is {depth} fields deep; at most {MAX_DEPTH}", "too_deep"))
                    return
                extension.report = {"requested": cost, "limit": extension.max_cost}
                if cost > extension.max_cost:
                    self.report_error(Refused(f"the query would cost {cost} points; at most {extension.max_cost} "
                                              "(ask for fewer nodes with first, or split it)", "query_too_costly"))
                    return
                extension.charge(cost)
                if extension.report.get("remaining", 1) < 0:
                    wait = extension.report["resetInSeconds"]
                    self.report_error(Refused(f"this caller's GraphQL budget is spent: try again in {wait} s",
                                              "rate_limited"))

        ec.validation_rules = (*ec.validation_rules, CostRule)
        yield

    def charge(self, cost: int) -> None:
        context = self.execution_context.context
        counters = getattr(context, "counters", None)
        bucket = getattr(context, "bucket", "")
        amount = self.per_minute_anonymous if bucket.startswith("ip:") else self.per_minute
        if counters is None or not amount or not cost:
            return
        item = RateLimitItemPerMinute(amount)
        limiter = strategies.SlidingWindowCounterRateLimiter(counters)
        key = f"graphql-cost:{bucket}"
        try:
            allowed = limiter.hit(item, key, cost=cost)
            stats = limiter.get_window_stats(item, key)
        except Exception as exc:  # the store is down: serve rather than fail, as the request limits do
            log.warning("graphql cost budget unavailable: %s", exc)
            return
        self.report |= {"budget": amount, "remaining": stats.remaining if allowed else -1,
                        "resetInSeconds": max(1, math.ceil(stats.reset_time - time.time()))}

    def get_results(self) -> dict[str, Any]:
        return {"cost": self.report} if self.report else {}


def extensions(max_cost: int, per_minute: int, per_minute_anonymous: int) -> list[Any]:
    """Factories: Strawberry makes each anew per operation (CostLimit keeps the operation's report)."""
    return [lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            lambda: CostLimit(max_cost, per_minute, per_minute_anonymous)]
