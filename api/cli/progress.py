"""The command line's progress bar for long jobs: on stderr, and only when it is a terminal."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn


def counting_bar(console: Console, label: str, time: ProgressColumn) -> Progress:
    """A bar that counts done of total after `label`, with `time` (elapsed or remaining)."""
    return Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        time,
        console=console,
        disable=not console.is_terminal,
    )
