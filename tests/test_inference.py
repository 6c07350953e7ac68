"""Routing new text with a recorded run: the loaded router reproduces the run's recorded test scores (sim, mlp,
graph inductive and transductive), the lambda rule reproduces the run's cost-quality curve, explanations, and
`rp route query` / `rp route batch` on a recorded run."""

from __future__ import annotations

import json

import numpy as np
import pytest

MLP_FAST = {"epochs": 3, "lr": 1e-2, "hidden": 16, "out": 8, "patience": 0}
GRAPH_FAST = {"epochs": 3, "lr": 1e-2, "hidden": 16, "heads": 2, "residual": True}


# tiny models: one intra-op thread is faster (and immune to a busy machine); the fixture is in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _profile(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]


def _run(sess, router, opts=None, seeds=None):
    from rpcli.services.artifacts.routes import run_router_entry

    return run_router_entry(sess, router, _profile(sess), "standard", opts or {}, seeds=seeds).entry


@pytest.mark.parametrize("router,opts,seeds", [
    ("sim", {}, None), ("mlp", MLP_FAST, [3, 4]), ("graph", GRAPH_FAST, None),
    ("graph", {**GRAPH_FAST, "transductive": True, "residual": False}, None)])
def test_loaded_router_reproduces_the_recorded_test_scores(sess, router, opts, seeds):
    from rpcli.core.routers.inference import load_router, recorded_scores
    from rpcli.core.routers.query_text import query_text
    from rpcli.services.artifacts.profiles import load_profile_entry
    from rpcli.services.artifacts.routes import training_signal

    run = _run(sess, router, opts, seeds)
    run_dir = sess.workspace.artifact_dir(run["id"])
    _, names, vecs = load_profile_entry(sess, run["parents"][0])
    sig = training_signal(sess, "standard", names, "formatted")
    test_vecs = sess.encoder.encode([query_text(r) for r in sess.dataset.test_rows])
    for seed in seeds or [0]:
        lr = load_router(run_dir, router=router, models=names, profile_vecs=vecs, seed=seed,
                         n_seeds=len(seeds or [0]), train=sig, train_vecs=sess.encoder.encode(sig.texts),
                         test_vecs=test_vecs)
        rec = recorded_scores(run_dir, names, seed, len(seeds or [0]))
        got = lr.scores(test_vecs)
        assert got.shape == (12, 3)
        np.testing.assert_allclose(got, rec, atol=2e-6)
        # one query at a time gives the same scores as the batch (an attached query never sees the others)
        np.testing.assert_allclose(lr.scores(test_vecs[5:6]), got[5:6], atol=1e-6)
        assert lr.check_predictions(test_vecs, rec) <= 2e-6
    if seeds:  # the seeds' routers differ, and each reproduces its own predictions only
        a = load_router(run_dir, router=router, models=names, profile_vecs=vecs, seed=seeds[0], n_seeds=2)
        with pytest.raises(Exception, match="does not reproduce"):
            a.check_predictions(test_vecs, recorded_scores(run_dir, names, seeds[1], 2))


def test_lambda_rule_reproduces_the_recorded_cost_quality_curve(sess):
    """At every lambda of the run's recorded curve, choosing with the run's refitted calibration and the test
    rows' true costs gives the recorded average performance and cost."""
    from rpcli.core.routers.evaluate import test_matrices
    from rpcli.core.routers.inference import rank
    from rpcli.services.serving.inference import load_run

    run = _run(sess, "mlp", MLP_FAST)
    rr = load_run(sess, run["id"])
    cq = run["metrics"]["cost_quality"]
    s, c, _ = test_matrices(sess.dataset, rr.models)
    raw = np.array([[p[m] for m in rr.models] for p in
                    (json.loads(x)["scores"] for x in
                     (sess.workspace.artifact_dir(run["id"]) / "predictions.jsonl").read_text().splitlines())])
    lo, hi = rr._test_range()
    assert len(cq["points"]) > 3
    rows = np.arange(len(raw))
    for p in cq["points"]:
        order, _ = rank(raw, rr.calibration(), c, p["lambda"], lo, hi)
        ch = order[:, 0]
        assert abs(np.nan_to_num(s)[rows, ch].mean() - p["avg_performance"]) < 1e-9
        assert abs(c[rows, ch].mean() - p["avg_cost"]) < 1e-12
    # lambda 0 keeps the router's own choices; a huge lambda picks the cheapest candidate (m1 on the tiny data)
    t = "compute 17 times 3"
    assert rr.route(t, lam=0.0) == rr.route(t)
    assert rr.route(t, lam=1e9) == "m1"


@pytest.mark.parametrize("router,opts", [("sim", {}), ("graph", GRAPH_FAST)])
def test_explain_names_scores_costs_and_neighbours(sess, router, opts):
    from rpcli.services.serving.inference import load_run

    run = _run(sess, router, opts)
    rr = load_run(sess, run["id"])
    ex = rr.explain("write a python function that sorts a dict", lam=0.0)
    assert ex["model"] == ex["ranking"][0] and set(ex["scores"]) == {"m1", "m2", "m3"}
    assert all(v is not None and v > 0 for v in ex["expected_cost"].values())
    # m1 is the cheapest (0.1/0.2 $ per Mtok), m2 the dearest (1/1)
    assert ex["expected_cost"]["m1"] < ex["expected_cost"]["m3"] < ex["expected_cost"]["m2"]
    near = ex["nearest_training_queries"]
    assert near[0]["query"] == "write a python function to sort a dict" and near[0]["task"] == "t_code"
    assert near[0]["best"] == ["m2"]
    assert ex["nearest_tasks"][0]["task"] in {"t_math", "t_code", "t_qa"}
    if router == "graph":
        assert set(ex["attention"]) == {"m1", "m2", "m3"} and 0 < sum(ex["attention"].values()) <= 1 + 1e-9
    else:
        assert "attention" not in ex


def test_load_run_refuses_another_encoder(sess, tmp_path, tiny_data):
    from rpcli.errors import ConfigError
    from rpcli.services.base import Session
    from rpcli.services.serving.inference import load_run

    run = _run(sess, "sim")
    other = Session(workspace=sess.workspace, data_root=tiny_data, encoder_spec="hash:16")
    with pytest.raises(ConfigError, match="encoder hash-32"):
        load_run(other, run["id"])
    # without --data and --encoder, the run's own are used
    rr = load_run(Session(workspace=sess.workspace), run["id"])
    assert rr.sess.encoder.id == "hash-32" and rr.check_diff <= 2e-6


# ------------------------------------------------------------------------------------------------ the CLI
def _cli(args, input=None):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    return CliRunner().invoke(app, args, input=input)


def test_cli_route_query_and_batch(sess, tmp_path):
    run = _run(sess, "mlp", MLP_FAST)
    r = _cli(["route", "query", "compute 17 times 3", "--run", run["id"]])
    assert r.exit_code == 0, r.output
    chosen = r.stdout.strip()
    assert chosen in {"m1", "m2", "m3"}
    from rpcli.services.serving.inference import load_run

    assert load_run(sess, run["id"]).route("compute 17 times 3") == chosen
    j = _cli(["route", "query", "compute 17 times 3", "--run", run["id"][:9], "--explain", "--json",
              "--lambda", "0"])
    assert j.exit_code == 0, j.output
    doc = json.loads(j.stdout)
    assert doc["model"] == chosen and doc["lambda"] == 0.0 and len(doc["nearest_training_queries"]) == 5
    t = _cli(["route", "query", "compute 17 times 3", "--run", run["id"], "--explain"])
    assert t.exit_code == 0 and "nearest training queries" in t.stdout and chosen in t.stdout
    bad = _cli(["route", "query", "x", "--run", "run-nope"])
    assert bad.exit_code == 1 and "no run matches" in bad.output and "Traceback" not in bad.output

    f = tmp_path / "q.jsonl"
    f.write_text('{"query": "compute 17 times 3"}\n"who wrote the novel war and peace"\n\n{"query": 3}\n'
                 '{"query": "implement binary search in python", "id": "x1"}\n{broken\nplain text line\n')
    b = _cli(["route", "batch", str(f), "--run", run["id"]])
    assert b.exit_code == 1, b.output
    lines = [json.loads(x) for x in b.stdout.splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 4, 5, 6, 7]
    assert lines[0]["model"] == chosen and "error" not in lines[0]
    assert "query" in lines[2]["error"] and "model" not in lines[2]
    assert lines[3]["id"] == "x1" and lines[3]["model"] in {"m1", "m2", "m3"}
    assert "JSON" in lines[4]["error"]
    assert lines[5]["model"] in {"m1", "m2", "m3"} and lines[5]["query"] == "plain text line"
    assert "2 of 6 lines failed" in b.stderr
    ok = tmp_path / "ok.jsonl"
    ok.write_text('"compute 17 times 3"\n')
    assert _cli(["route", "batch", str(ok), "--run", run["id"]]).exit_code == 0
    assert _cli(["route", "batch", str(tmp_path / "absent.jsonl"), "--run", run["id"]]).exit_code == 1


def test_cli_route_batch_bounds_each_line(sess, tmp_path, monkeypatch):
    """A line over RP_MAX_QUERY_CHARS is one error line (the rest of it is skipped, never held); the lines after it
    are still routed with their own line numbers."""
    run = _run(sess, "sim")
    monkeypatch.setenv("RP_MAX_QUERY_CHARS", "200")
    f = tmp_path / "long.jsonl"
    f.write_text('"compute 17 times 3"\n' + '{"query": "' + "x" * 300_000 + '"}\n' + '"who wrote war and peace"\n'
                 + "y" * 150 + "\n")
    b = _cli(["route", "batch", str(f), "--run", run["id"]])
    assert b.exit_code == 1, b.output
    lines = [json.loads(x) for x in b.stdout.splitlines()]
    assert [x["line"] for x in lines] == [1, 2, 3, 4]
    assert "model" in lines[0] and "model" in lines[2] and "model" in lines[3]
    assert "longer than the limit of 200 characters" in lines[1]["error"] and "model" not in lines[1]
    assert "1 of 4 lines failed" in b.stderr
