"""The gateway names unknown fields from webargs' messages, wherever they are nested."""
from api.parsing import unknown_fields


def test_unknown_fields_are_named_by_their_dotted_path():
    errors = {"json": {"tiers": {0: {"max_per_ordr": ["Unknown field."]},
                                 1: {"capacity": ["Not a valid integer."]}},
                       "coupon": ["Unknown field."]}}

    assert unknown_fields(errors) == ["field tiers.0.max_per_ordr", "field coupon"]


def test_unknown_query_parameters_are_named_as_such():
    assert unknown_fields({"query": {"event_id": ["Unknown field."]}}) == [
        "query parameter event_id"]


def test_other_validation_errors_name_nothing():
    assert unknown_fields({"json": {"quantity": ["Not a valid integer."]}}) == []
    assert unknown_fields({}) == []
