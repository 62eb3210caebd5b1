"""Every message contract builds, parses, and refuses what it does not understand."""
import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from marshmallow import ValidationError

import contracts
from contracts import ALL, REGISTRY, Contract

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
SAGA = str(uuid.uuid4())


def _timing(name):
    return {"name": name, "started_at": NOW.isoformat(),
            "finished_at": (NOW + timedelta(seconds=1)).isoformat(), "attempts": 1}


#: a valid payload (everything but ``contract`` and ``v``) of every contract, by name
PAYLOADS = {
    "ReserveSeats": {"saga_id": SAGA, "user_id": str(uuid.uuid4()), "event_id": str(uuid.uuid4()),
                     "tier_id": str(uuid.uuid4()), "quantity": 2},
    "SeatsReserved": {"saga_id": SAGA, "hold_id": str(uuid.uuid4()), "quantity": 2,
                      "amount_cents": 5000, "currency": "EUR",
                      "expires_at": (NOW + timedelta(minutes=10)).isoformat(),
                      "step": _timing("reserve")},
    "ConfirmSeats": {"saga_id": SAGA},
    "SeatsConfirmed": {"saga_id": SAGA, "ticket_ids": [str(uuid.uuid4()), str(uuid.uuid4())],
                       "step": _timing("confirm")},
    "ReleaseSeats": {"saga_id": SAGA, "user_id": str(uuid.uuid4()), "tier_id": str(uuid.uuid4())},
    "SeatsReleased": {"saga_id": SAGA, "released": 2, "step": _timing("release")},
    "ChargePayment": {"saga_id": SAGA, "payment_token": "tok_visa"},
    "PaymentCaptured": {"saga_id": SAGA, "payment_id": str(uuid.uuid4()), "amount_cents": 5000,
                        "currency": "EUR", "step": _timing("charge")},
    "RefundPayment": {"saga_id": SAGA},
    "PaymentRefunded": {"saga_id": SAGA, "refunded_cents": 5000, "step": _timing("refund")},
    "StepFailed": {"saga_id": SAGA, "step": "charge", "error_type": "PaymentDeclined",
                   "message": "card_declined", "attempts": 1, "failed_at": NOW.isoformat()},
    "AnonymiseUser": {"user_id": str(uuid.uuid4())},
    "TicketUsed": {"ticket_id": str(uuid.uuid4()), "event_id": str(uuid.uuid4()),
                   "used_at": NOW.isoformat(), "used_by": str(uuid.uuid4())},
    "HoldExpired": {"saga_id": SAGA},
    "CancelEventSagas": {"event_id": str(uuid.uuid4()), "after": None},
    "SagaCompleted": {"saga_id": SAGA, "user_id": str(uuid.uuid4()), "status": "confirmed",
                      "reason": None, "amount_cents": 5000, "currency": "EUR",
                      "ticket_ids": [str(uuid.uuid4())], "completed_at": NOW.isoformat()},
}
PAYLOADS["SagaCompletedBatch"] = {"events": [
    {"contract": "SagaCompleted", "v": 1, **PAYLOADS["SagaCompleted"]}]}

CONTRACTS = pytest.mark.parametrize("contract", ALL, ids=lambda c: c.name)


def _message(schema, /, **changes):
    message = {"contract": schema.name, "v": schema.version, **PAYLOADS[schema.name]}
    message.update(changes)
    return message


def test_every_contract_has_a_sample_payload_in_this_file():
    assert set(PAYLOADS) == set(REGISTRY)


def test_contract_names_are_unique_so_the_registry_shadows_none():
    assert len(REGISTRY) == len(ALL)
    assert all(REGISTRY[c.name] is c for c in ALL)


def test_every_contract_is_exported_by_the_package():
    for contract in ALL:
        assert getattr(contracts, contract.__name__) is contract
        assert issubclass(contract, Contract)


@CONTRACTS
def test_build_returns_a_json_ready_message_naming_its_contract_and_version(contract):
    message = contract.build(**PAYLOADS[contract.name])

    assert message["contract"] == contract.name
    assert message["v"] == contract.version
    assert json.loads(json.dumps(message)) == message


@CONTRACTS
def test_a_built_message_parses_back_with_the_same_fields(contract):
    built = contract.build(**PAYLOADS[contract.name])

    parsed = contract.parse(built)

    assert set(parsed) == set(built)
    assert contract.build(**{k: v for k, v in built.items() if k not in ("contract", "v")}) == built


@CONTRACTS
def test_parse_turns_ids_into_uuids(contract):
    parsed, payload = contract.parse(_message(contract)), PAYLOADS[contract.name]
    if "events" in parsed:  # a batch: the ids of each event it holds
        parsed, payload = parsed["events"][0], payload["events"][0]

    id_field = next(f for f in ("saga_id", "user_id", "ticket_id", "event_id") if f in parsed)
    assert isinstance(parsed[id_field], uuid.UUID)
    assert str(parsed[id_field]) == payload[id_field]


@CONTRACTS
def test_parse_rejects_a_message_of_another_contract_name(contract):
    other = next(c for c in ALL if c is not contract)

    with pytest.raises(ValidationError) as err:
        contract.parse(_message(contract, contract=other.name))

    assert "contract" in err.value.messages


@CONTRACTS
def test_parse_rejects_an_unsupported_version(contract):
    with pytest.raises(ValidationError) as err:
        contract.parse(_message(contract, v=contract.version + 1))

    assert "v" in err.value.messages
    assert "not supported" in str(err.value.messages["v"])


@CONTRACTS
def test_parse_rejects_a_message_missing_any_required_field(contract):
    required = [name for name, field in contract().fields.items() if field.required]
    assert {"contract", "v"} <= set(required)

    for name in required:
        message = _message(contract)
        del message[name]
        with pytest.raises(ValidationError) as err:
            contract.parse(message)
        assert name in err.value.messages, name


@CONTRACTS
def test_parse_rejects_an_unknown_field(contract):
    with pytest.raises(ValidationError) as err:
        contract.parse(_message(contract, smuggled="x"))

    assert "smuggled" in err.value.messages


@CONTRACTS
def test_build_refuses_an_invalid_payload(contract):
    with pytest.raises(ValidationError):
        contract.build(**PAYLOADS[contract.name], smuggled="x")


@CONTRACTS
@pytest.mark.parametrize("not_a_dict", [None, "ConfirmSeats", 42, [], [("contract", "x")]],
                         ids=["None", "str", "int", "empty-list", "list-of-pairs"])
def test_parse_rejects_a_message_that_is_not_an_object(contract, not_a_dict):
    with pytest.raises(ValidationError) as err:
        contract.parse(not_a_dict)

    assert "must be an object" in str(err.value)


def test_step_timing_inside_an_event_must_be_timezone_aware():
    step = dict(_timing("confirm"), started_at="2026-11-25T12:00:00")

    with pytest.raises(ValidationError) as err:
        contracts.SeatsConfirmed.parse(_message(contracts.SeatsConfirmed, step=step))

    assert "started_at" in err.value.messages["step"]


def test_step_failed_accepts_only_the_saga_steps():
    with pytest.raises(ValidationError) as err:
        contracts.StepFailed.parse(_message(contracts.StepFailed, step="teleport"))

    assert "step" in err.value.messages


@pytest.mark.parametrize("quantity", [0, 101])
def test_reserve_seats_refuses_a_quantity_outside_1_to_100(quantity):
    with pytest.raises(ValidationError) as err:
        contracts.ReserveSeats.parse(_message(contracts.ReserveSeats, quantity=quantity))

    assert "quantity" in err.value.messages


def test_charge_payment_refuses_an_empty_token():
    with pytest.raises(ValidationError) as err:
        contracts.ChargePayment.parse(_message(contracts.ChargePayment, payment_token=""))

    assert "payment_token" in err.value.messages


def test_a_batch_of_saga_completed_refuses_an_event_that_is_not_one():
    event = dict(PAYLOADS["SagaCompletedBatch"]["events"][0], status="pending")

    with pytest.raises(ValidationError) as err:
        contracts.SagaCompletedBatch.parse(_message(contracts.SagaCompletedBatch,
                                                    events=[event]))

    assert "status" in err.value.messages["events"][0]
