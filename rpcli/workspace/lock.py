"""A workspace lock (an O_EXCL lock file holding the owner's pid), with a friendly failure message."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from rpcli.errors import WorkspaceLockedError


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class WorkspaceLock:
    def __init__(self, path: Path, timeout: float = 30.0) -> None:
        self.path = Path(path)
        self.timeout = timeout
        self._held = False

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and not _pid_alive(holder):
                    # The holder died without releasing: the lock is stale.
                    try:
                        self.path.unlink()
                    except FileNotFoundError:
                        pass
                    else:
                        sys.stderr.write(f"note: took over the stale workspace lock of process {holder}, which "
                                         f"is no longer running ({self.path})\n")
                    continue
                if time.monotonic() > deadline:
                    raise WorkspaceLockedError(
                        f"the workspace is locked by process {holder} ({self.path})",
                        hint="wait for that command to finish, or delete the lock file if no rp process is running",
                    ) from None
                time.sleep(0.05)
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(str(os.getpid()))
            self._held = True
            return

    def _holder(self) -> int | None:
        try:
            return int(self.path.read_text().strip() or "0") or None
        except (OSError, ValueError):
            return None

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
