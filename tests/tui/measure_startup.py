"""Measure the dashboard's start-up time: launch -> first leaderboard rows on screen (informational, not a test).

Two measurements:
  pty:   `rp compare` in a pseudo-terminal, from spawning the process to the first run id in its output; this
         includes interpreter start, imports, loading the dataset and computing the reference rows.
  pilot: in-process, from constructing the App to the leaderboard holding rows (App.run_test, no dataset: the
         references are computed once beforehand, as the CLI does before starting the app).

Usage: python tests/tui/measure_startup.py -w WORKSPACE -d DATA [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import re
import select
import statistics
import sys
import time
from pathlib import Path

RUN_ID = re.compile(rb"run-[0-9a-f]{10}")


def time_pty(ws: str, data: str, timeout: float = 60.0) -> float:
    """Seconds from spawning `rp compare` on a pseudo-terminal to the first run id it draws."""
    rp = str(Path(sys.executable).with_name("rp"))
    pid, fd = pty.fork()
    if pid == 0:  # child: a terminal of 160x45
        os.environ.update({"COLUMNS": "160", "LINES": "45", "TERM": "xterm-256color"})
        os.execv(rp, [rp, "-q", "-w", ws, "-d", data, "compare"])
    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 45, 160, 0, 0))
    t0 = time.perf_counter()
    buf = b""
    elapsed = None
    try:
        while time.perf_counter() - t0 < timeout:
            r, _, _ = select.select([fd], [], [], 0.05)
            if r:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                buf += chunk
                if RUN_ID.search(buf):
                    elapsed = time.perf_counter() - t0
                    break
    finally:
        os.write(fd, b"q")
        deadline = time.time() + 5
        while time.time() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                select.select([fd], [], [], 0.05) and os.read(fd, 65536)
            except OSError:
                pass
        else:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    if elapsed is None:
        raise RuntimeError("no run id appeared: does the workspace hold runs for this dataset?")
    return elapsed


def time_pilot(ws: str, data: str, repeat: int) -> list[float]:
    from rpcli.services.base import Session
    from rpcli.services.artifacts.compare import dataset_summary, reference_rows
    from rpcli.tui.app import Dashboard
    from rpcli.tui.widgets.leaderboard import LeaderboardTable
    from rpcli.workspace.layout import Workspace

    sess = Session(workspace=Workspace(Path(ws)), data_root=Path(data))
    refs = reference_rows(sess, include_singles=True)  # what `rp compare` hands the app
    dataset = dataset_summary(sess)
    out = []

    async def once() -> float:
        t0 = time.perf_counter()
        app = Dashboard(Workspace(Path(ws)), refs, dataset=dataset, reload_interval=None)
        async with app.run_test(size=(160, 45)) as pilot:
            board = app.query_one("#board-standard", LeaderboardTable)
            while not (app.loaded and board.row_count):
                await pilot.pause(0.001)
            await pilot.pause()  # one more refresh: the rows are painted
            return time.perf_counter() - t0

    for _ in range(repeat):
        out.append(asyncio.run(once()))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-w", required=True)
    ap.add_argument("-d", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    ptys = [time_pty(a.w, a.d) for _ in range(a.repeat)]
    pilots = time_pilot(a.w, a.d, a.repeat)
    for name, xs in (("rp compare (pty, process start -> first run row)", ptys),
                     ("Dashboard (pilot, App() -> rows shown)", pilots)):
        print(f"{name}: median {statistics.median(xs) * 1000:.0f} ms  "
              f"(min {min(xs) * 1000:.0f}, max {max(xs) * 1000:.0f}, n={len(xs)})")


if __name__ == "__main__":
    main()
