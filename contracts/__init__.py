"""Every command and event that crosses a queue, as a named, versioned marshmallow schema.

This package imports nothing else of boxoffice.
"""
from contracts.base import Contract, StepTiming
from contracts.orchestration import CancelEventSagas, SagaCompleted, SagaCompletedBatch, StepFailed
from contracts.payments import ChargePayment, PaymentCaptured, PaymentRefunded, RefundPayment
from contracts.tickets import (
    ConfirmSeats, HoldExpired, ReleaseSeats, ReserveSeats, SeatsConfirmed, SeatsReleased, SeatsReserved,
    TicketUsed,
)
from contracts.users import AnonymiseUser

ALL = (
    ReserveSeats, SeatsReserved, ConfirmSeats, SeatsConfirmed, ReleaseSeats, SeatsReleased,
    HoldExpired,
    ChargePayment, PaymentCaptured, RefundPayment, PaymentRefunded, StepFailed, AnonymiseUser,
    CancelEventSagas, SagaCompleted, SagaCompletedBatch,
    TicketUsed,
)
REGISTRY = {c.name: c for c in ALL}

__all__ = [c.__name__ for c in ALL] + ["ALL", "Contract", "REGISTRY", "StepTiming"]
