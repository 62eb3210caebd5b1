"""How much one GraphQL request may ask of the gateway.

Each limit refuses a hostile request before it costs much, with a GraphQL error (HTTP
200 with ``errors``) rather than a failure of the gateway:

- the body: ``MAX_BODY_BYTES``, query and variables together (the view; 413 beyond it);
- the document: ``MAX_QUERY_CHARS`` characters and ``MAX_TOKENS`` tokens, checked by the
  parser before it builds anything;
- nesting: ``MAX_DEPTH`` levels of fields; introspection fields, which the depth limiter
  skips, are bounded by graphql-core's ``MaxIntrospectionDepthRule`` instead;
- breadth: ``MAX_ALIASES`` aliases, the only way to ask for one list field twice;
- lists: every ``limit`` argument is 1-200, checked by the REST API's ``PageArgs``;
- batching (several operations in one request) stays off, strawberry's default;
- a document of several operations needs ``operationName`` (the GraphQL spec's rule;
  strawberry would run the first).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from graphql import GraphQLError, OperationDefinitionNode
from graphql.validation import MaxIntrospectionDepthRule
from strawberry.extensions import (AddValidationRules, MaxAliasesLimiter, MaxTokensLimiter,
                                   QueryDepthLimiter, SchemaExtension)

MAX_BODY_BYTES = 64 * 1024
MAX_QUERY_CHARS = 10_000
MAX_TOKENS = 2_000
MAX_DEPTH = 8
MAX_ALIASES = 10


class MaxQueryLength(SchemaExtension):
    """Refuse documents longer than ``MAX_QUERY_CHARS`` before lexing them."""

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_source_length"] = MAX_QUERY_CHARS
        yield


class OperationNameRequired(SchemaExtension):
    """Refuse a document of several operations that does not say which one to run."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        operations = [d for d in context.graphql_document.definitions
                      if isinstance(d, OperationDefinitionNode)]
        if len(operations) > 1 and not context._provided_operation_name:
            context.pre_execution_errors = [GraphQLError(
                "Must provide operationName: the document holds several operations")]
        yield


#: factories, so every operation gets its own extension instances
LIMITS: tuple[Callable[[], SchemaExtension], ...] = (
    MaxQueryLength,
    OperationNameRequired,
    partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
    partial(QueryDepthLimiter, max_depth=MAX_DEPTH),
    partial(MaxAliasesLimiter, max_alias_count=MAX_ALIASES),
    partial(AddValidationRules, [MaxIntrospectionDepthRule]),
)
