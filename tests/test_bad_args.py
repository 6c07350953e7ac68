"""Every bad argument ends in the one-panel error (exit 1 bad input, 3 workspace) or a usage error (exit 2), never a
traceback, and leaves the workspace as it was."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app

runner = CliRunner()


def _run(args):
    r = runner.invoke(app, args)
    assert not (r.exception and not isinstance(r.exception, SystemExit)), f"{type(r.exception).__name__}: {r.exception}"
    return r, " ".join(r.output.replace("│", " ").split())  # panel borders split long lines


@pytest.mark.parametrize("args,code,text", [
    (["data", "synth", "--candidates", "1"], 1, "(--candidates) must be at least 2"),
    (["data", "synth", "--models", "3", "--candidates", "5"], 1, "(--models) must be at least the number of candidates"),
    (["data", "synth", "--tasks", "99"], 1, "(--tasks) must be between 1 and"),
    (["data", "synth", "--noise", "inf"], 1, "(--noise)"),
    (["data", "synth", "--seed", "-1"], 1, "(--seed)"),
])
def test_synth_arguments(tmp_path, args, code, text):
    out = tmp_path / "syn"
    r, msg = _run([*args[:2], "--out", str(out), *args[2:]])
    assert r.exit_code == code and text in msg, msg
    assert not out.exists()


@pytest.mark.parametrize("args,code,text", [
    (["profile", "index", "--seed", "-1"], 2, "--seed"),
    (["profile", "trainable", "--seed", str(2**32), "--epochs", "1"], 2, "--seed"),
    (["profile", "trainable", "--edge-loss-w", "nan", "--epochs", "1"], 2, "--edge-loss-w must be a finite"),
    (["profile", "trainable", "--lr", "inf", "--epochs", "1"], 2, "--lr must be a finite"),
    (["profile", "text-gnn", "--K", "1", "--gpu-memory-utilization", "2"], 2, "--gpu-memory-utilization"),
    (["profile", "text-gnn", "--K", "1", "--device", "bogus"], 1, "is not a torch device"),
    (["route", "mlp", "--profile", "x", "--seeds", "-1"], 2, "--seeds must be between 0 and"),
    (["route", "graph", "--profile", "x", "--lr", "nan"], 2, "--lr must be a finite"),
    (["route", "mlp", "--profile", "x", "--device", "nonsense:0"], 1, "is not a torch device"),
    (["--device", "bogus", "graph", "build", "task"], 1, "is not a torch device"),
])
def test_bad_options_never_reach_the_core(tiny_data, tmp_path, args, code, text):
    ws = tmp_path / "wsb"
    r, msg = _run(["-w", str(ws), "-d", str(tiny_data), "--encoder", "hash:32", *args])
    assert r.exit_code == code and text in msg, msg
    assert not ws.exists()


def test_cuda_device_without_cuda_is_a_clean_error(tiny_data, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    r, msg = _run(["-w", str(tmp_path / "w"), "-d", str(tiny_data), "--device", "cuda:7", "profile", "index"])
    assert r.exit_code == 1 and "CUDA is not available" in msg


@pytest.mark.parametrize("cmd", [["ws", "init"], ["ls"], ["ws", "path"], ["graph", "build", "task"]])
def test_workspace_that_is_a_file(tmp_path, cmd):
    f = tmp_path / "ws.txt"
    f.write_text("not a workspace")
    r, msg = _run(["-w", str(f), "--encoder", "hash:32", *cmd])
    assert r.exit_code == 3 and "exists and is not a folder" in msg
    assert f.read_text() == "not a workspace"


def test_data_check_silences_progress_through_the_session(tiny_data, monkeypatch):
    """`rp data check` asks the session for a quiet progress (RichProgress(quiet=True): no bars on a terminal),
    instead of setting an attribute outside the Progress protocol."""
    from rpcli.cli import _progress

    made = []
    real = _progress.RichProgress.__init__

    def spy(self, quiet=False):
        made.append(quiet)
        real(self, quiet)

    monkeypatch.setattr(_progress.RichProgress, "__init__", spy)
    r, _ = _run(["-d", str(tiny_data), "data", "check", "--json"])
    assert r.exit_code == 0 and made == [True]
    made.clear()
    _run(["-d", str(tiny_data), "ws", "status"])
    assert made in ([], [False])  # other commands keep the global --quiet
