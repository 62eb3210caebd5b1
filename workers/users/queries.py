"""Read-only views of the users domain for callers that must answer at once: whether a
token still works, and a buyer's notifications."""
from workers.users.notifications import notifications_of  # noqa: F401
from workers.users.sessions import TokenState, token_state  # noqa: F401
