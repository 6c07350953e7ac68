"""A tiny progress protocol: core code reports, front ends render (Rich on stderr, Textual messages, tests)."""

from __future__ import annotations

import contextlib
from typing import ContextManager, Protocol


class Progress(Protocol):
    def task(self, description: str, total: int | None = None) -> ContextManager["Progress"]: ...

    def advance(self, n: int = 1) -> None: ...

    def note(self, message: str) -> None: ...

    def warn(self, message: str) -> None: ...


class NullProgress:
    """Silence: the default for library callers and tests."""

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None):
        yield self

    def advance(self, n: int = 1) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass


class RecordingProgress(NullProgress):
    """Collects events (for tests)."""

    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    @contextlib.contextmanager
    def task(self, description: str, total: int | None = None):
        self.events.append(("task", description))
        yield self

    def advance(self, n: int = 1) -> None:
        self.events.append(("advance", n))

    def note(self, message: str) -> None:
        self.events.append(("note", message))

    def warn(self, message: str) -> None:
        self.events.append(("warn", message))
