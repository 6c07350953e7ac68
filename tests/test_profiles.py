"""Profile methods: index, flat, emb-gnn (against propagation computed by hand), trainable; keep sets, .npz round
trips, the CLI commands. Everything here runs on the CPU in seconds (tiny dataset, hash:32 encoder)."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest
import torch

from rpcli.errors import ConfigError

EMB = {"K": 2, "norm": "sym", "normalize": False, "self_loops": False, "per_node_mean": False}
FLAT = {"top_k": 5, "seed": 42, "context": "random"}
SMALL = {"hidden": 16, "heads": 2, "layers": 2, "epochs": 4, "lr": 1e-3, "node_mask_rate": 0.3,
         "edge_mask_rate": 0.3, "edge_loss_w": 1.0, "out_dim": None, "select": "train-loss", "seed": 42}


def build(sess, method, opts, mode="standard", **kw):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, method, mode, opts, **kw)


def vectors(sess, entry):
    from rpcli.services.artifacts.profiles import load_profile_entry

    _, names, vecs = load_profile_entry(sess, entry["id"])
    return names, vecs


def pdir(sess, entry):
    return sess.workspace.artifact_dir(entry["id"])


# ---------------------------------------------------------------- index


def test_index_shape_determinism_and_original_draws(sess):
    e = build(sess, "index", {"seed": 56}).entry
    names, v = vectors(sess, e)
    assert names == ["m1", "m2", "m3"] and v.shape == (3, 32)
    torch.manual_seed(56)  # the original: global seed, then one randn(D) per model in order
    np.testing.assert_array_equal(v, np.stack([torch.randn(32).numpy() for _ in names]))
    assert build(sess, "index", {"seed": 56}, force=True).entry["id"] == e["id"]
    np.testing.assert_array_equal(vectors(sess, e)[1], v)
    assert not np.allclose(vectors(sess, build(sess, "index", {"seed": 1}).entry)[1], v)


# ---------------------------------------------------------------- flat


def test_flat_random_context_is_faithful(sess):
    from rpcli.services.artifacts.graphs import load_graph_entry

    e = build(sess, "flat", {**FLAT, "top_k": 1}).entry
    names, v = vectors(sess, e)
    assert names == ["m1", "m2", "m3"] and v.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    texts = json.loads((pdir(sess, e) / "flat_texts.json").read_text())
    assert list(texts) == names
    # The expected texts, drawn by hand: ONE Random(42) shared across models; per model, one architecture (of 2)
    # then one dataset (of 4: t_math, t_code, t_qa, lb in first-appearance order), from ALL nodes of the type.
    from tiny import FAMILIES, TASKS

    fam = [FAMILIES["FamA"], FAMILIES["FamB"]]
    tasks = [TASKS[t] for t in ("t_math", "t_code", "t_qa", "lb")]
    rng = random.Random(42)
    for m in names:
        a = rng.sample(range(2), 1)[0]
        d = rng.sample(range(4), 1)[0]
        own = f"{m} is a model of {'FamA' if m != 'm2' else 'FamB'} with its own strengths."
        assert texts[m] == f"[MODEL] {own}\n[ARCHITECTURE] {fam[a]}\n[DATASET] {tasks[d]}"
    # vectors = L2-normalised encodings of those texts
    enc = sess.encoder.encode([texts[m] for m in names])
    np.testing.assert_allclose(v, enc / np.linalg.norm(enc, axis=1, keepdims=True), atol=1e-6)
    # default top_k=5 > N: every node of each type appears once (2 families, 4 datasets)
    e5 = build(sess, "flat", FLAT).entry
    t5 = json.loads((pdir(sess, e5) / "flat_texts.json").read_text())
    for m in names:
        lines = t5[m].split("\n")
        assert lines[0].startswith("[MODEL] ") and len(lines) == 1 + 2 + 4
        assert sorted(x for x in lines if x.startswith("[ARCHITECTURE] ")) == sorted(f"[ARCHITECTURE] {f}"
                                                                                  for f in fam)
    assert e5["parents"] and load_graph_entry(sess, e5["parents"][0])[0]["params"]["kind"] == "task"


def test_flat_neighbours_context_uses_edges_and_scores(sess):
    e = build(sess, "flat", {**FLAT, "context": "neighbours"}).entry
    names, v = vectors(sess, e)
    assert v.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    texts = json.loads((pdir(sess, e) / "flat_texts.json").read_text())
    m2 = texts["m2"].split("\n")
    assert m2[0] == "[MODEL] m2 is a model of FamB with its own strengths."
    # m2's only family is FamB; its datasets are t_math 30, t_code 90, lb 40 (t_qa is null): all three, scored
    assert [x for x in m2 if x.startswith("[ARCH")] == ["[ARCHITECTURE] Family B: mixture-of-experts models tuned "
                                                        "for code."]
    assert sorted(x for x in m2 if x.startswith("[DATASET")) == sorted([
        "[DATASET (score: 30.00)] Arithmetic word problems that need multi-step calculation.",
        "[DATASET (score: 90.00)] Python programming problems checked by unit tests.",
        "[DATASET (score: 40.00)] A general leaderboard of instruction following."])
    assert len(texts["m1"].split("\n")) == 1 + 1 + 4
    # top_k=2 samples 2 of m1's 4 neighbours; seeded
    e2 = build(sess, "flat", {**FLAT, "context": "neighbours", "top_k": 2}).entry
    t2 = json.loads((pdir(sess, e2) / "flat_texts.json").read_text())
    assert sum(x.startswith("[DATASET (score: ") for x in t2["m1"].split("\n")) == 2
    again = build(sess, "flat", {**FLAT, "context": "neighbours", "top_k": 2}, force=True).entry
    assert json.loads((pdir(sess, again) / "flat_texts.json").read_text()) == t2
    # the random context differs from the neighbour context
    assert not np.allclose(vectors(sess, build(sess, "flat", FLAT).entry)[1], v)


def test_flat_determinism_and_seed(sess):
    a = vectors(sess, build(sess, "flat", {**FLAT, "top_k": 1}).entry)[1]
    b = vectors(sess, build(sess, "flat", {**FLAT, "top_k": 1}, force=True).entry)[1]
    np.testing.assert_array_equal(a, b)
    from rpcli.core.profiles.flat import flat_texts
    from rpcli.services.artifacts.graphs import build_graph_entry, load_graph_entry

    g = load_graph_entry(sess, build_graph_entry(sess, "task", "standard").entry["id"])[1]
    seeds = {tuple(flat_texts(g, ["m1", "m2", "m3"], top_k=1, seed=s)) for s in range(10)}
    assert len(seeds) > 1
    with pytest.raises(ValueError, match="context"):
        flat_texts(g, ["m1"], context="bogus")


# ---------------------------------------------------------------- emb-gnn by hand

S2 = 1 / math.sqrt(2)


def hand_graph():
    """5 nodes: architecture a0; models m0, m1; datasets d0, d1. x is 2-d.

    a0 -> m0 (m1 has no family); scores m0-d0 80, m0-d1 20, m1-d0 50 -> min-max a = 1, 0, 0.5 (both directions).
    """
    from rpcli.core.graph.store import GraphData

    t = torch.tensor
    x = {"architecture": t([[1.0, 0.0]]), "model": t([[0.0, 1.0], [1.0, 1.0]]),
         "dataset": t([[2.0, 1.0], [0.0, 2.0]])}
    ei = {("architecture", "arch_to_model", "model"): t([[0], [0]]),
          ("model", "model_to_arch", "architecture"): t([[0], [0]]),
          ("model", "model_to_dataset", "dataset"): t([[0, 0, 1], [0, 1, 0]]),
          ("dataset", "dataset_to_model", "model"): t([[0, 0, 1], [0, 1, 0]])}
    ea = {("model", "model_to_dataset", "dataset"): t([[80.0], [20.0], [50.0]]),
          ("dataset", "dataset_to_model", "model"): t([[80.0], [50.0], [20.0]])}
    return GraphData(node_types=["architecture", "model", "dataset"],
                     names={"architecture": ["a0"], "model": ["m0", "m1"], "dataset": ["d0", "d1"]},
                     texts={"architecture": ["A"], "model": ["M0", "M1"], "dataset": ["D0", "D1"]},
                     x=x, edge_index=ei, edge_attr=ea)


# K=1 model rows, R_model = 2 relations (arch_to_model, dataset_to_model). Incoming messages:
#   m0 <- a0 (deg_src 1, deg_dst 1, a 1), d0 (deg_src(d0) 2, deg_dst(m0) 2, a 1), d1 (a 0: contributes nothing)
#   m1 <- d0 (deg_src(d0) 2, deg_dst(m1) 1, a 0.5)
A0, D0 = np.array([1.0, 0.0]), np.array([2.0, 1.0])
HAND_K1 = {
    "sym": [(1 * A0 + 0.5 * D0) / 2, (S2 * 0.5 * D0) / 2],
    "right": [(1 * A0 + 0.5 * D0) / 2, (0.5 * 0.5 * D0) / 2],
    "left": [(1 * A0 + 0.5 * D0) / 2, (1 * 0.5 * D0) / 2],
    "none": [(1 * A0 + 1 * D0) / 2, (1 * 0.5 * D0) / 2],
}


@pytest.mark.parametrize("norm", ["sym", "right", "left", "none"])
def test_emb_gnn_one_hop_by_hand(norm):
    from rpcli.core.profiles.emb_gnn import emb_gnn_profile

    got = emb_gnn_profile(hand_graph(), ["m0", "m1"], K=1, norm=norm)
    np.testing.assert_allclose(got, np.stack(HAND_K1[norm]), atol=1e-6)
    # normalize: the same rows, L2-normalised
    gotn = emb_gnn_profile(hand_graph(), ["m1", "m0"], K=1, norm=norm, normalize=True)
    exp = np.stack(HAND_K1[norm][::-1])
    np.testing.assert_allclose(gotn, exp / np.linalg.norm(exp, axis=1, keepdims=True), atol=1e-6)


def test_emb_gnn_two_hops_by_hand():
    from rpcli.core.profiles.emb_gnn import emb_gnn_profile, propagate

    # H1 of the other types (sym): a0 <- m0 (degrees 1, 1): a0 = m0 = [0, 1] (one relation into architecture).
    # d0 <- m0 (deg_src(m0) 2, deg_dst(d0) 2, a 1) + m1 (deg_src 1, deg_dst 2, a 0.5); d1 <- m0 with a 0.
    a1 = np.array([0.0, 1.0])
    d0 = 0.5 * np.array([0.0, 1.0]) + S2 * 0.5 * np.array([1.0, 1.0])
    d1 = np.array([0.0, 0.0])
    g = hand_graph()
    h = propagate(g.x, g.edge_index, g.edge_attr, K=1, norm="sym")
    np.testing.assert_allclose(h["architecture"].numpy(), [a1], atol=1e-6)
    np.testing.assert_allclose(h["dataset"].numpy(), [d0, d1], atol=1e-6)
    m0 = (1 * a1 + 0.5 * d0 + 0.0 * d1) / 2
    m1 = (S2 * 0.5 * d0) / 2
    np.testing.assert_allclose(emb_gnn_profile(g, ["m0", "m1"], K=2, norm="sym"), [m0, m1], atol=1e-6)


def test_emb_gnn_self_loops_and_per_node_mean_by_hand():
    from rpcli.core.profiles.emb_gnn import emb_gnn_profile

    g = hand_graph()
    X0, X1 = np.array([0.0, 1.0]), np.array([1.0, 1.0])
    msg0, msg1 = 1 * A0 + 0.5 * D0, S2 * 0.5 * D0  # sums of incoming sym messages
    # self_loops: the own vector is one more term: divide by R_t + 1 = 3
    np.testing.assert_allclose(emb_gnn_profile(g, ["m0", "m1"], K=1, self_loops=True),
                               [(msg0 + X0) / 3, (msg1 + X1) / 3], atol=1e-6)
    # per_node_mean: m0 has edges in 2 relations, m1 only in dataset_to_model
    np.testing.assert_allclose(emb_gnn_profile(g, ["m0", "m1"], K=1, per_node_mean=True),
                               [msg0 / 2, msg1 / 1], atol=1e-6)
    np.testing.assert_allclose(emb_gnn_profile(g, ["m0", "m1"], K=1, self_loops=True, per_node_mean=True),
                               [(msg0 + X0) / 3, (msg1 + X1) / 2], atol=1e-6)
    # K=0 returns x untouched
    np.testing.assert_allclose(emb_gnn_profile(g, ["m1", "m0"], K=0), [X1, X0])
    with pytest.raises(ValueError, match="norm"):
        emb_gnn_profile(g, ["m0"], norm="rw")


def test_emb_gnn_k0_is_the_encoded_descriptions_and_deterministic(sess):
    e = build(sess, "emb-gnn", {**EMB, "K": 0}).entry
    names, v = vectors(sess, e)
    texts = [f"{m} is a model of {'FamB' if m == 'm2' else 'FamA'} with its own strengths." for m in names]
    np.testing.assert_allclose(v, sess.encoder.encode(texts), atol=1e-6)
    e2 = build(sess, "emb-gnn", EMB).entry
    a = vectors(sess, e2)[1]
    assert a.shape == (3, 32) and not np.allclose(a, v)
    np.testing.assert_array_equal(vectors(sess, build(sess, "emb-gnn", EMB, force=True).entry)[1], a)


# ---------------------------------------------------------------- trainable


def test_trainable_shapes_determinism_and_checkpoint(sess):
    from rpcli.core.profiles.trainable import load_checkpoint
    from rpcli.services.artifacts.graphs import load_graph_entry

    e = build(sess, "trainable", SMALL).entry
    names, v = vectors(sess, e)
    assert names == ["m1", "m2", "m3"] and v.shape == (3, 32)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    info = e["info"]
    assert len(info["loss_curve"]) == 4 and 1 <= info["best_epoch"] <= 4
    assert info["best_loss"] == pytest.approx(min(info["loss_curve"]), abs=1e-6)
    assert info["best_epoch"] == int(np.argmin(info["loss_curve"])) + 1
    again = build(sess, "trainable", SMALL, force=True).entry
    np.testing.assert_array_equal(vectors(sess, again)[1], v)
    assert again["info"]["loss_curve"] == info["loss_curve"]
    # a self-describing checkpoint, loadable with weights_only=True, that reproduces the vectors
    ck = torch.load(pdir(sess, e) / "ckpt.pt", weights_only=True)
    c = ck["config"]
    assert (c["in_dim"], c["hidden"], c["out_dim"], c["heads"], c["layers"], c["seed"]) == (32, 16, 32, 2, 2, 42)
    assert c["node_mask_rate"] == 0.3 and c["edge_mask_rate"] == 0.3 and ck["best_epoch"] == info["best_epoch"]
    assert c["metadata"]["node_types"] == ["architecture", "model", "dataset"]
    enc, _, _, _, _ = load_checkpoint(pdir(sess, e) / "ckpt.pt")
    g = load_graph_entry(sess, e["parents"][0])[1]
    enc.eval()
    with torch.no_grad():
        z = enc(g.x, g.edge_index)["model"][:3].numpy()
    np.testing.assert_allclose(z, v, atol=1e-6)
    # another seed, other vectors
    assert not np.allclose(vectors(sess, build(sess, "trainable", {**SMALL, "seed": 7}).entry)[1], v)


def test_trainable_loss_decreases(sess):
    # The masks change every epoch, so one epoch's loss is noisy; compare the means of the first and last 5 epochs
    # of the reconstruction objective alone (edge_loss_w=0 makes total = node loss).
    opts = {**SMALL, "epochs": 20, "lr": 1e-2, "node_mask_rate": 0.5, "edge_loss_w": 0.0}
    info = build(sess, "trainable", opts).entry["info"]
    curve = info["loss_curve"]
    assert info["node_loss_curve"] == curve
    assert np.mean(curve[-5:]) < 0.8 * np.mean(curve[:5])
    opts = {**SMALL, "epochs": 30, "lr": 1e-2}
    full = build(sess, "trainable", opts).entry["info"]
    assert np.mean(full["node_loss_curve"][-5:]) < np.mean(full["node_loss_curve"][:5])
    v = build(sess, "trainable", {**opts, "select": "val"}).entry["info"]
    assert len(v["val_curve"]) == 30 and min(v["val_curve"]) < v["val_curve"][0]
    assert v["best_epoch"] == int(np.argmin(v["val_curve"])) + 1
    assert v["val_set"]["nodes"]["model"] >= 1


def test_trainable_config_errors(sess):
    with pytest.raises(ConfigError, match="divide"):
        build(sess, "trainable", {**SMALL, "hidden": 10, "heads": 4})
    with pytest.raises(ConfigError, match="select"):
        build(sess, "trainable", {**SMALL, "select": "best"})
    from rpcli.workspace.manifest import load_manifest

    assert not [e for e in load_manifest(sess.workspace)["entries"].values() if e["kind"] == "profile"]


def test_trainable_other_out_dim_is_refused_by_sim(sess):
    from rpcli.services.artifacts.routes import run_router_entry

    e = build(sess, "trainable", {**SMALL, "out_dim": 8, "layers": 1}).entry
    assert vectors(sess, e)[1].shape == (3, 8) and e["info"]["out_dim"] == 8 and e["info"]["dim"] == 8
    with pytest.raises(ConfigError, match="8-d"):
        run_router_entry(sess, "sim", e["id"], "standard")


def test_trainable_progress_reports_epochs(sess):
    from rpcli.core.progress import RecordingProgress

    sess.progress = RecordingProgress()
    build(sess, "trainable", {**SMALL, "epochs": 3})
    ev = sess.progress.events
    assert ("task", "training HANConv") in ev
    assert sum(1 for k, _ in ev if k == "advance") >= 3
    assert any(k == "note" and str(m).startswith("epoch 003 loss ") for k, m in ev)


# ---------------------------------------------------------------- keep, npz round trip


def test_keep_sets(sess):
    assert build(sess, "emb-gnn", EMB, keep="all").entry["info"]["models"] == ["m1", "m2", "m3", "aux1"]
    e = build(sess, "flat", FLAT, keep="m2,m1").entry
    assert vectors(sess, e)[0] == ["m2", "m1"]
    assert build(sess, "trainable", SMALL, keep="aux1").entry["info"]["models"] == ["aux1"]
    with pytest.raises(ConfigError, match="nope"):
        build(sess, "flat", FLAT, keep="m1,nope")


def test_npz_round_trip_through_import(sess, tmp_path):
    from rpcli.core.profiles.store import PROFILE_FILE, save_profile
    from rpcli.services.artifacts.profiles import import_profile_entry

    e = build(sess, "flat", FLAT).entry
    names, v = vectors(sess, e)
    with np.load(pdir(sess, e) / PROFILE_FILE) as z:  # the original's format: one float32 array per model
        assert z.files == names and z["m1"].dtype == np.float32 and z["m1"].shape == (32,)
    imp = import_profile_entry(sess, pdir(sess, e) / PROFILE_FILE, "standard")
    assert imp.built and imp.entry["params"]["method"] == "imported"
    n2, v2 = vectors(sess, imp.entry)
    assert n2 == names
    np.testing.assert_array_equal(v2, v)
    assert not import_profile_entry(sess, pdir(sess, e) / PROFILE_FILE, "standard").built
    bad = tmp_path / "bad.npz"
    save_profile(bad, ["m1", "zz"], np.ones((2, 32)))
    with pytest.raises(ConfigError, match="zz"):
        import_profile_entry(sess, bad, "standard")


# ---------------------------------------------------------------- CLI


def test_cli_flat_and_trainable_print_ids(tiny_data):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    runner = CliRunner()
    base = ["-d", str(tiny_data), "--encoder", "hash:32"]
    r = runner.invoke(app, [*base, "profile", "flat", "--mode", "standard", "--top-k", "2", "--context",
                            "neighbours"])
    assert r.exit_code == 0, r.output
    pid = r.stdout.strip()
    assert pid.startswith("profile-") and "\n" not in pid
    t = runner.invoke(app, [*base, "profile", "trainable", "--epochs", "3", "--hidden", "8", "--heads", "2",
                            "--select", "val"])
    assert t.exit_code == 0, t.output
    tid = t.stdout.strip()
    assert tid.startswith("profile-") and "\n" not in tid and tid != pid
    s = runner.invoke(app, [*base, "profile", "show", tid, "--json"])
    assert json.loads(s.stdout)["params"]["select"] == "val"
    bad = runner.invoke(app, [*base, "profile", "trainable", "--epochs", "1", "--hidden", "10", "--heads", "3"])
    assert bad.exit_code == 1 and "divide" in bad.stderr and not bad.stdout
