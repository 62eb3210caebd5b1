"""Refusals of the tickets domain."""
from workers.steps import DomainError


class EventNotFound(DomainError):
    pass


class TierNotFound(DomainError):
    pass


class EventNotOnSale(DomainError):
    pass


class SoldOut(DomainError):
    pass


class HoldNotFound(DomainError):
    pass


class HoldReleased(DomainError):
    """Confirm arrived for seats already given back."""


class InjectedFault(DomainError):
    """A failure injected on purpose (fault-injection builds only)."""


class NotAllowed(DomainError):
    pass


class HoldExpired(DomainError):
    """The seats' hold ran out before the purchase was confirmed."""


class OrderLimitExceeded(DomainError):
    """More seats in one order than the tier allows."""


class EventStatusConflict(DomainError):
    """A change the event's lifecycle does not allow (a canceled event is final)."""
