"""Determinism (issue 13), end to end through the CLI: the same commands in two fresh workspaces give the same
ids and byte-identical files for graphs and training-free profiles (index, emb-gnn, flat, text-gnn with the
extractive backend), identical vectors for the trainable profile, and identical metrics for every router (sim,
and with a fixed seed on CPU mlp, graph, prior, knn). (Per-kind unit checks live in test_graphs, test_profiles and
test_routers; this one goes through the whole build-and-register path.)"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from rpcli.cli.main import app

runner = CliRunner()

STEPS = [
    ("graph", ["graph", "build", "task", "--mode", "standard"]),
    ("index", ["profile", "index", "--mode", "standard"]),
    ("emb-gnn", ["profile", "emb-gnn", "--mode", "standard", "--K", "2"]),
    ("flat", ["profile", "flat", "--mode", "standard"]),
    ("text-gnn", ["profile", "text-gnn", "--mode", "standard", "--K", "1", "--backend", "extractive"]),
    ("trainable", ["profile", "trainable", "--mode", "standard", "--epochs", "2", "--hidden", "16", "--heads", "2"]),
]
TRAINING_FREE = ("graph", "index", "emb-gnn", "flat", "text-gnn")
MLP = ["route", "mlp", "--mode", "standard", "--epochs", "2", "--hidden", "16", "--out-dim", "8", "--seeds", "0"]
ROUTES = [
    ("mlp", MLP),
    ("sim", ["route", "sim", "--mode", "standard"]),
    ("graph-router", ["route", "graph", "--mode", "standard", "--epochs", "2", "--hidden", "16", "--seeds", "0"]),
    ("prior", ["route", "prior", "--mode", "standard"]),
    ("knn", ["route", "knn", "--mode", "standard", "--seeds", "0"]),
]


def _pipeline(tiny, ws):
    base = ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q"]
    ids = {}
    for name, args in STEPS:
        r = runner.invoke(app, [*base, *args])
        assert r.exit_code == 0, r.output
        ids[name] = r.stdout.strip()
    for name, args in ROUTES:
        r = runner.invoke(app, [*base, *args, "--profile", ids["emb-gnn"]])
        assert r.exit_code == 0, (name, r.output)
        ids[name] = r.stdout.strip().splitlines()[-1]
    entries = json.loads((ws / "manifest.json").read_text())["entries"]
    return ids, entries


def test_same_commands_twice_give_identical_artifacts(tiny_data, tmp_path):
    ids1, e1 = _pipeline(tiny_data, tmp_path / "ws1")
    ids2, e2 = _pipeline(tiny_data, tmp_path / "ws2")
    assert ids1 == ids2
    for name in TRAINING_FREE:
        o1 = [(o["path"], o["sha256"]) for o in e1[ids1[name]]["outputs"]]
        o2 = [(o["path"], o["sha256"]) for o in e2[ids2[name]]["outputs"]]
        assert o1 and o1 == o2, f"{name}: files differ"
    import numpy as np

    from rpcli.core.profiles.store import PROFILE_FILE

    v1 = np.load(tmp_path / "ws1" / "profiles" / ids1["trainable"] / PROFILE_FILE)
    v2 = np.load(tmp_path / "ws2" / "profiles" / ids2["trainable"] / PROFILE_FILE)
    assert sorted(v1.files) == sorted(v2.files)
    for k in v1.files:
        np.testing.assert_array_equal(v1[k], v2[k], err_msg=f"trainable profile: {k} differs")

    def strip(m):  # wall-clock timings are the only thing allowed to differ
        if isinstance(m, dict):
            return {k: strip(v) for k, v in m.items()
                    if "seconds" not in k and "time" not in k and not k.endswith("_s") and "per_s" not in k}
        if isinstance(m, list):
            return [strip(v) for v in m]
        return m

    def diff(a, b, path=""):
        if isinstance(a, dict) and isinstance(b, dict):
            return [d for k in sorted(set(a) | set(b)) for d in diff(a.get(k), b.get(k), f"{path}.{k}")]
        if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]")]
        return [] if a == b else [f"{path}: {a!r} != {b!r}"]

    for name, _ in ROUTES:
        m1, m2 = e1[ids1[name]]["metrics"], e2[ids2[name]]["metrics"]
        assert m1 and not diff(strip(m1), strip(m2)), (name, diff(strip(m1), strip(m2)))
