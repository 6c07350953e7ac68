"""Multi-seed runs: every summarised scalar at the top level is the mean over seeds, with its sd recorded."""

from __future__ import annotations

import json

import pytest


def test_multi_seed_metrics_are_means(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    p = build_profile_entry(sess, "index", "newllm", {"seed": 56}).entry
    run = run_router_entry(sess, "mlp", p["id"], "newllm", {"epochs": 2}, seeds=[0, 1]).entry
    m = run["metrics"]
    per_seed = json.loads((sess.workspace.artifact_dir(run["id"]) / "metrics.json").read_text())["per_seed"]
    assert [r["seed"] for r in per_seed] == [0, 1]
    for key in ("avg_performance", "best_pick_rate", "gap_closed", "hit_rate"):
        vals = [r[key] for r in per_seed]
        assert m[key] == pytest.approx(sum(vals) / 2)
        assert m["seeds"][key]["n"] == 2
    csr = [r["newllm"]["cold_start_recall"]["value"] for r in per_seed]
    assert m["newllm"]["cold_start_recall"]["value"] == pytest.approx(sum(csr) / 2)
    assert m["detail_seed"] == 0
