"""GraphQL errors that say what went wrong and never how the server is built.

A domain error (registry.errors) keeps its message and gains `extensions.code` (the same code
REST's error body carries) and the HTTP status REST would answer; any other exception becomes
"internal server error" with code `internal_error`, its traceback in the log only. Parse and
validation errors (the limits included) are the client's own and pass as they are.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql.error import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionContext
from strawberry.types.execution import ExecutionResult as StrawberryExecutionResult

from registry.errors import RegistryError

from ..errors import status_for

log = logging.getLogger("api.graphql")
INTERNAL = "internal server error"


def shaped(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return error
    if isinstance(original, RegistryError):
        extensions: dict[str, Any] = {"code": original.code, "status": status_for(original)}
        extensions |= {k: v for k, v in original.details.items() if isinstance(v, (str, int, float, bool, list))}
        return GraphQLError(original.message, nodes=error.nodes, source=error.source, positions=error.positions,
                            path=error.path, extensions=extensions)
    return GraphQLError(INTERNAL, nodes=error.nodes, source=error.source, positions=error.positions,
                        path=error.path, extensions={"code": "internal_error", "status": 500})


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
    """Only what the server did wrong is logged, with its traceback; a refusal is an answer."""
    for error in errors:
        original = error.original_error
        if original is not None and not isinstance(original, (RegistryError, GraphQLError)):
            log.error("graphql: unexpected error at %s", error.path, exc_info=original)


class ShapeErrors(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        yield
        ec = self.execution_context
        result = ec.result
        if isinstance(result, (GraphQLExecutionResult, StrawberryExecutionResult)) and result.errors:
            result.errors[:] = [shaped(e) for e in result.errors]
        if ec.pre_execution_errors:  # parse and validation: the list the answer carries, changed in place
            ec.pre_execution_errors[:] = [shaped(e) for e in ec.pre_execution_errors]
