"""What a command prints with `--json`: one JSON document on one line on stdout."""

from __future__ import annotations

import sys
from typing import Any

import orjson


def print_document(document: Any) -> None:
    """Write `document` as one line of JSON on stdout (`--json`)."""
    sys.stdout.write(orjson.dumps(document).decode() + "\n")
