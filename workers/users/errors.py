"""Refusals of the users domain."""
from workers.steps import DomainError


class EmailTaken(DomainError):
    pass


class InvalidCredentials(DomainError):
    pass


class UserNotFound(DomainError):
    pass


class ApiKeyNameTaken(DomainError):
    pass


class ApiKeyNotFound(DomainError):
    pass


class WrongPassword(DomainError):
    """The current password given to change it is not the account's."""
