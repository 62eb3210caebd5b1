"""What a buyer is told when a purchase ends, from its SagaCompleted event."""
import uuid

from workers.users.notifications import compose


def event(status, reason=None, tickets=0, amount_cents=None, currency=None):
    return {"saga_id": uuid.uuid4(), "user_id": uuid.uuid4(), "status": status,
            "reason": reason, "amount_cents": amount_cents, "currency": currency,
            "ticket_ids": [uuid.uuid4() for _ in range(tickets)]}


def test_a_confirmed_purchase_is_your_tickets_with_count_and_price():
    subject, body = compose(event("confirmed", tickets=2, amount_cents=4550, currency="EUR"))

    assert subject == "Your tickets"
    assert "2 ticket(s) for 45.50 EUR" in body


def test_a_canceled_purchase_names_its_reason_in_the_subject_and_explains_it():
    subject, body = compose(event("canceled", "buyer_canceled", amount_cents=1000, currency="EUR"))

    assert subject == "Your purchase was canceled: buyer_canceled"
    assert "because you canceled it" in body and "refunded" in body


def test_an_unknown_reason_is_shown_as_it_is():
    subject, body = compose(event("canceled", "something_new"))

    assert subject.endswith(": something_new") and "because something_new" in body


def test_a_failed_purchase_says_staff_are_on_it_without_claiming_a_cancel():
    subject, body = compose(event("failed", "payment_declined"))

    assert subject == "Your purchase could not be completed"
    assert "canceled" not in body and "looking into it" in body
