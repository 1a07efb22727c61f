"""What a command prints with `--json`: one JSON document on one line on stdout."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import orjson


def print_document(document: Any) -> None:
    """Write `document` as one line of JSON on stdout (`--json`)."""
    sys.stdout.write(orjson.dumps(document).decode() + "\n")


def print_done(args: argparse.Namespace, document: dict[str, Any], text: str) -> None:
    """What a command did: `{"ok": true, **document}` with `--json`, else `text` for a person."""
    if args.json:
        print_document({"ok": True, **document})
    else:
        print(text)
