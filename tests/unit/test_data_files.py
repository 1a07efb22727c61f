"""Tables kept as data: each table of a package's TOML file becomes a model, its name the code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from domain.data_files import coded_tables
from domain.region import REGIONS, RegionConfig


class Colour(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str
    hex: str


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An importable package `shipped_data`, empty but for what a test writes into it."""
    where = tmp_path / "shipped_data"
    where.mkdir()
    (where / "__init__.py").write_text("")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield where
    sys.modules.pop("shipped_data", None)  # the next test's package is another folder


def test_each_table_is_a_model_named_by_its_code_in_file_order(package: Path) -> None:
    (package / "colours.toml").write_text(
        '[red]\nhex = "#f00"\n\n[green]\nhex = "#0f0"\n\n[blue]\nhex = "#00f"\n', encoding="utf-8"
    )
    colours = coded_tables("shipped_data", "colours.toml", Colour)
    assert list(colours) == ["red", "green", "blue"]
    assert colours["green"] == Colour(code="green", hex="#0f0")


def test_a_table_the_model_refuses_stops_the_reading(package: Path) -> None:
    (package / "colours.toml").write_text('[red]\nhex = "#f00"\nshade = 3\n', encoding="utf-8")
    with pytest.raises(ValidationError, match="shade"):
        coded_tables("shipped_data", "colours.toml", Colour)


def test_the_regions_are_read_from_the_domains_data() -> None:
    assert coded_tables("domain", "regions.toml", RegionConfig) == REGIONS
    assert list(REGIONS) == ["hainan", "guangdong"]
