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
    assert not (ws / ".lock").exists() and not list(ws.glob("*.lock"))
    assert not (ws / "tmp").exists() or not any((ws / "tmp").iterdir()), "the staging directory is removed"
    again = _rp(tiny_data, ws, *CMD)
    assert again.returncode == 0, again.stderr
    assert len(_graphs(ws)) == 1


def test_sigkill_holding_the_lock_leaves_a_stale_lock_that_is_taken_over(tiny_data, tmp_path):
    ws, marker = tmp_path / "ws", tmp_path / "paused"
    p = _start(tiny_data, ws, marker, "lock")
    _wait_for(marker, p)
    locks = [q for q in ws.rglob("*lock*") if q.is_file()]
    assert locks and locks[0].read_text().splitlines()[0] == str(p.pid), "the killed process holds the lock"
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


# ---------------------------------------------------------------------------------------------------------------
# SIGINT and SIGKILL in the middle of a trainable profile, a router training, a text-gnn build and a sweep
# ---------------------------------------------------------------------------------------------------------------
from typer.testing import CliRunner  # noqa: E402

from corpus import tree_digest  # noqa: E402

runner = CliRunner()

TRAINABLE = ["profile", "trainable", "--mode", "standard", "--epochs", "6", "--hidden", "16", "--heads", "2"]
MLP = ["route", "mlp", "--profile", "{profile}", "--mode", "standard", "--epochs", "3", "--hidden", "16",
       "--out-dim", "8", "--batch-size", "4", "--patience", "0"]
TEXT_GNN = ["profile", "text-gnn", "--mode", "standard", "--K", "1", "--backend", "extractive"]
# name -> (command, pause stage, kind it registers)
TARGETS = {"trainable": (TRAINABLE, "train", "profile"), "mlp": (MLP, "train", "run"),
           "text-gnn": (TEXT_GNN, "llm", "profile")}

SWEEP = """\
name: tiny-int
modes: [standard]
graph: task
profiles:
  - method: index
  - method: emb-gnn
    K: 1
routers:
  - router: sim
"""


def _in_process(tiny, ws, *args):
    return runner.invoke(app_(), ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", *args])


def app_():
    from rpcli.cli.main import app

    return app


def _entries(ws, kind=None):
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import load_manifest

    es = load_manifest(Workspace(ws))["entries"].values()  # the manifest loads
    return sorted(e["id"] for e in es if kind is None or e["kind"] == kind)


def _start_group(tiny, ws, marker, stage, args):
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    argv = ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", *args]
    # its own process group, as a terminal's foreground job: Ctrl-C reaches every process of the group
    return subprocess.Popen([sys.executable, str(HERE / "slow_rp.py"), str(marker), stage, *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            start_new_session=True)


def _interrupt(p, sig):
    os.killpg(p.pid, sig)
    out, err = p.communicate(timeout=120)
    if sig == signal.SIGINT:
        assert p.returncode == 130, err
        lines = err.strip().splitlines()  # warnings the command printed before may precede it
        assert "Traceback" not in err and lines[-1].startswith("Interrupted") and \
            sum("Interrupted" in x for x in lines) == 1, err
    else:
        assert p.returncode == -signal.SIGKILL
    return out, err


def _no_lock(ws):
    """No lock is left; or, after SIGKILL under the lock, one of a dead process (which the next command takes over)."""
    from rpcli.workspace.lock import WorkspaceLock, pid_alive

    from rpcli.workspace.layout import Workspace

    lock = Workspace(ws).lock_path
    if lock.exists():
        pid = WorkspaceLock(lock).holder().pid
        assert pid is not None and not pid_alive(pid), f"a live process {pid} still holds the lock"


def _verify_then_fix(tiny, ws, sig):
    """After a SIGKILL the dead build's staging is an orphan `rp ws verify` names and --fix removes; after SIGINT
    there is nothing to fix."""
    v = _in_process(tiny, ws, "ws", "verify", "--json")
    doc = json.loads(v.stdout)
    assert doc["mismatches"] == []
    if sig == signal.SIGINT:
        assert v.exit_code == 0 and doc["orphans"] == [], doc
    else:
        assert all(o["path"].startswith("tmp/") for o in doc["orphans"]), doc
        f = _in_process(tiny, ws, "ws", "verify", "--fix", "--json")
        assert json.loads(f.stdout)["removed"] == [o["path"] for o in doc["orphans"]]
        assert _in_process(tiny, ws, "ws", "verify").exit_code == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
@pytest.mark.parametrize("target", list(TARGETS))
def test_interrupted_training_or_generation_registers_nothing_and_reruns(tiny_data, tmp_path, target, sig):
    args, stage, kind = TARGETS[target]
    ws, marker = tmp_path / "ws", tmp_path / "paused"
    subs = {}
    g = _in_process(tiny_data, ws, "graph", "build", "task", "--mode", "standard")  # the parent, built whole
    assert g.exit_code == 0, g.output
    if "{profile}" in " ".join(args):
        r = _in_process(tiny_data, ws, "profile", "index", "--mode", "standard")
        assert r.exit_code == 0, r.output
        subs["profile"] = r.stdout.strip()
    args = [a.format(**subs) for a in args]
    before = _entries(ws, kind)
    p = _start_group(tiny_data, ws, marker, stage, args)
    _wait_for(marker, p)
    _interrupt(p, sig)
    # nothing half-built is registered (a parent the command built first, whole, may be: verify checks it below)
    assert _entries(ws, kind) == before, "nothing half-built is registered"
    d = ws / f"{kind}s"
    assert sorted(x.name for x in d.iterdir()) == before if d.exists() else not before
    _no_lock(ws)
    if target == "text-gnn":
        from rpcli.workspace.layout import Workspace

        assert list(Workspace(ws).llm_cache_dir.rglob("*.json")), "the outputs generated before the interruption are in the LLM cache"
    again = _in_process(tiny_data, ws, *args)
    assert again.exit_code == 0, again.output
    new = sorted(set(_entries(ws, kind)) - set(before))
    assert new == [again.stdout.strip()], (new, again.stdout)
    _verify_then_fix(tiny_data, ws, sig)
    if target == "text-gnn":
        from rpcli.workspace.layout import Workspace
        from rpcli.workspace.manifest import lookup_entry

        info = lookup_entry(Workspace(ws), new[0])["info"]
        assert info["cache_hits"] >= 1, info  # the rerun resumed from what was generated before


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["sigint", "sigkill"])
def test_interrupted_sweep_resumes_reusing_what_was_finished(tiny_data, tmp_path, sig):
    ws, marker = tmp_path / "ws", tmp_path / "paused"
    grid = tmp_path / "grid.yaml"
    grid.write_text(SWEEP)
    p = _start_group(tiny_data, ws, marker, "sweep", ["sweep", str(grid)])
    _wait_for(marker, p)
    _interrupt(p, sig)
    done = _entries(ws)
    assert len(done) == 1, "exactly the one artifact registered before the pause"
    _no_lock(ws)
    snapshot = tree_digest(ws / "graphs")
    again = _in_process(tiny_data, ws, "sweep", str(grid), "--json")
    assert again.exit_code == 0, again.output
    rows = json.loads(again.stdout)
    status = {x["id"]: x["status"] for x in rows}
    assert status[done[0]] == "reused" and all(s == "built" for i, s in status.items() if i != done[0]), status
    assert _entries(ws) == sorted(status), "every cell recorded once"
    assert tree_digest(ws / "graphs") == snapshot or not done[0].startswith("graph")
    record = json.loads((ws / "sweeps" / "tiny-int.json").read_text())
    assert {a["status"] for a in record["artifacts"]} <= {"built", "reused"}
    v = _in_process(tiny_data, ws, "ws", "verify", "--json")
    assert v.exit_code == 0 and json.loads(v.stdout)["ok"], v.output
