"""The recorded run and the upstreams the rp serve tests route with (tests/test_serve*.py): an mlp run on the tiny data (hash:32
encoder), loaded to route."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path


def recorded_mlp_run(root: Path):
    """Build the tiny dataset, an index profile and a small mlp run under `root`, and load the run to route."""
    import torch
    from tiny import write_tiny

    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.services.base import Session
    from rpcli.services.serving.inference import load_run
    from rpcli.workspace.layout import Workspace

    torch.set_num_threads(1)
    sess = Session(workspace=Workspace(root / "ws"), data_root=write_tiny(root / "tiny"), encoder_spec="hash:32")
    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    run = run_router_entry(sess, "mlp", pid, "standard", {"epochs": 3, "lr": 1e-2, "hidden": 16, "out": 8}).entry
    return load_run(sess, run["id"])


@contextmanager
def running_upstreams(models):
    """tests/test_serve.py's loopback upstreams, one per model, closed afterwards."""
    from test_serve import Upstream

    u = {m: Upstream(m) for m in models}
    try:
        yield u
    finally:
        for x in u.values():
            x.close()
