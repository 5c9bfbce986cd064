"""A rich progress bar on stderr, driven by the library's ``progress(stage, fraction)`` callbacks."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

ProgressFn = Callable[[str, float], None]


@contextmanager
def progress_bar(console: Console, enabled: bool = True) -> Iterator[ProgressFn]:
    if not enabled:
        yield lambda stage, fraction: None
        return
    columns = (TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, int] = {}

        def update(stage: str, fraction: float) -> None:
            if stage not in tasks:
                for other in tasks.values():  # a new stage completes the earlier ones
                    bar.update(other, completed=100)
                tasks[stage] = bar.add_task(stage, total=100)
            bar.update(tasks[stage], completed=max(0.0, min(1.0, fraction)) * 100)

        yield update
        for task in tasks.values():
            bar.update(task, completed=100)
