"""The workspace lock (issue 13): a wait longer than ~2 s prints one line naming the holder (pid, command, since
when); a short wait prints nothing; a timeout names the holder too. The timeout semantics are unchanged."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.errors import WorkspaceLockedError
from rpcli.workspace.layout import Workspace
from rpcli.workspace.lock import WorkspaceLock

runner = CliRunner()
REPO = Path(__file__).resolve().parents[1]

HOLDER = """
import sys, time
from pathlib import Path
from rpcli.workspace.lock import WorkspaceLock
sys.argv = ["rp", "profile", "trainable", "--epochs", "500"]
with WorkspaceLock(Path(sys.stdin.readline().strip())):
    print("held", flush=True)
    time.sleep(float(sys.stdin.readline()))
"""


def _hold(lock: Path, seconds: float) -> subprocess.Popen:
    """Another process holding the lock for `seconds` (returns once it holds it)."""
    p = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    p.stdin.write(f"{lock}\n{seconds}\n")
    p.stdin.flush()
    assert p.stdout.readline().strip() == "held"
    return p


def _index(tiny, ws):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", "profile", "index",
                               "--mode", "standard"])


def test_a_long_wait_names_the_holder_once(tiny_data, tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir(parents=True)
    holder = _hold(ws.lock_path, 3.5)
    try:
        t0 = time.monotonic()
        r = _index(tiny_data, ws.root)
        waited = time.monotonic() - t0
    finally:
        holder.wait(timeout=60)
    assert r.exit_code == 0, r.output
    lines = [x for x in r.stderr.splitlines() if "waiting for the workspace lock" in x]
    assert len(lines) == 1, r.stderr
    assert f"process {holder.pid}" in lines[0] and "`rp profile trainable --epochs 500`" in lines[0]
    assert "since 20" in lines[0] and lines[0].rstrip(")").endswith(str(ws.lock_path)), lines[0]
    assert waited >= 2.0 and r.stdout.strip().startswith("profile-")


def test_a_short_wait_says_nothing(tiny_data, tmp_path):
    ws = Workspace(tmp_path / "ws")
    ws.root.mkdir(parents=True)
    _index(tiny_data, ws.root)  # load torch and the data once, so the timed run below waits for the lock only
    holder = _hold(ws.lock_path, 0.5)
    try:
        r = runner.invoke(app, ["-w", str(ws.root), "-d", str(tiny_data), "--encoder", "hash:32", "-q", "profile",
                                "index", "--mode", "standard", "--seed", "7"])
    finally:
        holder.wait(timeout=60)
    assert r.exit_code == 0, r.output
    assert "waiting for the workspace lock" not in r.stderr, r.stderr


def test_a_timeout_names_the_holder_and_keeps_its_semantics(tmp_path):
    lock = tmp_path / ".lock"
    holder = _hold(lock, 3.0)
    try:
        t0 = time.monotonic()
        with pytest.raises(WorkspaceLockedError) as exc:
            WorkspaceLock(lock, timeout=0.3).acquire()
        assert time.monotonic() - t0 < 2.0, "the timeout is the caller's, not the 2 s notice"
    finally:
        holder.wait(timeout=60)
    msg = exc.value.message
    assert f"process {holder.pid}" in msg and "`rp profile trainable --epochs 500`" in msg and "since" in msg
    # an old-style lock file (a pid only) of a dead process is still taken over
    lock.write_text("999999999")
    with WorkspaceLock(lock, timeout=0.1):
        assert lock.read_text().splitlines()[0] == str(os.getpid())
