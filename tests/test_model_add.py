"""rp model add: a new LLM joins a copy of the tiny dataset, and trained runs route to it without retraining."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.core.data.load import load_dataset
from rpcli.errors import DataFileError

CARD = """
name: newbie
description: "newbie is a fresh model from family C, strong at arithmetic word problems."
family: FamC
family_description: "Family C: a new family of dense models."
size: 14B
input_price: 0.3
output_price: 0.6
scores: {t_math: 90, lb: 65, newbench: 42}
task_descriptions: {newbench: "A benchmark the dataset did not know."}
"""


def _emb_profile(sess, mode="newllm"):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "emb-gnn", mode, {"K": 2, "norm": "sym", "normalize": False,
                                                       "self_loops": False, "per_node_mean": False}).entry["id"]


def _run(sess, router, pid, mode="newllm"):
    from rpcli.services.artifacts.routes import run_router_entry

    opts = {} if router == "sim" else {"epochs": 2, "hidden": 16, "batch_size": 4}
    if router == "mlp":
        opts["out"] = 8
    return run_router_entry(sess, router, pid, mode, opts).entry


def _preds(ws, run_id):
    return [json.loads(x) for x in (ws.artifact_dir(run_id) / "predictions.jsonl").read_text().splitlines()]


def test_model_add_copies_the_data_and_routes_trained_runs_without_retraining(sess, tmp_path):
    from rpcli.core.profiles.store import PROFILE_FILE, load_profile
    from rpcli.core.routers import graph as G
    from rpcli.core.routers import mlp
    from rpcli.core.routers.sim import sim_scores
    from rpcli.services.data.models import add_model

    pid = _emb_profile(sess)
    runs = {r: _run(sess, r, pid) for r in ("sim", "mlp", "graph")}
    src_hash = sess.dataset.data_hash
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    out = tmp_path / "plus"
    s = add_model(sess, card, out, runs=[e["id"] for e in runs.values()])

    # the copy: a new candidate, held out in newllm, its routing-task score hidden there, no pair names it
    ds = load_dataset(out)
    assert load_dataset(sess.dataset.root).data_hash == src_hash  # the source is untouched
    assert ds.candidates == ["m1", "m2", "m3", "newbie"] and s["new_models"] == ["newbie"]
    assert ds.held_out == ["m3", "newbie"] and s["data_hash"] == ds.data_hash != src_hash
    assert ds.modes["standard"].model("newbie").scores["t_math"] == 90
    assert ds.modes["newllm"].model("newbie").scores == {"t_math": None, "lb": 65, "newbench": 42}
    assert ds.families["FamC"].startswith("Family C") and ds.tasks["newbench"].startswith("A benchmark")
    assert all("newbie" not in (p.better, p.worse) for md in ds.modes.values() for p in md.pairs)
    assert all(r.scores["newbie"] is None for r in ds.test_rows)  # routable but unevaluated
    assert s["models"]["newbie"]["evaluated"] is False
    assert any("unevaluated" in w for w in s["warnings"])

    ws = sess.workspace
    by_router = {r["router"]: r for r in s["runs"]}
    assert all(r["status"] == "routed" for r in s["runs"]), s["runs"]
    from rpcli.services.base import Session

    new_sess = Session(workspace=ws, data_root=out, encoder_spec="hash:32")
    for router, old in runs.items():
        rec = by_router[router]
        new_entry = ws.artifact_dir(rec["new_run"])
        entry = next(e for e in json.loads((ws.root / "manifest.json").read_text())["entries"].values()
                     if e["id"] == rec["new_run"])
        # rebuilt through the manifest: new data hash, a new profile id (from a new graph id), nothing reused
        assert entry["data_hash"] == ds.data_hash and rec["new_profile"] != pid
        assert rec["avg_performance_before"] == old["metrics"]["avg_performance"]
        assert entry["params"]["rerouted_from"] == old["id"] and entry["parents"] == [rec["new_profile"], old["id"]]
        names, vecs = load_profile(ws.artifact_dir(rec["new_profile"]) / PROFILE_FILE)
        assert names == ds.candidates
        preds = _preds(ws, rec["new_run"])
        got = np.array([[p["scores"][m] for m in names] for p in preds])
        tv = new_sess.encoder.encode([r.formatted_query and (r.formatted_query["system"] + "\n\n"
                                      + r.formatted_query["user"]) or r.query for r in ds.test_rows])
        if router == "sim":
            want = sim_scores(vecs, tv)
        elif router == "mlp":
            old_model, old_ck = mlp.load_checkpoint(ws.artifact_dir(old["id"]) / "ckpt.pt")
            ck = torch.load(new_entry / "ckpt.pt", weights_only=True)
            assert all(torch.equal(ck["state_dict"][k], v) for k, v in old_ck["state_dict"].items())  # not retrained
            assert ck["rerouted_from"] == old["id"] and ck["trained_on_models"] == ["m1", "m2", "m3"]
            want = mlp.score(old_model, tv, vecs)
        else:
            _, old_ck = G.load_checkpoint(ws.artifact_dir(old["id"]) / "ckpt.pt")
            ck = torch.load(new_entry / "ckpt.pt", weights_only=True)
            assert all(torch.equal(ck["state_dict"][k], v) for k, v in old_ck["state_dict"].items())
            # the new node in the training graph: the re-routed checkpoint carries the states of the new candidate
            # set (4 models), not the old run's (3), and the re-routed run loads from them, reproducing its scores
            assert [h.shape[0] for h in ck["model_states"]] == [4] * 3
            assert [h.shape[0] for h in old_ck["model_states"]] == [3] * 3
            from rpcli.core.routers.inference import load_router
            from rpcli.errors import ConfigError
            from rpcli.services.serving.inference import load_run

            rr = load_run(new_sess, rec["new_run"])
            assert rr.loaded.states_from == "checkpoint" and rr.check_diff <= 2e-6 and rr.models == names
            with pytest.raises(ConfigError, match="trained on candidates"):  # only with new_candidates=True
                load_router(ws.artifact_dir(old["id"]), router="graph", models=names, profile_vecs=vecs)
            want = None
        assert np.isfinite(got).all() and got.shape == (len(ds.test_rows), 4)
        if want is not None:
            np.testing.assert_allclose(got, np.round(want, 6), atol=2e-6)
        # the new-LLM metrics: how often the new model is picked, consistent with the predictions
        m = entry["metrics"]
        picks = sum(p["model_name"] == "newbie" for p in preds)
        nb = m["newllm_by_model"]["newbie"]
        assert nb["n_selected"] == picks == rec["new_models"]["newbie"]["n_selected"]
        assert nb["selection_rate"] == pytest.approx(picks / len(preds))
        assert m["n_missing"] == picks  # a pick of the unevaluated model counts 0 and is reported
        assert nb["precision"] is None  # unevaluated: whether its picks were right is unknown, not 0
    # deterministic: the same card on the same data gives byte-identical data, so the same ids (reused)
    again = add_model(sess, card, tmp_path / "plus2", runs=[runs["sim"]["id"]])
    assert again["data_hash"] == s["data_hash"]
    assert again["runs"][0]["new_run"] == by_router["sim"]["new_run"] and again["runs"][0]["reused"] is True


def test_model_add_with_test_scores_evaluates_the_new_model(sess, tmp_path):
    from rpcli.services.data.models import add_model

    rows = sess.dataset.test_rows
    recs = [{"query": r.query, "task": r.task_name, "score": 1.0 if r.task_name == "t_math" else 0.0,
             "prompt_tokens": 90, "completion_tokens": 20} for r in rows]
    (tmp_path / "newbie_test.jsonl").write_text("".join(json.dumps(x) + "\n" for x in recs))
    card = tmp_path / "card.yaml"
    card.write_text(CARD + "test_scores: newbie_test.jsonl\n")
    s = add_model(sess, card, tmp_path / "plus")
    ds = load_dataset(tmp_path / "plus")
    assert s["models"]["newbie"]["evaluated"] is True and s["runs"] == []
    assert [r.scores["newbie"] for r in ds.test_rows] == [x["score"] for x in recs]
    assert all(r.input_tokens["newbie"] == 90 and r.output_tokens["newbie"] == 20 for r in ds.test_rows)
    # partly scored (and one record for no test row): partly evaluated, said so; the rest null, tokens estimated
    (tmp_path / "newbie_test.jsonl").write_text("".join(json.dumps(x) + "\n" for x in recs[:5])
                                                + json.dumps({"query": "not a test query", "score": 1}) + "\n")
    s = add_model(sess, card, tmp_path / "plus2")
    ds = load_dataset(tmp_path / "plus2")
    assert s["models"]["newbie"]["test_rows_scored"] == 5 and s["models"]["newbie"]["evaluated"] is False
    assert any("partly evaluated" in w for w in s["warnings"]) and any("match no test row" in w for w in s["warnings"])
    assert [r.scores["newbie"] for r in ds.test_rows[5:]] == [None] * (len(rows) - 5)
    assert [r.output_tokens["newbie"] for r in ds.test_rows[5:]] == [r.output_tokens["m2"] for r in ds.test_rows[5:]]


def test_model_add_refusals_say_why(sess, tmp_path):
    from rpcli.core.profiles.store import PROFILE_FILE
    from rpcli.services.data.models import add_model
    from rpcli.services.artifacts.profiles import import_profile_entry

    pid = _emb_profile(sess)
    npz = tmp_path / "p.npz"
    npz.write_bytes((sess.workspace.artifact_dir(pid) / PROFILE_FILE).read_bytes())
    imp = import_profile_entry(sess, npz, "newllm").entry["id"]
    run = _run(sess, "sim", imp)
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    s = add_model(sess, card, tmp_path / "plus", runs=[run["id"]])
    (r,) = s["runs"]
    assert r["status"] == "refused" and "imported" in r["reason"]
    # a name the dataset already uses, and a card without a name: named file, record, field; nothing written
    card.write_text(CARD.replace("name: newbie", "name: m2"))
    with pytest.raises(DataFileError, match="already a model") as ei:
        add_model(sess, card, tmp_path / "dup")
    assert "field 'name'" in str(ei.value) and not (tmp_path / "dup").exists()
    card.write_text("description: x\n")
    with pytest.raises(DataFileError, match="field 'name'"):
        add_model(sess, card, tmp_path / "noname")
    assert not (tmp_path / "noname").exists()


def test_cli_model_add_all_runs(tiny_data, tmp_path):
    runner = CliRunner()
    base = ["-d", str(tiny_data), "--encoder", "hash:32"]
    p = runner.invoke(app, [*base, "profile", "emb-gnn", "--mode", "standard"])
    assert p.exit_code == 0, p.output
    r = runner.invoke(app, [*base, "route", "sim", "--profile", p.stdout.strip(), "--mode", "standard"])
    assert r.exit_code == 0, r.output
    card = tmp_path / "card.yaml"
    card.write_text(CARD.replace("family_description", "#"))  # no family description: placeholder + warning
    out = tmp_path / "plus"
    a = runner.invoke(app, [*base, "model", "add", str(card), "--out", str(out), "--all-runs"])
    assert a.exit_code == 0, a.output
    lines = a.stdout.split()
    assert lines[0] == str(out.resolve()) and lines[1].startswith("run-") and len(lines) == 2
    assert "without retraining" in a.stderr and "newbie picked on" in a.stderr and "of the test rows" in a.stderr
    c = runner.invoke(app, ["-d", str(out), "data", "check", "--json"])
    assert json.loads(c.stdout)["placeholder_descriptions"] == {"family": ["FamC"]}
    cmp = runner.invoke(app, ["-d", str(out), "--encoder", "hash:32", "compare", "--plain", "--mode", "standard"])
    assert cmp.exit_code == 0 and lines[1] in cmp.stdout


@pytest.mark.parametrize("router", ["sim", "mlp", "graph"])
def test_rerouting_on_unchanged_data_reproduces_the_trained_scores(sess, router):
    """The re-scoring rebuilds each router exactly (graph: its training graph, members and attached queries)."""
    from rpcli.services.data.models import reroute_run

    pid = _emb_profile(sess)
    old = _run(sess, router, pid)
    rec = reroute_run(sess, sess, old["id"], [])
    assert rec["status"] == "routed" and rec["new_profile"] == pid and rec["new_run"] != old["id"]
    a, b = _preds(sess.workspace, old["id"]), _preds(sess.workspace, rec["new_run"])
    assert [p["model_name"] for p in a] == [p["model_name"] for p in b]
    for p, q in zip(a, b):
        assert p["scores"].keys() == q["scores"].keys()
        assert all(abs(p["scores"][m] - q["scores"][m]) <= 2e-6 for m in p["scores"])


@pytest.mark.parametrize("router", ["prior", "knn"])
def test_model_add_refits_the_routers_that_reach_a_new_model_through_its_card(sess, tmp_path, router):
    """prior/knn (and any router refitted at load: caps.new_model == "refit") take the new model without training
    a network: refitted on the new data with the run's recorded configuration, they reach it through its card."""
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.services.data.models import add_model

    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    old = run_router_entry(sess, router, pid, "standard", {"card_weight": 1.0}).entry
    card = tmp_path / "card.yaml"
    card.write_text(CARD)
    s = add_model(sess, card, tmp_path / "plus", runs=[old["id"]])
    (rec,) = s["runs"]
    assert rec["status"] == "routed", rec
    from rpcli.workspace.manifest import get_entry

    new = get_entry(sess.workspace, rec["new_run"], kind="run")
    train = new["metrics"].get("train") or {}
    assert train.get("retrained") is False and train.get("refitted") is True
    assert train["config"]["card_weight"] == 1.0  # the run's recorded configuration, not the defaults
    preds = _preds(sess.workspace, rec["new_run"])
    assert all("newbie" in p["scores"] for p in preds)
    # newbie's card (t_math 90, above every other candidate's) makes it the choice on t_math rows
    chosen = [p["task_name"] for p in preds if p["model_name"] == "newbie"]
    assert chosen and set(chosen) == {"t_math"}, chosen
