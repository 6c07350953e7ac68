"""Interruption (issue 13), with real `rp` processes on the tiny data: Ctrl-C during a build prints one line and
exits 130 with nothing registered and no staging left; SIGKILL while the workspace lock is held leaves a stale lock
that the next command detects (dead holder), takes over with a note, and completes; the killed build is not
registered; and the same command afterwards completes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
CMD = ["graph", "build", "task", "--mode", "standard"]


def _start(tiny, ws, marker, stage):
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    args = ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", *CMD]
    return subprocess.Popen([sys.executable, str(HERE / "slow_rp.py"), str(marker), stage, *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def _wait_for(marker, proc, limit=120.0):
    t0 = time.monotonic()
    while not marker.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - t0 < limit, "the build never reached the pause"
        time.sleep(0.05)


def _rp(tiny, ws, *args):
    return subprocess.run([sys.executable, "-m", "rpcli", "-w", str(ws), "-d", str(tiny), "--encoder", "hash:32",
                           *args], capture_output=True, text=True, timeout=300)


def _graphs(ws):
    doc = json.loads((ws / "manifest.json").read_text())
    return [e for e in doc["entries"].values() if e["kind"] == "graph"]


@pytest.mark.parametrize("stage", ["build", "lock"])
def test_ctrl_c_prints_one_line_and_exits_130(tiny_data, tmp_path, stage):
    ws, marker = tmp_path / "ws", tmp_path / "paused"
    p = _start(tiny_data, ws, marker, stage)
    _wait_for(marker, p)
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 130, err
    assert "Traceback" not in err and err.strip().count("\n") == 0 and "Interrupted" in err, err
    assert out == ""
    assert _graphs(ws) == [], "an interrupted build must register nothing"
    assert not (ws / "workspace.lock").exists() and not list(ws.glob("*.lock"))
    assert not (ws / "tmp").exists() or not any((ws / "tmp").iterdir()), "the staging directory is removed"
    again = _rp(tiny_data, ws, *CMD)
    assert again.returncode == 0, again.stderr
    assert len(_graphs(ws)) == 1


def test_sigkill_holding_the_lock_leaves_a_stale_lock_that_is_taken_over(tiny_data, tmp_path):
    ws, marker = tmp_path / "ws", tmp_path / "paused"
    p = _start(tiny_data, ws, marker, "lock")
    _wait_for(marker, p)
    locks = [q for q in ws.rglob("*lock*") if q.is_file()]
    assert locks and locks[0].read_text().strip() == str(p.pid), "the killed process holds the lock"
    p.kill()
    p.communicate(timeout=60)
    assert p.returncode == -signal.SIGKILL
    assert locks[0].exists(), "SIGKILL leaves the lock file behind (the stale lock to take over)"
    assert _graphs(ws) == [], "the killed build registered nothing"
    # the killed build moved its folder into graphs/ but never recorded it: rp ws verify calls it an orphan
    v = _rp(tiny_data, ws, "ws", "verify", "--json")
    assert v.returncode == 1 and [o["path"].split("/")[0] for o in json.loads(v.stdout)["orphans"]] == ["graphs"]
    # the next command detects the dead holder of the lock, takes it over and completes
    again = _rp(tiny_data, ws, *CMD)
    assert again.returncode == 0, again.stderr
    assert "stale workspace lock" in again.stderr and str(p.pid) in again.stderr, again.stderr
    assert "Traceback" not in again.stderr
    graphs = _graphs(ws)
    assert len(graphs) == 1 and graphs[0]["id"] == again.stdout.strip()
    assert not locks[0].exists()
    # the rebuilt artifact is intact: every recorded output is there with its size
    for o in graphs[0]["outputs"]:
        assert (ws / o["path"]).stat().st_size == o["bytes"]
