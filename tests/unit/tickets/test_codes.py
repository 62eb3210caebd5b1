"""Ticket codes: only the key's holder can make one, and each names exactly one ticket."""
import secrets
import struct
import uuid
import zlib

import pytest
import segno

from settings import DEV_TICKET_SIGNING_KEY, ConfigurationError, Settings, reset_settings
from workers.bootstrap import bootstrap
from workers.tickets import codes


@pytest.fixture
def signing_key(monkeypatch):
    """Sign with another key for the rest of the test."""
    def use(key):
        monkeypatch.setenv("TICKET_SIGNING_KEY", key)
        reset_settings()
        bootstrap()
    yield use
    monkeypatch.undo()
    reset_settings()
    bootstrap()


def test_a_new_code_verifies_to_its_ticket():
    ticket_id = uuid.uuid4()

    assert codes.verify(codes.new_code(ticket_id)) == ticket_id


def test_a_code_names_its_ticket_and_a_128_bit_signature():
    ticket_id = uuid.uuid4()
    code = codes.new_code(ticket_id)

    named, signature = code.split(".")
    assert named == str(ticket_id)
    assert len(signature) == 22 and set(signature) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_the_same_ticket_always_gets_the_same_code_and_others_another():
    ticket_id = uuid.uuid4()

    assert codes.new_code(ticket_id) == codes.new_code(str(ticket_id))
    assert codes.new_code(ticket_id) != codes.new_code(uuid.uuid4())


def test_a_code_fits_the_ticket_code_column():
    from workers.tickets.models import Ticket

    assert len(codes.new_code(uuid.uuid4())) <= Ticket.__table__.c.code.type.length


def test_a_signature_moved_to_another_ticket_is_refused():
    signature = codes.new_code(uuid.uuid4()).split(".")[1]

    assert codes.verify(f"{uuid.uuid4()}.{signature}") is None


@pytest.mark.parametrize("position", [0, 10, -1])
def test_a_code_with_one_character_changed_is_refused(position):
    code = codes.new_code(uuid.uuid4())
    chars = list(code)
    chars[position] = "A" if chars[position] != "A" else "B"

    assert codes.verify("".join(chars)) is None


def test_an_unsigned_legacy_code_is_refused():
    assert codes.verify(secrets.token_urlsafe(18)) is None


def test_a_code_spelling_its_ticket_id_differently_is_refused():
    ticket_id = uuid.uuid4()
    signature = codes.new_code(ticket_id).split(".")[1]

    assert codes.verify(f"{str(ticket_id).upper()}.{signature}") is None
    assert codes.verify(f"{ticket_id.hex}.{signature}") is None
    assert codes.verify(f"{codes.new_code(ticket_id)}.extra") is None


@pytest.mark.parametrize("code", [
    "", ".", "no-dot-at-all", "not-a-uuid.AAAAAAAAAAAAAAAAAAAAAA", f"{uuid.uuid4()}.",
    f"{uuid.uuid4()}." + "A" * 500, "é" * 40, "\ud800", None, 42, b"bytes", ["list"],
])
def test_anything_that_is_not_a_code_is_refused_without_error(code):
    assert codes.verify(code) is None


def test_a_code_signed_under_another_key_is_refused(signing_key):
    ticket_id = uuid.uuid4()
    signing_key("another-key-" + "k" * 32)
    code = codes.new_code(ticket_id)

    assert codes.verify(code) == ticket_id
    signing_key("yet-another-key-" + "k" * 32)
    assert codes.verify(code) is None


def test_production_refuses_the_development_signing_key():
    production = {
        "BOXOFFICE_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/boxoffice",
        "CELERY_BROKER_URL": "amqp://rabbitmq//", "JWT_SECRET_KEY": "j" * 40,
        "API_KEY_PEPPER": "p" * 20,
    }
    for key in (None, DEV_TICKET_SIGNING_KEY, "s" * 31):
        env = production if key is None else {**production, "TICKET_SIGNING_KEY": key}
        with pytest.raises(ConfigurationError, match="TICKET_SIGNING_KEY"):
            Settings.from_env(env)

    settings = Settings.from_env({**production, "TICKET_SIGNING_KEY": "s" * 32})
    assert settings.ticket_signing_key == "s" * 32


def test_development_signs_with_the_development_key():
    assert Settings.from_env({}).ticket_signing_key == DEV_TICKET_SIGNING_KEY


def test_the_qr_png_is_a_png_of_the_codes_qr_symbol():
    code = codes.new_code(uuid.uuid4())

    png = codes.qr_png(code, scale=4)

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert qr_modules(png, scale=4, border=4) == qr_symbol(code)


# --- reading the PNG back (stdlib only: no image library needed) ---

def png_rows(png: bytes) -> list[list[int]]:
    """The pixels of a 1-bit greyscale PNG, 1 for white, by row."""
    pos, idat, header = 8, b"", None
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        data = png[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data)
        elif kind == b"IDAT":
            idat += data
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert (depth, colour, interlace) == (1, 0, 0), "expected a plain 1-bit greyscale PNG"
    raw, stride = zlib.decompress(idat), (width + 7) // 8
    rows, previous = [], bytes(stride)
    for y in range(height):
        line = raw[y * (stride + 1):(y + 1) * (stride + 1)]
        row = unfilter(line[0], bytearray(line[1:]), previous)
        rows.append([(row[x // 8] >> (7 - x % 8)) & 1 for x in range(width)])
        previous = row
    return rows


def unfilter(kind: int, row: bytearray, up: bytes) -> bytes:
    for i in range(len(row)):
        left = row[i - 1] if i else 0
        upper_left = up[i - 1] if i else 0
        if kind == 1:
            row[i] = (row[i] + left) & 0xFF
        elif kind == 2:
            row[i] = (row[i] + up[i]) & 0xFF
        elif kind == 3:
            row[i] = (row[i] + (left + up[i]) // 2) & 0xFF
        elif kind == 4:
            p = left + up[i] - upper_left
            pa, pb, pc = abs(p - left), abs(p - up[i]), abs(p - upper_left)
            row[i] = (row[i] + (left if pa <= pb and pa <= pc else up[i] if pb <= pc else upper_left)) & 0xFF
    return bytes(row)


def qr_modules(png: bytes, *, scale: int, border: int) -> list[list[bool]]:
    """The QR modules drawn in a PNG (True for dark), sampled at each module's centre."""
    rows = png_rows(png)
    modules = len(rows) // scale - 2 * border
    quiet = [rows[y][x] for y in range(border * scale) for x in range(len(rows))]
    assert all(quiet), "the quiet zone must be white"
    centres = [(border + i) * scale + scale // 2 for i in range(modules)]
    return [[rows[y][x] == 0 for x in centres] for y in centres]


def qr_symbol(code: str) -> list[list[bool]]:
    return [[bool(m) for m in row] for row in segno.make_qr(code, error="m").matrix]
