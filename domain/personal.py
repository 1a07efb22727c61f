"""Personal data (个人信息) in events: what is personal, whose it is, and its sealed form.

Every event declares its personal parts (`DomainEvent.personal_parts`): where in the event a
natural person's data sits, whose data it is (the data subject), and what a caller may find the
person by (ID number, phone, name). Before an event is stored, the ledger replaces each such
part by a `Sealed` value — AEAD ciphertext under that subject's own data key — so the ledger
never holds personal data in the clear, and erasing a person (删除权) is destroying one key.

The domain never decrypts: a decision works on the plaintext a command brings, and state loaded
from the ledger carries `Sealed` values, which decisions pass on as they are (a replacement key
keeps its holder's sealed name) or compare by subject (the same person is the same subject).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ValidationInfo,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema

STORED = "stored"
"""The validation context key that admits `Sealed` values (set when reading the ledger)."""


class Sealed(BaseModel):
    """A natural person's data as the ledger stores it: opaque here, readable with their key."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sealed: str
    """base64 of nonce ‖ ciphertext ‖ tag (AES-256-GCM)."""
    subject: UUID
    """Whose data it is: a random-looking id, keyed with a server secret, never derived in the
    open from the data itself."""
    key: UUID
    """Which of the subject's data keys sealed it (a new one after an erasure)."""

    @model_validator(mode="before")
    @classmethod
    def _only_from_the_ledger(cls, data: Any, info: ValidationInfo) -> Any:
        """Sealed values come from the ledger, never from a client's request body."""
        if isinstance(data, dict) and not (info.context or {}).get(STORED):
            raise ValueError("sealed personal data is written by the ledger, not sent")
        return data


@dataclass(frozen=True, slots=True)
class SubjectKey:
    """A person named by what identifies them within a scope (an enterprise, a parcel).

    The ledger turns it into the subject id with a keyed hash (a secret outside the database),
    so the id reveals nothing of the natural key and the same person gets the same id.
    """

    scope: UUID
    role: str
    natural: str


Subject = UUID | SubjectKey


@dataclass(frozen=True, slots=True)
class PersonalPart:
    """One place in an event that holds a person's data."""

    path: tuple[str | int, ...]
    """Where in the event's JSON form (field names and list positions)."""
    subject: Subject
    """Whose data it is."""
    found_by: Sequence[tuple[str, str]] = ()
    """(kind, value) pairs a caller may find the person by: id_number, phone, name."""


def person_key(scope: UUID, role: str, *natural: str) -> SubjectKey:
    """The subject key of a person in `role` within `scope` (natural parts joined)."""
    return SubjectKey(scope, role, "\x1f".join(part.strip().upper() for part in natural))


def subject_of(value: Sealed | Any, fallback: Subject) -> Subject:
    """The subject a part belongs to: a sealed value knows it; plaintext uses `fallback`."""
    return value.subject if isinstance(value, Sealed) else fallback


@dataclass(frozen=True, slots=True)
class personal:  # noqa: N801 - used as a marker in Annotated, like pydantic's Field
    """Marks a field that holds a person's data: the plaintext type, or `Sealed` from the ledger.

    `Annotated[Name | Sealed, personal(Name)]` validates a client's value as `Name` alone (so a
    bad value is reported at the field's own path, and a client can never send a sealed value),
    takes a `Sealed` value as it is, and reads a sealed one from stored JSON only in the
    ledger's validation context (`STORED`). The JSON schema is the plaintext type's.
    """

    plain: Any

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        """Validate plaintext as `plain`; pass `Sealed` values through; dump either."""
        plain = handler.generate_schema(self.plain)

        def validate(
            value: Any, validate_plain: core_schema.ValidatorFunctionWrapHandler, info: Any
        ) -> Any:
            if isinstance(value, Sealed):
                return value
            if isinstance(value, dict) and "sealed" in value:
                if not (info.context or {}).get(STORED):
                    raise ValueError("sealed personal data is written by the ledger, not sent")
                return Sealed.model_validate(value, context=info.context)
            return validate_plain(value)

        def serialize(
            value: Any, dump_plain: core_schema.SerializerFunctionWrapHandler, info: Any
        ) -> Any:
            if isinstance(value, Sealed):
                return value.model_dump(mode=info.mode)
            return dump_plain(value)

        return core_schema.with_info_wrap_validator_function(
            validate,
            plain,
            serialization=core_schema.wrap_serializer_function_ser_schema(
                serialize, schema=plain, info_arg=True
            ),
        )

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The plaintext type's schema."""
        return handler(schema)
