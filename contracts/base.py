"""What every message contract has: a name, a version, and strict validation."""
from __future__ import annotations

from typing import ClassVar

from marshmallow import RAISE, Schema, ValidationError, fields, validates


class Built(dict):
    """A message as ``build`` made it: the JSON-ready mapping, which is what is sent, with
    the validated values it was dumped from (``loaded``), for a reader in the same process
    that would otherwise load it again."""

    __slots__ = ("loaded",)


class Contract(Schema):
    """A command or event that crosses a queue.

    ``name`` is imperative for commands (``ReserveSeats``) and past tense for events
    (``SeatsReserved``). A message carries its contract name and version (``contract``,
    ``v``) so a consumer can refuse what it does not understand.
    """

    name: ClassVar[str]
    version: ClassVar[int] = 1

    contract = fields.String(required=True)
    v = fields.Integer(required=True)

    class Meta:
        unknown = RAISE

    @validates("contract")
    def _is_this_contract(self, value, **_):
        if value != self.name:
            raise ValidationError(f"expected contract {self.name!r}, got {value!r}")

    @validates("v")
    def _is_this_version(self, value, **_):
        if value != self.version:
            raise ValidationError(f"{self.name} v{value} is not supported (v{self.version} is)")

    @classmethod
    def _schema(cls) -> "Contract":
        """One instance per contract, made once: building a schema costs more than using
        it, and an instance holds no state between loads and dumps."""
        schema = cls.__dict__.get("_instance")
        if schema is None:
            schema = cls()
            cls._instance = schema
        return schema

    @classmethod
    def build(cls, **payload) -> Built:
        """A validated, JSON-ready message of this contract."""
        schema = cls._schema()
        loaded = schema.load({"contract": cls.name, "v": cls.version, **payload})
        built = Built(schema.dump(loaded))
        built.loaded = loaded
        return built

    @classmethod
    def parse(cls, message) -> dict:
        """Load a received message; raises ``ValidationError`` if it is not this contract."""
        if not isinstance(message, dict):
            raise ValidationError(f"{cls.name} must be an object, got {type(message).__name__}")
        return cls._schema().load(message)


class StepTiming(Schema):
    """When a saga step ran, carried on its outcome event for the saga record."""

    name = fields.String(required=True)
    started_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(required=True)
    attempts = fields.Integer(required=True)

    class Meta:
        unknown = RAISE
