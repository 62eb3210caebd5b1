"""Ticket codes: what a ticket's QR carries, and the check of it at the door.

A code is ``<ticket id>.<signature>``: the signature is HMAC-SHA256 of the ticket id under
TICKET_SIGNING_KEY, cut to 128 bits and base64url-encoded (59 characters in all). Only the
key's holder can make a code, and a code names its ticket, so a scanner checks it before any
database work: a forged code costs no query. Any other string -- such as the unsigned codes
of tickets issued before codes were signed -- does not verify.
"""
from __future__ import annotations

import base64
import hmac
import io
import uuid

import segno

from workers import runtime

#: 128 bits: guessing a signature takes 2**127 tries on average
SIGNATURE_BYTES = 16
#: binds a signature to its purpose, should the key ever sign anything else
_CONTEXT = b"boxoffice ticket code v1:"
_MAX_CODE_LENGTH = 100


def new_code(ticket_id: uuid.UUID) -> str:
    """The signed code of a ticket; the same id always gives the same code."""
    ticket_id = str(ticket_id)
    return f"{ticket_id}.{_signature(ticket_id)}"


def verify(code) -> uuid.UUID | None:
    """The ticket id a code was signed for, or ``None`` if it is not a code we signed."""
    if not isinstance(code, str) or len(code) > _MAX_CODE_LENGTH or not code.isascii():
        return None
    ticket_id, dot, _ = code.partition(".")
    if not dot:
        return None
    try:
        parsed = uuid.UUID(ticket_id)
    except ValueError:
        return None
    # Comparing whole codes in constant time also refuses non-canonical spellings of the id.
    if not hmac.compare_digest(code.encode(), new_code(parsed).encode()):
        return None
    return parsed


def qr_png(code: str, *, scale: int = 8) -> bytes:
    """A PNG of ``code`` as a QR symbol, quiet zone included, for a phone screen or print."""
    out = io.BytesIO()
    segno.make_qr(code, error="m").save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def _signature(ticket_id: str) -> str:
    digest = runtime.sign(runtime.parts().ticket_signer, _CONTEXT + ticket_id.encode())
    return base64.urlsafe_b64encode(digest[:SIGNATURE_BYTES]).rstrip(b"=").decode()
