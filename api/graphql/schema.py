"""The schema, assembled: the query, mutation and subscription roots, the typed mutation errors,
the limits and the error shaping. `schemas/schema.graphql` is this schema printed
(`python -m api.graphql.print_schema > schemas/schema.graphql`; a test fails when they differ)."""
from __future__ import annotations

from typing import Any

import strawberry
from graphql.error import GraphQLError
from strawberry.types.execution import ExecutionContext

from registry.settings import Settings

from . import limits
from .errors import ShapeErrors, log_errors
from .mutation_errors import ERROR_TYPES
from .mutations import Mutation
from .queries import Query
from .subscriptions import Subscription
from .types_common import User
from .types_misc import Run
from .types_pulls import PullRequest
from .types_template import Template


class RegistrySchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        log_errors(errors, execution_context)


def build(settings: Settings | None = None) -> RegistrySchema:
    settings = settings or Settings()
    extensions: list[Any] = [ShapeErrors, *limits.extensions(settings.graphql_max_cost, settings.graphql_cost_per_minute,
                                                             settings.graphql_cost_per_minute_anonymous)]
    return RegistrySchema(query=Query, mutation=Mutation, subscription=Subscription,
                          types=[*ERROR_TYPES, Template, PullRequest, Run, User], extensions=extensions)


def sdl() -> str:
    return build().as_str() + "\n"

