"""Celery tasks of the payments domain: thin wrappers over the service."""
from contracts import ChargePayment, PaymentCaptured, PaymentRefunded, RefundPayment, SeatsReserved
from workers.celery_app import app
from workers.payments import service
from workers.steps import ContractTask


@app.task(base=ContractTask, bind=True, name="payments.charge",
          contracts=(SeatsReserved, ChargePayment), step_name="charge")
def charge(self, reserved, cmd):
    captured = service.charge(saga_id=cmd["saga_id"], payment_token=cmd["payment_token"],
                              amount_cents=reserved["amount_cents"],
                              currency=reserved["currency"])
    return PaymentCaptured.build(**captured, step=self.timing())


@app.task(base=ContractTask, bind=True, name="payments.refund",
          contracts=(RefundPayment,), step_name="refund")
def refund(self, cmd):
    refunded = service.refund(saga_id=cmd["saga_id"])
    return PaymentRefunded.build(**refunded, step=self.timing())

