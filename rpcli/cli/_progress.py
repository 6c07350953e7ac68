"""Rich progress on stderr implementing rpcli.core.progress.Progress; plain lines when stderr is not a TTY."""

from __future__ import annotations

import contextlib
import time

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from rpcli.cli._output import err_console


class RichProgress:
    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.interactive = err_console.is_terminal and not quiet
        self._progress = None
        self._task = None
        self._depth = 0
        self._in_task = 0
        self._last_note = 0.0

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None):
        if not self.interactive:
            if not self.quiet:
                err_console.print(f"[dim]{description}…[/dim]")
            self._in_task += 1
            try:
                yield self
            finally:
                self._in_task -= 1
            return
        outer = self._progress is None
        if outer:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), TextColumn("{task.fields[note]}"),
                                      console=err_console, transient=True)
            self._progress.start()
        prev = self._task
        self._task = self._progress.add_task(description, total=total, note="")
        try:
            yield self
        finally:
            self._progress.remove_task(self._task)
            self._task = prev
            if outer:
                self._progress.stop()
                self._progress = None

    def advance(self, n: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, n)

    def note(self, message: str) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, note=message)
        elif not self.quiet:
            # Without a terminal, per-step notes inside a task (one per epoch) are thinned to one every 5 s.
            now = time.monotonic()
            if self._in_task and now - self._last_note < 5.0:
                return
            self._last_note = now
            err_console.print(f"[dim]{message}[/dim]")

    def warn(self, message: str) -> None:
        err_console.print(f"[yellow]warning:[/yellow] {message}")
