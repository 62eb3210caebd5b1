"""Celery tasks of the tickets domain: thin wrappers over the service."""
from contracts import (
    ConfirmSeats, HoldExpired, PaymentCaptured, PaymentRefunded, ReleaseSeats, ReserveSeats, SeatsConfirmed,
    SeatsReleased, SeatsReserved,
)
from contracts.statuses import StepName
from workers.celery_app import app
from workers.steps import ContractTask
from workers.tickets import holds, service


@app.task(base=ContractTask, bind=True, name="tickets.reserve_seats",
          contracts=(ReserveSeats,), step_name=StepName.RESERVE)
def reserve_seats(self, cmd):
    held = service.reserve_seats(saga_id=cmd["saga_id"], user_id=cmd["user_id"],
                                 event_id=cmd["event_id"], tier_id=cmd["tier_id"],
                                 quantity=cmd["quantity"])
    return SeatsReserved.build(**held, step=self.timing())


@app.task(base=ContractTask, bind=True, name="tickets.confirm_seats",
          contracts=(PaymentCaptured, ConfirmSeats), step_name=StepName.CONFIRM)
def confirm_seats(self, _captured, cmd):
    confirmed = service.confirm_seats(saga_id=cmd["saga_id"])
    return SeatsConfirmed.build(**confirmed, step=self.timing())


@app.task(base=ContractTask, bind=True, name="tickets.release_seats",
          contracts=(PaymentRefunded, ReleaseSeats), step_name=StepName.RELEASE)
def release_seats(self, _refunded, cmd):
    released = service.release_seats(saga_id=cmd["saga_id"], user_id=cmd["user_id"],
                                     tier_id=cmd["tier_id"])
    return SeatsReleased.build(**released, step=self.timing())


@app.task(name="tickets.expire_holds", acks_late=True, ignore_result=True)
def expire_holds():
    """Give overdue holds' seats back and tell their sagas (run by beat)."""
    return holds.sweep(lambda saga_id: app.send_task(
        "orchestration.hold_expired", args=(HoldExpired.build(saga_id=saga_id),)))
