"""Runs the ```bash blocks of docs/api.md against a TestClient, so the docs cannot drift.

A block is `export NAME=VALUE`, `export NAME=$(eport-ledger token create …)`, one curl (maybe
captured: `NAME=$(curl … | jq -r .field)`, maybe with a `<<JSON` here-document body, maybe in
`for i in 1 2 3; do … done`). `# expect NNN` names a status other than 2xx, and
`# expect NNN rule` also the rule the problem document must name.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
_BLOCK = re.compile(r"^```bash\n(.*?)^```", re.S | re.M)
_VAR = re.compile(r"\$\{?([A-Z_][A-Z0-9_]*)\}?")
_CAPTURE = re.compile(r"^([A-Z_][A-Z0-9_]*)=\$\((.*)\)$", re.S)
_JQ = re.compile(r"\|\s*jq -r \.([A-Za-z0-9_.\[\]]+)")
_LOOP = re.compile(r"^for \w+ in ([^;]+); do\n(.*)\ndone$", re.S)


@dataclass
class Call:
    """One HTTP request a block makes."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None
    capture: tuple[str, str] | None = None


@dataclass
class Block:
    """A parsed ```bash block."""

    text: str
    expect: int | None = None
    rule: str | None = None
    exports: list[tuple[str, str]] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)


def blocks(doc: Path = DOC) -> list[Block]:
    """Every ```bash block of the page, parsed."""
    return [parse(match.group(1)) for match in _BLOCK.finditer(doc.read_text(encoding="utf-8"))]


def parse(text: str) -> Block:
    """One block."""
    block = Block(text)
    lines = []
    for line in text.strip().splitlines():
        if expect := re.match(r"^# expect (\d{3})(?: ([a-z_]+))?$", line):
            block.expect, block.rule = int(expect.group(1)), expect.group(2)
        elif not line.startswith("#"):
            lines.append(line)
    body = "\n".join(lines)
    if body.startswith("export "):
        for line in lines:
            name, _, value = line.removeprefix("export ").partition("=")
            block.exports.append((name, value))
        return block
    repeat = 1
    if loop := _LOOP.match(body):
        repeat, body = len(loop.group(1).split()), loop.group(2)
    call = parse_curl(body)
    block.calls = [call] * repeat
    return block


def parse_curl(text: str) -> Call:
    """A curl command line (with an optional here-document and capture) as a Call."""
    heredoc: str | None = None
    if "<<JSON" in text:
        head, _, rest = text.partition("<<JSON")
        first, _, rest = rest.partition("\n")
        doc, _, tail = rest.partition("\nJSON")
        heredoc = doc
        text = head + first + tail
    text = text.replace("\\\n", " ")
    capture = None
    if match := _CAPTURE.match(text.strip()):
        name, text = match.group(1), match.group(2)
        jq = _JQ.search(text)
        assert jq is not None, f"a capture needs `| jq -r .field`: {text}"
        capture = (name, jq.group(1))
        text = _JQ.sub("", text)
    tokens = shlex.split(text)
    assert tokens[0] == "curl", tokens
    method, url, headers, data = "GET", "", {}, None
    args = iter(tokens[1:])
    for token in args:
        if token == "-X":
            method = next(args)
        elif token == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif token == "-d":
            value = next(args)
            data = heredoc if value == "@-" else value
            if method == "GET":
                method = "POST"
        elif token.startswith("-"):
            continue
        else:
            url = token
    body = None if data is None else data.encode("utf-8")
    return Call(method, url, headers, body, capture)


def substitute(text: str, variables: dict[str, str]) -> str:
    """`$NAME` and `${NAME}` replaced as the shell would (unknown names are an error)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in variables, f"${name} is used before it is set"
        return variables[name]

    return _VAR.sub(value, text)


def dig(document: Any, path: str) -> Any:
    """`jq -r .a.b` (and `.a[0].b`) on a decoded JSON document."""
    for part in path.split("."):
        name, *indexes = part.split("[")
        if name:
            document = document[name]
        for index in indexes:
            document = document[int(index.rstrip("]"))]
    return document


@dataclass
class Runner:
    """Executes blocks: `request(method, path, headers, body)`, `command(argv)` for the CLI."""

    request: Callable[[str, str, dict[str, str], bytes | None], Any]
    command: Callable[[list[str]], str]
    before_get: Callable[[], None] = lambda: None
    variables: dict[str, str] = field(default_factory=dict)

    def run(self, block: Block) -> Iterator[tuple[Call, Any]]:
        """Run one block; yields each call with its response."""
        for name, value in block.exports:
            self.variables[name] = self._value(value)
        for call in block.calls:
            url = substitute(call.url, self.variables)
            assert url.startswith(self.variables["EPORT"]), url
            path = url.removeprefix(self.variables["EPORT"])
            headers = {k: substitute(v, self.variables) for k, v in call.headers.items()}
            body = None
            if call.body is not None:
                text = substitute(call.body.decode("utf-8"), self.variables)
                orjson.loads(text)  # the docs must show valid JSON
                body = text.encode("utf-8")
            if call.method == "GET":
                self.before_get()
            response = self.request(call.method, path, headers, body)
            if block.expect is None:
                assert 200 <= response.status_code < 300, (block.text, response.text)
            else:
                assert response.status_code == block.expect, (block.text, response.text)
                if block.rule is not None:
                    assert response.json()["rule"] == block.rule, (block.text, response.text)
            if call.capture is not None:
                name, json_path = call.capture
                self.variables[name] = str(dig(response.json(), json_path))
            yield call, response

    def _value(self, value: str) -> str:
        if value.startswith("$(") and value.endswith(")"):
            argv = shlex.split(substitute(value[2:-1], self.variables))
            assert argv[0] == "eport-ledger", argv
            return self.command(argv[1:]).strip()
        return substitute(value, self.variables)
