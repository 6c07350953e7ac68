"""GraphRouter's recommended preset: how it resolves against the options a user sets, the model features it
uses, that the preset recorded in the code is the one scripts/graph_preset_cv.py chose, and that a recommended
run is recorded, labelled, and routes queries after loading exactly as it scored its test rows."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


# tiny models: one intra-op thread is faster (and immune to a busy machine); the fixture is in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def test_faithful_preset_changes_nothing():
    from rpcli.core.routers.graph import GraphConfig, apply_preset

    cfg = GraphConfig(hidden=32, lr=1e-2)
    assert apply_preset(cfg) == cfg
    assert apply_preset(GraphConfig()) == GraphConfig()


def test_recommended_preset_sets_its_options_and_keeps_the_users():
    from rpcli.core.routers.graph import GraphConfig, apply_preset
    from rpcli.core.routers.graph_preset import RECOMMENDED

    eff = apply_preset(GraphConfig(preset="recommended"))
    for k, v in RECOMMENDED.items():
        assert getattr(eff, k) == v, k
    # a value the user moved away from its faithful default wins over the preset's
    mine = apply_preset(GraphConfig(preset="recommended", hidden=16, epochs=7))
    assert (mine.hidden, mine.epochs) == (16, 7)
    assert mine.residual is True and mine.full_batch is True
    # idempotent: the recorded (effective) configuration resolves to itself
    assert apply_preset(eff) == eff


def test_unknown_preset_and_profile_norm_are_config_errors():
    from rpcli.core.routers.graph import GraphConfig, validate
    from rpcli.errors import ConfigError

    with pytest.raises(ConfigError, match="--preset"):
        validate(GraphConfig(preset="best"))
    with pytest.raises(ConfigError, match="--profile-norm"):
        validate(GraphConfig(profile_norm="l2"))


def test_zscore_model_features():
    from rpcli.core.routers.graph import model_features

    x = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 2.0], [5.0, 5.0, 2.0 + 1e-6]])
    raw = model_features(x, "raw")
    assert raw.dtype == np.float32 and np.allclose(raw, x)
    z = model_features(x, "zscore")
    assert np.allclose(z.mean(axis=0), 0.0, atol=1e-6)
    assert np.allclose(z[:, 0], [-1.2247449, 0.0, 1.2247449], atol=1e-6)
    assert np.all(z[:, 1] == 0.0)  # a constant dimension carries nothing
    # nearly parallel profiles become distinguishable
    base = np.ones(8)
    p = np.stack([base + 1e-3 * np.eye(8)[i] for i in range(3)])
    zp = model_features(p, "zscore")
    assert np.linalg.matrix_rank(zp) == 2 and np.abs(zp).max() > 0.5


def test_the_recorded_preset_is_the_one_cross_validation_chose():
    """docs/graph-preset-cv.json is written by scripts/graph_preset_cv.py; the preset in the code must be its
    choice (change both together: rerun the script)."""
    from rpcli.core.routers.graph_preset import RECOMMENDED

    path = ROOT / "docs" / "graph-preset-cv.json"
    rec = json.loads(path.read_text())
    assert rec["chosen_options"] == RECOMMENDED
    assert rec["chosen"] == max(rec["means"], key=lambda c: rec["means"][c])
    assert {r["dataset"] for r in rec["rows"]} >= {"released", "demo"} or not (
        ROOT.parent / "shared" / "data" / "routeprofile").is_dir()


def test_cv_script_chooses_by_the_mean_over_cells():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gcv", ROOT / "scripts" / "graph_preset_cv.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    names = list(mod.CANDIDATES)
    rows = [{"candidate": c, "top1": 0.5 + 0.01 * i + (0.1 if (c == names[1] and cell == 0) else 0.0),
             "cell": cell} for cell in range(3) for i, c in enumerate(names)]
    best, means = mod.choose(rows)
    assert best == max(names, key=lambda c: means[c])
    assert means[best] == max(means.values())


def test_recommended_run_records_labels_and_routes_after_loading(sess):
    from rpcli import api
    from rpcli.core.routers.graph_preset import RECOMMENDED
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    run = run_router_entry(sess, "graph", pid, "standard", {"preset": "recommended", "epochs": 20},
                           seeds=[0, 1]).entry
    assert run["params"]["preset"] == "recommended" and run["params"]["epochs"] == 20
    assert "full_batch" not in run["params"]  # late options enter the recipe only when set
    info = json.loads((sess.workspace.artifact_dir(run["id"]) / "metrics.json").read_text())["per_seed"][0]["train"]
    assert info["preset"] == "recommended" and info["config"]["epochs"] == 20
    assert info["config"]["hidden"] == RECOMMENDED["hidden"] and info["steps_per_epoch"] == 1
    from rpcli.core.registry import router

    assert router("graph").label(run["params"]) == "graph(epochs=20, preset=recommended)"
    # loading (what rp route query and rp serve do) scores the test rows as the run did
    lr = api.load_run(sess, run["id"], seed=1)
    from rpcli.core.routers.query_text import query_text as qt

    q = sess.encoder.encode([qt(r) for r in sess.dataset.test_rows])
    got = lr.loaded.scores(q)
    assert lr.check_diff is not None and lr.check_diff < 1e-5
    assert lr.decide(["what is 2 + 2?"])[0].model in lr.models
    preds = [json.loads(x) for x in (sess.workspace.artifact_dir(run["id"]) / "predictions.seed1.jsonl")
             .read_text().splitlines()]
    want = np.array([[p["scores"][m] for m in lr.models] for p in preds])
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_recommended_preset_with_zscore_loads_without_checkpoint_states(sess):
    """A checkpoint without saved model states (runs recorded before they were saved) recomputes them from the
    training graph with the same model features (profile_norm) the run trained with."""
    import torch

    from rpcli import api
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry

    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    run = run_router_entry(sess, "graph", pid, "standard",
                           {"preset": "recommended", "epochs": 10, "profile_norm": "zscore"}).entry
    d = sess.workspace.artifact_dir(run["id"])
    before = api.load_run(sess, run["id"])
    q = np.random.default_rng(0).standard_normal((4, before.loaded.query_dim)).astype(np.float32)
    s_ck = before.loaded.scores(q)
    ck = torch.load(d / "ckpt.pt", weights_only=True)
    assert ck["config"]["profile_norm"] == "zscore"
    ck.pop("model_states")
    torch.save(ck, d / "ckpt.pt")
    after = api.load_run(sess, run["id"], check=False)
    assert after.loaded.states_from == "training graph"
    np.testing.assert_allclose(after.loaded.scores(q), s_ck, atol=1e-5)


def test_rp_serve_routes_with_a_recommended_graph_run(sess, tmp_path):
    """rp serve's app on a recommended GraphRouter run: each request goes to the candidate the run ranks first."""
    pytest.importorskip("uvicorn")
    openai = pytest.importorskip("openai")
    from test_serve import Server, Upstream

    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.services.serving.inference import load_run
    from rpcli.services.serving.serve import create_app, read_endpoints

    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    run = run_router_entry(sess, "graph", pid, "standard", {"preset": "recommended", "epochs": 20}).entry
    rr = load_run(sess, run["id"])
    ups = {m: Upstream(m) for m in rr.models}
    eps_file = tmp_path / "endpoints.yaml"
    eps_file.write_text("models:\n" + "".join(f"  {m}:\n    base_url: {u.url}\n    model: served-{m}\n"
                                              for m, u in ups.items()))
    srv = Server(create_app(rr, read_endpoints(eps_file, rr.models), retries=1))
    try:
        client = openai.OpenAI(base_url=srv.url + "/v1", api_key="unused", max_retries=0, timeout=10)
        for text in ("compute 17 times 3", "who wrote hamlet", "write a python function"):
            want = rr.decide([text])[0].model
            raw = client.chat.completions.with_raw_response.create(
                model="rp", messages=[{"role": "user", "content": text}])
            assert raw.headers["x-rp-model"] == want
            assert raw.parse().choices[0].message.content == f"answer from served-{want}"
    finally:
        srv.close()
        for u in ups.values():
            u.close()
