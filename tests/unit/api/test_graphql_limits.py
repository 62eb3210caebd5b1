"""The GraphQL limits refuse hostile documents with GraphQL errors before any resolver runs;
refusals carry the code the REST API would answer, and anything unexpected is masked."""
import uuid

import pytest
from flask_smorest import abort
from graphql import get_introspection_query
from marshmallow import ValidationError

from api.auth import OPEN_ENDPOINTS
from api.graphql import GRAPHIQL_ENDPOINT
from api.graphql.context import Context
from api.graphql.errors import public, translate
from api.graphql.limits import MAX_ALIASES, MAX_DEPTH, MAX_QUERY_CHARS, MAX_TOKENS
from api.graphql.schema import schema
from workers.orchestration.errors import IdempotencyConflict

ANYONE = Context(request=None, response=None)
A_USER = Context(request=None, response=None, user_id=uuid.uuid4(), role="buyer")
NO_SUCH_EVENT = "00000000-0000-0000-0000-000000000000"


def run(query, context=ANYONE):
    result = schema.execute_sync(query, context_value=context)
    return result.data, [(e.message, e.extensions) for e in result.errors or []]


def nested(depth: int) -> str:
    """A selection ``depth`` fields deep under the real ``events { items { tiers`` path."""
    inner = "x"
    for i in range(depth - 4):
        inner = f"f{i} {{ {inner} }}"
    return f"{{ events {{ items {{ tiers {{ {inner} }} }} }} }}"


def test_a_query_nested_beyond_the_depth_limit_is_refused():
    data, errors = run(nested(MAX_DEPTH + 2))

    assert data is None
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in errors[0][0]
    assert errors[0][1]["code"] == 400


def test_a_query_within_the_depth_limit_passes_the_depth_check():
    _, errors = run(nested(MAX_DEPTH))

    assert not any("depth" in message for message, _ in errors)


def test_more_aliases_than_allowed_are_refused():
    aliased = " ".join(f'a{i}: event(id: "{NO_SUCH_EVENT}") {{ id }}'
                       for i in range(MAX_ALIASES + 1))

    data, errors = run(f"{{ {aliased} }}")

    assert data is None
    assert errors[0][0] == f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}"


def test_a_document_longer_than_the_size_limit_is_refused_before_parsing():
    padding = " " * MAX_QUERY_CHARS

    data, errors = run(f"{{ events {{ nextCursor }} }}{padding}")

    assert data is None
    assert f"more than {MAX_QUERY_CHARS}" in errors[0][0]


def test_a_document_with_too_many_tokens_is_refused():
    fields = " ".join(["a"] * (MAX_TOKENS + 1))  # short enough to pass the size limit

    data, errors = run(f"{{ events {{ {fields} }} }}")

    assert data is None
    assert "tokens" in errors[0][0]


def test_deep_introspection_is_refused():
    data, errors = run("{ __schema { types { fields { type { fields { type { fields {"
                       " type { name } } } } } } } } }")

    assert data is None
    assert errors[0][0] == "Maximum introspection depth exceeded"


def test_the_full_introspection_query_of_graphiql_is_allowed():
    data, errors = run(get_introspection_query(
        descriptions=True, specified_by_url=True, directive_is_repeatable=True,
        schema_description=True, input_value_deprecation=True))

    assert errors == []
    assert data["__schema"]["queryType"]["name"] == "Query"


@pytest.mark.parametrize("limit", [0, 201])
def test_a_list_limit_outside_1_to_200_is_refused(limit):
    _, public_errors = run(f"{{ events(limit: {limit}) {{ nextCursor }} }}")
    _, private_errors = run(f"{{ myTickets(limit: {limit}) {{ nextCursor }} }}", A_USER)

    assert len(public_errors) == 1 and len(private_errors) == 1, (public_errors, private_errors)
    for message, extensions in public_errors + private_errors:
        assert message.startswith("invalid arguments: limit:")
        assert extensions["code"] == 422 and "limit" in extensions["errors"]


@pytest.mark.parametrize("query", [
    "{ myTickets { nextCursor } }",
    f'{{ saga(id: "{NO_SUCH_EVENT}") {{ id }} }}',
    f'mutation {{ startPurchase(eventId: "{NO_SUCH_EVENT}", tierId: "{NO_SUCH_EVENT}",'
    ' quantity: 1, paymentToken: "tok_visa") { sagaId } }',
])
def test_private_fields_need_a_user(query):
    data, errors = run(query)

    assert not any((data or {}).values())
    assert errors == [("authentication required",
                       {"code": 401, "status": "Unauthorized", "errors": {}})]


def test_the_graphiql_page_is_the_only_graphql_endpoint_open_without_a_key():
    assert GRAPHIQL_ENDPOINT in OPEN_ENDPOINTS
    assert not {e for e in OPEN_ENDPOINTS if e.startswith("graphql.")} - {GRAPHIQL_ENDPOINT}


def test_validation_errors_name_the_graphql_arguments():
    error = translate(ValidationError({"payment_token": ["Missing data."]}))

    assert error.message == "invalid arguments: paymentToken: Missing data."
    assert error.extensions == {"code": 422, "status": "Unprocessable Entity",
                                "errors": {"paymentToken": ["Missing data."]}}


def test_aborts_keep_their_status_and_message():
    with pytest.raises(Exception) as raised:
        abort(422, message="no such ticket tier on sale for this event",
              errors={"json": {"tier_id": ["no such ticket tier on sale for this event"]}})

    error = translate(raised.value)

    assert error.message == "no such ticket tier on sale for this event"
    assert error.extensions["code"] == 422
    assert error.extensions["errors"] == {"tierId": ["no such ticket tier on sale for this event"]}


def test_domain_refusals_get_their_rest_status():
    assert translate(IdempotencyConflict()).extensions["code"] == 422


def test_unexpected_errors_are_masked():
    from graphql import GraphQLError

    leaked = GraphQLError("connection to 10.0.0.5 refused",
                          original_error=RuntimeError("connection to 10.0.0.5 refused"))

    shown = public(leaked)

    assert shown.message == "unexpected error"
    assert shown.extensions["code"] == 500
