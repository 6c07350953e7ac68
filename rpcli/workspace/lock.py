"""A workspace lock (an O_EXCL lock file naming its owner), with friendly messages.

The lock file holds three lines: the owner's pid, the command it runs, and since when (UTC, ISO 8601). Only the
first line is needed (a lock file holding just a pid, as older rp wrote, is read the same). A waiter that has
waited longer than `notify_after` seconds prints one line naming the holder; a holder that is no longer running
left a stale lock, which is taken over with a note.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from rpcli.errors import WorkspaceLockedError

NOTIFY_AFTER_S = 2.0  # a wait longer than this prints one line naming the holder


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid runs (one we may not signal counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _command_line() -> str:
    argv = list(sys.argv) or ["python"]
    name = os.path.basename(argv[0]) or argv[0]
    if name == "__main__.py":  # python -m PACKAGE
        pkg = os.path.basename(os.path.dirname(argv[0]))
        name = "rp" if pkg == "rpcli" else f"python -m {pkg}"
    text = " ".join([name, *argv[1:]]).replace("\n", " ")
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class LockHolder:
    pid: int | None
    command: str | None = None
    since: str | None = None

    def describe(self) -> str:
        out = f"process {self.pid}"
        extra = []
        if self.command:
            extra.append(f"running `{self.command}`")
        if self.since:
            extra.append(f"since {self.since}")
        return out + (f" ({', '.join(extra)})" if extra else "")


class WorkspaceLock:
    def __init__(self, path: Path, timeout: float = 30.0, notify_after: float = NOTIFY_AFTER_S) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self.notify_after = notify_after
        self._held = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        start = time.monotonic()
        deadline = start + self.timeout
        notified = False
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self.holder()
                if holder.pid is not None and not pid_alive(holder.pid):
                    # The holder died without releasing: the lock is stale.
                    try:
                        self.path.unlink()
                    except FileNotFoundError:
                        pass
                    else:
                        sys.stderr.write(f"note: took over the stale workspace lock of process {holder.pid}, which "
                                         f"is no longer running ({self.path})\n")
                    continue
                now = time.monotonic()
                if now > deadline:
                    raise WorkspaceLockedError(
                        f"the workspace is locked by {holder.describe()} ({self.path})",
                        hint="wait for that command to finish, or delete the lock file if no rp process is running",
                    ) from None
                if not notified and now - start >= self.notify_after:
                    notified = True
                    sys.stderr.write(f"waiting for the workspace lock: held by {holder.describe()} ({self.path})\n")
                    sys.stderr.flush()
                time.sleep(0.05)
                continue
            since = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            with os.fdopen(fd, "w") as fh:
                fh.write(f"{os.getpid()}\n{_command_line()}\n{since}\n")
            self._held = True
            return

    def holder(self) -> LockHolder:
        """Who holds the lock, from the lock file (pid None when it cannot be read)."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return LockHolder(None)
        try:
            pid = int(lines[0].strip() or "0") or None if lines else None
        except ValueError:
            return LockHolder(None)
        return LockHolder(pid, lines[1].strip() or None if len(lines) > 1 else None,
                          lines[2].strip() or None if len(lines) > 2 else None)

    def _holder(self) -> int | None:
        return self.holder().pid

    def release(self) -> None:
        if self._held:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self._held = False

    def __enter__(self) -> "WorkspaceLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
