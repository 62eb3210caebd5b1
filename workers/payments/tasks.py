"""Celery tasks of the payments domain: thin wrappers over the service."""
from contracts import ChargePayment, PaymentCaptured, PaymentRefunded, RefundPayment, SeatsReserved
from contracts.statuses import StepName
from workers.celery_app import app
from workers import runtime
from workers.payments import service
from workers.payments.errors import ChargeInFlight, PaymentProcessingError, PaymentUnavailable
from workers.steps import ContractTask, utcnow


@app.task(base=ContractTask, bind=True, name="payments.charge",
          contracts=(SeatsReserved, ChargePayment), step_name=StepName.CHARGE)
def charge(self, reserved, cmd):
    try:
        captured = service.charge(saga_id=cmd["saga_id"], payment_token=cmd["payment_token"],
                                  amount_cents=reserved["amount_cents"],
                                  currency=reserved["currency"])
    except PaymentProcessingError as exc:
        # Retried (with backoff) only while the retry budget lasts, counted from the
        # reservation: the seats are held all that time, so they go back sooner.
        budget = runtime.settings().charge_retry_budget_seconds
        spent = (utcnow() - reserved["step"]["finished_at"]).total_seconds()
        if spent >= budget:
            raise PaymentUnavailable(f"the processor kept failing for {spent:.0f}s "
                                     f"(retry budget {budget:g}s): {exc}") from exc
        raise
    return PaymentCaptured.build(**captured, step=self.timing())


@app.task(base=ContractTask, bind=True, name="payments.refund",
          contracts=(RefundPayment,), step_name=StepName.REFUND)
def refund(self, cmd):
    try:
        refunded = service.refund(saga_id=cmd["saga_id"])
    except ChargeInFlight as exc:
        # While the charge's claim is within its lease, its claimer is at work (or its
        # message is taken over once the lease is up): waiting for it spends none of the
        # step's retries. A claim older than that waits within the budget.
        lease = runtime.settings().payment_claim_lease_seconds
        if exc.claimed_at is not None and (utcnow() - exc.claimed_at).total_seconds() < lease:
            raise self.retry(exc=exc, max_retries=self.request.retries + 1) from exc
        raise
    return PaymentRefunded.build(**refunded, step=self.timing())

