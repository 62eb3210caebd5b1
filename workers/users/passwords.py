"""What a new password must be: long enough to resist guessing, short enough to hash
cheaply, and not one of the first a guesser tries.

No composition rules (they make passwords worse, not stronger): 10-128 characters, at
least 5 different ones, not a well-known password, not the account's email.
"""
from __future__ import annotations

MIN_LENGTH = 10
MAX_LENGTH = 128
MIN_DISTINCT = 5
#: the passwords (and stems) every guesser starts with
COMMON = frozenset("""
password passw0rd p@ssword p@ssw0rd letmein welcome admin administrator qwerty
qwertyuiop asdfghjkl zxcvbnm iloveyou monkey dragon football baseball sunshine
princess trustno1 superman starwars whatever master shadow michael jennifer
1234567890 0123456789 12345678910 abc123 abcdefghij 1q2w3e4r5t 1qaz2wsx3edc
changeme secret boxoffice tickets
""".split())


def problems(password: str, email: str | None = None) -> list[str]:
    """Why ``password`` is refused, or ``[]``."""
    found = []
    if len(password) < MIN_LENGTH:
        found.append(f"must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        found.append(f"must be at most {MAX_LENGTH} characters")
    if len(set(password)) < MIN_DISTINCT:
        found.append(f"must have at least {MIN_DISTINCT} different characters")
    stem = password.lower().rstrip("0123456789!.?")
    if password.lower() in COMMON or stem in COMMON:
        found.append("is a well-known password")
    if email and password.strip().lower() in (email.strip().lower(),
                                              email.strip().lower().split("@")[0]):
        found.append("must not be your email")
    return found
