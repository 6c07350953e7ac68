"""SimRouter on a case computed by hand, and the whole sim pipeline on the tiny dataset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from rpcli.core.routers.sim import sim_scores
from rpcli.errors import ConfigError


def test_sim_scores_by_hand():
    profiles = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    queries = np.array([[3.0, 0.0], [0.0, 1.0], [1.0, 1.0], [1.0, 0.9]])
    s = sim_scores(profiles, queries)
    r = 1 / np.sqrt(2)
    np.testing.assert_allclose(s, [[1, 0, r], [0, 1, r], [r, r, 1], [0.7432941, 0.6689647, 0.9986178]], atol=1e-6)
    assert list(np.argmax(s, axis=1)) == [0, 1, 2, 2]
    # ties go to the first model in profile order
    assert np.argmax(sim_scores(np.array([[1.0, 0], [1.0, 0]]), np.array([[1.0, 0]])), axis=1)[0] == 0


def test_sim_refuses_mismatched_dimensions():
    with pytest.raises(ConfigError, match="projects"):
        sim_scores(np.ones((3, 4)), np.ones((2, 5)))


def test_sim_pipeline_on_tiny(sess):
    from rpcli.services.profiles import build_profile_entry
    from rpcli.services.routes import run_router_entry

    p = build_profile_entry(sess, "emb-gnn", "standard", {"K": 0, "norm": "sym", "normalize": False,
                                                          "self_loops": False, "per_node_mean": False}).entry
    run = run_router_entry(sess, "sim", p["id"], "standard").entry
    m = run["metrics"]
    assert m["n_rows"] == 12 and 0.0 <= m["avg_performance"] <= 1.0
    assert m["oracle"] == 1.0  # every tiny test row has one winner scoring 1
    assert set(m["selection_share"]) == {"m1", "m2", "m3"}
    assert run["params"]["query_text"] == "formatted" and run["parents"] == [p["id"]]
    preds = (sess.workspace.artifact_dir(run["id"]) / "predictions.jsonl").read_text().splitlines()
    assert len(preds) == 12 and json.loads(preds[0])["model_name"] in {"m1", "m2", "m3"}
    again = run_router_entry(sess, "sim", p["id"], "standard")
    assert not again.built
    raw = run_router_entry(sess, "sim", p["id"], "standard", query_text="raw").entry
    assert raw["id"] != run["id"]


def test_newllm_sim_run_reports_new_model_metrics(sess):
    from rpcli.services.profiles import build_profile_entry
    from rpcli.services.routes import run_router_entry

    p = build_profile_entry(sess, "index", "newllm", {"seed": 56}).entry
    m = run_router_entry(sess, "sim", p["id"], "newllm").entry["metrics"]
    nl = m["newllm"]
    assert nl["model"] == "m3"
    # m3 is the best (score 1 > 0) exactly on the 4 t_qa rows.
    assert nl["cold_start_recall"]["denominator"] == 4


def test_mode_mismatch_is_refused(sess):
    from rpcli.services.profiles import build_profile_entry
    from rpcli.services.routes import run_router_entry

    p = build_profile_entry(sess, "index", "standard", {"seed": 1}).entry
    with pytest.raises(ConfigError, match="mode"):
        run_router_entry(sess, "sim", p["id"], "newllm")
