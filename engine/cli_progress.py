"""The progress bar of long commands, on stderr. CLI only: the engine reports progress through a callback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Replications per second (per minute when slower than one a second)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            text = "–"
        elif speed >= 1:
            text = f"{speed:.1f}/s"
        else:
            text = f"{60 * speed:.1f}/min"
        return Text(text, style="progress.data.speed")


@contextmanager
def progress_bar(label: str, total: int, done: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Draw ``label [bar] done/total rate elapsed left`` while the block runs; yield ``update(done)``.

    Nothing is drawn unless ``enabled``; the bar disappears when the block ends (results follow it).
    """
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("left"),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=True,
    )
    with progress:
        task = progress.add_task(label, total=total, completed=done)
        yield lambda finished: progress.update(task, completed=finished)
