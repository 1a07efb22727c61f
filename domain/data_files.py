"""Tables kept as data: a TOML file shipped in a package (its package data, pyproject.toml),
read once at import and checked into models."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel

TModel = TypeVar("TModel", bound=BaseModel)


def coded_tables(package: str, file: str, model: type[TModel]) -> dict[str, TModel]:
    """Each table of the TOML file `file` of `package` as a `model`, its table name the model's
    `code`, by code in file order; a table the model refuses stops the reading (ValidationError)."""
    text = resources.files(package).joinpath(file).read_text(encoding="utf-8")
    return {
        code: model.model_validate({**fields, "code": code})
        for code, fields in tomllib.loads(text).items()
    }
