"""What a CLI command prints when it is done: a JSON document with `--json`, else text."""

from __future__ import annotations

import argparse

import orjson
import pytest

from api.cli.output import print_done


def test_json_is_one_line_that_says_ok_first(capsys: pytest.CaptureFixture[str]) -> None:
    print_done(argparse.Namespace(json=True), {"events": 3, "views": ["a"]}, "replayed 3")
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    assert list(orjson.loads(out).items()) == [("ok", True), ("events", 3), ("views", ["a"])]


def test_without_json_the_text_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    print_done(argparse.Namespace(json=False), {"events": 3}, "replayed 3\ncommands: a 1")
    assert capsys.readouterr().out == "replayed 3\ncommands: a 1\n"
