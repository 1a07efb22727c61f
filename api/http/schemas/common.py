"""Schemas shared by every resource: command answers and problem documents."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

EXAMPLE_ID = "5b0f3a52-7c1e-5d59-9a0f-4a9f1c3e2b7d"


def with_examples(*examples: Any) -> ConfigDict:
    """A model's configuration that shows these examples in the OpenAPI document."""
    return ConfigDict(json_schema_extra={"examples": list(examples)})


class Request(BaseModel):
    """A request body: unknown fields are refused, so a typo is a 422, not silently ignored."""

    model_config = ConfigDict(extra="forbid")

    passed_otherwise: ClassVar[frozenset[str]] = frozenset()
    """Fields that are not the decider's keyword arguments (a tag, what the route passes first)."""

    def decider_arguments(self) -> dict[str, Any]:
        """The decider's keyword arguments, for API route and console alike: the fields as they
        are (not dumped: a nested model stays a model), but those in `passed_otherwise`."""
        return {name: value for name, value in self if name not in self.passed_otherwise}


def untagged(discriminator: str) -> WrapValidator:
    """A tagged union's errors at the paths the client sent.

    Pydantic puts the tag in front of every location of a tagged union's errors
    (`operator.holder.id_number` for a body `{"holder_kind": "operator", "holder": …}`): no
    field of the request has that path. This validator drops the tag, and reports an unknown
    tag at the discriminator field itself.
    """

    def validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        try:
            return handler(value)
        except ValidationError as error:
            tag = value.get(discriminator) if isinstance(value, dict) else None
            details = []
            for found in error.errors():
                loc = tuple(found["loc"])
                if found["type"] in ("union_tag_invalid", "union_tag_not_found"):
                    loc = (discriminator,)
                elif loc and tag is not None and loc[0] == tag:
                    loc = loc[1:]
                kind = PydanticCustomError(found["type"], found["msg"])
                details.append(InitErrorDetails(type=kind, loc=loc, input=found["input"]))
            raise ValidationError.from_exception_data(error.title, details) from None

    return WrapValidator(validate)


class CommandAnswer(BaseModel):
    """What a command reached: the aggregate it changed, its new version, the ledger position."""

    model_config = with_examples({"id": EXAMPLE_ID, "version": 3, "position": 42})

    id: UUID = Field(description="the aggregate the command changed or created")
    version: int = Field(description="its version now (use it as If-Match)")
    position: int = Field(
        description="the ledger position reached; pass it as min_position to read your write"
    )


class FreePairAnswer(CommandAnswer):
    """The free pair was issued: the enterprise's id and version, and the two card numbers."""

    model_config = with_examples(
        {
            "id": EXAMPLE_ID,
            "version": 8,
            "position": 57,
            "legal_person_card_no": "8800000123456701",
            "operator_card_no": "8800000123456702",
        }
    )

    legal_person_card_no: str
    operator_card_no: str


class RenewalApplicationAnswer(CommandAnswer):
    """A renewal application was filed; its id names it in the pre-approval and the renewal."""

    model_config = with_examples(
        {
            "id": EXAMPLE_ID,
            "version": 12,
            "position": 90,
            "application_id": "8800000123456701-R1",
        }
    )

    application_id: str


class FieldProblem(BaseModel):
    """What is wrong with one field of the request."""

    field: str | None = Field(description="dotted path of the field (query.x, header.x, body path)")
    message: str


class Problem(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    model_config = with_examples(
        {
            "type": "urn:eport-ledger:problem:key_locked",
            "title": "The key is locked",
            "title_zh": "该Ukey已锁定",
            "status": 422,
            "detail": "key 8800000123456701 is locked; unlock it first",
            "instance": "/v1/keys/8800000123456701/pin-attempts",
            "rule": "key_locked",
            "errors": [{"field": "status", "message": "key 8800000123456701 is locked"}],
            "request_id": "0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        }
    )

    type: str = Field(description="a URI naming the kind of problem")
    title: str = Field(description="what the rule says, in English (the same for every occurrence)")
    title_zh: str = Field(description="the same in Chinese (中文)")
    status: int
    detail: str
    instance: str | None = Field(default=None, description="the path the problem occurred at")
    rule: str = Field(description="the rule that refused the request, e.g. key_locked")
    errors: list[FieldProblem] = Field(default_factory=list)
    request_id: str | None = None
    current_version: int | None = Field(
        default=None, description="on 412 version_mismatch: the record's current version"
    )
