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


def test_sim_pipeline_on_tiny(sess, tmp_path):
    """An imported profile whose three vectors are identical: every cosine ties, so SimRouter picks the first model
    in profile order (m3) on every row. By hand (tests/tiny.py): m3 wins exactly the 4 t_qa rows of 12, so
    avg_performance = 4/12; m3 costs 0.5 $/M input (100 tokens) and 0.5 $/M output (10 + i tokens, i = 0..3 in
    each task), so avg_cost = (50 + 0.5 * 11.5) / 1e6 = 55.75 micro-dollars per query."""
    from rpcli.core.profiles.store import save_profile
    from rpcli.services.artifacts.profiles import import_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    f = tmp_path / "same.npz"
    save_profile(f, ["m3", "m1", "m2"], np.tile(np.linspace(-1.0, 1.0, sess.encoder.dim), (3, 1)))
    p = import_profile_entry(sess, f, "standard").entry
    run = run_router_entry(sess, "sim", p["id"], "standard").entry
    m = run["metrics"]
    assert m["n_rows"] == 12 and m["avg_performance"] == pytest.approx(4 / 12, abs=1e-12)
    assert m["avg_cost_micro"] == pytest.approx(55.75, abs=1e-9)
    assert m["selection_share"] == {"m3": 1.0, "m1": 0.0, "m2": 0.0}
    assert m["oracle"] == 1.0  # every tiny test row has one winner scoring 1
    assert run["params"]["query_text"] == "formatted" and run["parents"] == [p["id"]]
    preds = [json.loads(x) for x in (sess.workspace.artifact_dir(run["id"]) / "predictions.jsonl").read_text()
             .splitlines()]
    assert len(preds) == 12 and {r["model_name"] for r in preds} == {"m3"}
    again = run_router_entry(sess, "sim", p["id"], "standard")
    assert not again.built
    raw = run_router_entry(sess, "sim", p["id"], "standard", query_text="raw").entry
    assert raw["id"] != run["id"] and raw["metrics"]["avg_performance"] == m["avg_performance"]


def test_newllm_sim_run_reports_new_model_metrics(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    p = build_profile_entry(sess, "index", "newllm", {"seed": 56}).entry
    m = run_router_entry(sess, "sim", p["id"], "newllm").entry["metrics"]
    nl = m["newllm"]
    assert nl["model"] == "m3"
    # m3 is the best (score 1 > 0) exactly on the 4 t_qa rows.
    assert nl["cold_start_recall"]["denominator"] == 4


def test_mode_mismatch_is_refused(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    p = build_profile_entry(sess, "index", "standard", {"seed": 1}).entry
    with pytest.raises(ConfigError, match="mode"):
        run_router_entry(sess, "sim", p["id"], "newllm")
