"""A hand-written workspace for `rp report`: fixed ids, timestamps and metrics, shaped like real manifest records.

Shaped like the released data (dataset name "routeprofile", 8 candidates, 600 test rows), so that --paper
compares. The run metrics are invented. What the tests rely on:

standard
- index (seed 56) / sim 0.5482                                      -> Table 1 index row
- flat (query-task-domain) / sim 0.5484                             -> Table 1 flat row
- emb-gnn K=2 (query-task-domain) / sim 0.5772; mlp seeds 0,1,2 0.6032 ± 0.0137 (and an older one-seed mlp run
  on the same profile that the 3-seed run supersedes); graph seed 0 0.5830; graph residual=true 0.5983 (a router
  variant: its own column, never compared)
- emb-gnn K=2 (query-task) / mlp seed 0 0.6250                      -> Table 2 (task + query) row
- emb-gnn K=2 (task) / sim 0.5202                                   -> no published cell
- text-gnn K=2 extractive (query-task-domain) / sim 0.5070, mlp 0.6320 -> shown apart, never compared
- text-gnn K=2 vllm (query-task-domain) / sim 0.5600                 -> compared with Table 1 text-gnn
- trainable 2 layers, profile seeds 0 and 1 / sim 0.5300 and 0.5400 -> one pooled cell, n=2
newllm
- emb-gnn K=2 / sim 0.5238 (cold-start 0.085), mlp seeds 0,1 0.5843 ± 0.0088 (cold-start 0.006 ± 0.006)
other data: one sim run (never reported)
sweep "demo": the query-task-domain graph, the emb-gnn K=2 profile, its sim and 3-seed mlp runs, the extractive
text-gnn mlp run, and one run not built yet (id null) -> 5 of 6 artifacts done.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

DATA_HASH = "d" * 64
OTHER_HASH = "e" * 64
MODELS = ["qwen2.5-7b-instruct", "gemma-2-9b-it", "llama-3.1-8b-instruct", "mixtral-8x7b-instruct-v0.1",
          "mixtral-8x22b-instruct-v0.1", "llama-3.2-3b-instruct", "mistral-small-24b-instruct-2501-bf16",
          "llama-3.3-70b-instruct"]
NEW = "mistral-small-24b-instruct-2501-bf16"
DATASET = {"name": "routeprofile", "root": "../shared/data/routeprofile", "hash": DATA_HASH, "candidates": MODELS,
           "n_test_rows": 600}
ENCODER = {"id": "all-MiniLM-L6-v2-8f41b9033a", "dim": 384, "kind": "transformers"}
ROUTER_DEFAULTS = {
    "sim": {"query_text": "formatted"},
    "mlp": {"query_text": "formatted", "epochs": 20, "hidden": 512, "lr": 0.0001, "patience": 5, "device": None},
    "graph": {"query_text": "formatted", "epochs": 100, "hidden": 256, "residual": False, "device": None},
}
# The profile methods' defaults as `rp profile` declares them (the CLI's option defaults).
PROFILE_DEFAULTS = {
    "index": {"seed": 56},
    "flat": {"top_k": 5, "seed": 42, "context": "random"},
    "text-gnn": {"K": 4, "top_k": 5, "score_aware": False, "query_similarity": False, "dedup_domains": False},
    "emb-gnn": {"K": 2, "norm": "sym", "normalize": False, "self_loops": False, "per_node_mean": False},
    "trainable": {"hidden": 256, "heads": 4, "layers": 2, "epochs": 100, "lr": 0.0001, "node_mask_rate": 0.3,
                  "edge_mask_rate": 0.3, "edge_loss_w": 1.0, "out_dim": None, "select": "train-loss", "seed": 42},
}
# Shaped like rpcli.core.registry.label_defaults(), as the services pass it to build_report.
LABEL_DEFAULTS = {"routers": ROUTER_DEFAULTS, "profiles": PROFILE_DEFAULTS, "router_order": ["sim", "mlp", "graph"],
                  "method_order": list(PROFILE_DEFAULTS), "router_titles": {"sim": "Sim", "mlp": "MLP",
                                                                            "graph": "Graph"}}
COMMAND = "rp -d ../shared/data/routeprofile report --paper"


def references() -> list[dict]:
    """Reference rows of both modes, as services.compare.compare_rows returns them (values from metrics.md)."""
    rows = []
    for mode in ("standard", "newllm"):
        def ref(name, perf, micro, note, **extra):
            rows.append({"name": name, "kind": "reference", "mode": mode, "avg_performance": perf,
                         "avg_cost": micro / 1e6, "avg_cost_micro": micro, "note": note, **extra})

        ref("oracle", 0.7574, 80.1, "per query the best model")
        ref("oracle-cost-aware", 0.7574, 55.1, "per query the cheapest of the tied best models")
        if mode == "newllm":
            ref("oracle-without-new", 0.7424, 84.0, f"oracle over the candidates without {NEW}")
        ref("random", 0.5382, 121.6, "analytic expectation of a uniform random pick")
        ref("best-single (test)", 0.6125, 60.1, "the single model that is best on the test rows", model=NEW)
        ref("best-single (train)", 0.6104, 280.4, "the single model with the best training signal",
            model="llama-3.3-70b-instruct")
        ref("per-task-oracle (test)", 0.6721, 176.6, "per task the single best model on the test rows")
        ref("per-task-best (train)", 0.6521 if mode == "standard" else 0.6304, 143.8,
            "per task the model with the best training signal")
        ref("per-task-best (profile scores)", 0.6554 if mode == "standard" else 0.6388, 185.8,
            "per task, the candidate with the best detailed_scores in the mode's model file")
        rows.append({"name": "llama-3.2-3b-instruct", "kind": "single", "mode": mode, "avg_performance": 0.4898,
                     "avg_cost_micro": 15.6, "note": "always this model", "model": "llama-3.2-3b-instruct"})
    return rows


def _out(path):
    return [{"path": path, "sha256": "0" * 64, "bytes": 1000}]


def _graph(gid, kind, mode):
    return {"id": gid, "kind": "graph", "key": "0" * 64, "status": "done", "parents": [], "data_hash": DATA_HASH,
            "params": {"kind": kind, "max_queries_per_task": None, "mode": mode}, "metrics": {},
            "created_at": "2026-11-20T10:00:00Z", "duration_s": 5.0, "outputs": _out(f"graphs/{gid}/graph.pt")}


def _profile(pid, parent, mode, method, **params):
    return {"id": pid, "kind": "profile", "key": "1" * 64, "status": "done", "parents": [parent] if parent else [],
            "data_hash": DATA_HASH, "params": {"method": method, "mode": mode, "keep": "candidates", **params},
            "metrics": {}, "created_at": "2026-11-20T10:01:00Z", "duration_s": 2.0,
            "outputs": _out(f"profiles/{pid}/profile.npz")}


EMB = {"norm": "sym", "normalize": False, "per_node_mean": False, "self_loops": False}
TRAIN = {"edge_loss_w": 1.0, "edge_mask_rate": 0.3, "epochs": 100, "heads": 4, "hidden": 256, "layers": 2,
         "lr": 0.0001, "node_mask_rate": 0.3, "out_dim": None, "select": "train-loss"}


def _text(K, backend, model=None):
    return {"K": K, "top_k": 5, "score_aware": False, "query_similarity": False, "dedup_domains": False,
            "prompts_sha256": "5" * 64, "llm": {"backend": backend, "model": model, "sampling": {}}}


def _newllm(csr, strict, sel, prec, gain):
    return {"model": NEW, "selection_rate": sel, "precision": prec, "gain_from_new": gain,
            "avg_performance_without_new": 0.55,
            "cold_start_recall": {"value": csr, "numerator": round(csr * 328), "denominator": 328},
            "cold_start_recall_strict": {"value": strict, "numerator": round(strict * 9), "denominator": 9}}


def _run(rid, parent, mode, router, perfs, micro, *, sd=None, opts=None, newllm=None, csr_seeds=None,
         data_hash=DATA_HASH, minute=0):
    seeds = list(range(len(perfs)))
    mean = round(sum(perfs) / len(perfs), 4)
    per_seed = [{"seed": s, "avg_performance": p, "avg_cost": micro / 1e6, "seconds": 2.0}
                for s, p in zip(seeds, perfs)]
    if csr_seeds is not None:
        for row, v in zip(per_seed, csr_seeds):
            row["cold_start_recall"] = v
    m = {"n_rows": 600, "avg_performance": mean, "avg_performance_ci95": [round(perfs[0] - 0.04, 4),
                                                                         round(perfs[0] + 0.04, 4)],
         "avg_cost": micro / 1e6, "avg_cost_micro": micro, "hit_rate": 0.8, "best_pick_rate": 0.6,
         "gap_closed": -0.1, "selection_entropy": 1.5, "per_seed": per_seed,
         "bsm_reference": {"name": "best-single (train)", "avg_performance": 0.6104}}
    if len(perfs) > 1:
        m["seeds"] = {"avg_performance": {"mean": mean, "sd": sd, "n": len(perfs)}}
        m["detail_seed"] = 0
    if newllm is not None:
        m["newllm"] = newllm
    params = {"router": router, "mode": mode, "query_text": "formatted", "seeds": seeds,
              **{k: v for k, v in ROUTER_DEFAULTS[router].items() if k != "query_text"}, **(opts or {})}
    return {"id": rid, "kind": "run", "key": "2" * 64, "status": "done", "parents": [parent], "params": params,
            "data_hash": data_hash, "data": {"root": "../shared/data/routeprofile", "hash": data_hash,
                                             "keep_overlap": False},
            "encoder": dict(ENCODER), "created_at": f"2026-11-20T11:{minute:02d}:00Z", "duration_s": 3.0,
            "metrics": m, "info": {"models": MODELS, "held_out": [NEW] if mode == "newllm" else [],
                                   "n_test_rows": 600},
            "provenance": {"git_commit": "22a72d8aaaaa", "git_dirty": False, "python": "3.11.7", "rp": "0.1.0"},
            "outputs": _out(f"runs/{rid}/metrics.json")}


def manifest() -> dict:
    e = {}

    def add(x):
        e[x["id"]] = x

    add(_graph("graph-a000000001", "query-task-domain", "standard"))
    add(_graph("graph-a000000002", "query-task", "standard"))
    add(_graph("graph-a000000003", "task", "standard"))
    add(_graph("graph-b000000001", "query-task-domain", "newllm"))
    add(_profile("profile-a000000001", None, "standard", "index", seed=56))
    add(_profile("profile-a000000002", "graph-a000000001", "standard", "flat", context="random", seed=42, top_k=5))
    add(_profile("profile-a000000003", "graph-a000000001", "standard", "emb-gnn", K=2, **EMB))
    add(_profile("profile-a000000004", "graph-a000000002", "standard", "emb-gnn", K=2, **EMB))
    add(_profile("profile-a000000005", "graph-a000000003", "standard", "emb-gnn", K=2, **EMB))
    add(_profile("profile-a000000006", "graph-a000000001", "standard", "text-gnn", **_text(2, "extractive")))
    add(_profile("profile-a000000007", "graph-a000000001", "standard", "text-gnn",
                 **_text(2, "vllm", "Qwen/Qwen2.5-7B-Instruct")))
    add(_profile("profile-a000000008", "graph-a000000001", "standard", "trainable", seed=0, **TRAIN))
    add(_profile("profile-a000000009", "graph-a000000001", "standard", "trainable", seed=1, **TRAIN))
    add(_profile("profile-b000000001", "graph-b000000001", "newllm", "emb-gnn", K=2, **EMB))

    add(_run("run-a000000001", "profile-a000000001", "standard", "sim", [0.5482], 125.3, minute=1))
    add(_run("run-a000000002", "profile-a000000002", "standard", "sim", [0.5484], 90.2, minute=2))
    add(_run("run-a000000003", "profile-a000000003", "standard", "sim", [0.5772], 83.5, minute=3))
    add(_run("run-a000000004", "profile-a000000003", "standard", "mlp", [0.6100, 0.6122, 0.5874], 89.8,
             sd=0.0137, minute=4))
    add(_run("run-a000000005", "profile-a000000003", "standard", "mlp", [0.6100], 90.0, minute=5))
    add(_run("run-a000000006", "profile-a000000003", "standard", "graph", [0.5830], 144.0, minute=6))
    add(_run("run-a000000007", "profile-a000000003", "standard", "graph", [0.5983], 88.4,
             opts={"residual": True}, minute=7))
    add(_run("run-a000000008", "profile-a000000004", "standard", "mlp", [0.6250], 95.0, minute=8))
    add(_run("run-a000000009", "profile-a000000005", "standard", "sim", [0.5202], 80.0, minute=9))
    add(_run("run-a000000010", "profile-a000000006", "standard", "sim", [0.5070], 70.0, minute=10))
    add(_run("run-a000000011", "profile-a000000006", "standard", "mlp", [0.6320, 0.6300, 0.6280], 99.0,
             sd=0.002, minute=11))
    add(_run("run-a000000012", "profile-a000000007", "standard", "sim", [0.5600], 75.0, minute=12))
    add(_run("run-a000000013", "profile-a000000008", "standard", "sim", [0.5300], 81.0, minute=13))
    add(_run("run-a000000014", "profile-a000000009", "standard", "sim", [0.5400], 82.0, minute=14))
    add(_run("run-b000000001", "profile-b000000001", "newllm", "sim", [0.5238], 85.6, minute=15,
             newllm=_newllm(0.085, 0.1111, 0.05, 0.8, 0.004), csr_seeds=[0.085]))
    add(_run("run-b000000002", "profile-b000000001", "newllm", "mlp", [0.5905, 0.5781], 130.3, sd=0.0088,
             minute=16, newllm=_newllm(0.006, 0.0, 0.01, 0.9, 0.001), csr_seeds=[0.0021, 0.0098]))
    add(_run("run-c000000001", "profile-a000000003", "standard", "sim", [0.7], 50.0, data_hash=OTHER_HASH,
             minute=17))
    return {"schema": 1, "entries": e}


def sweep_record(name: str = "demo") -> dict:
    arts = [{"id": "graph-a000000001", "kind": "graph", "status": "reused", "wall_s": 0.0, "params": {}},
            {"id": "profile-a000000003", "kind": "profile", "status": "reused", "wall_s": 0.0, "params": {}},
            {"id": "run-a000000003", "kind": "run", "status": "built", "wall_s": 2.0, "params": {}},
            {"id": "run-a000000004", "kind": "run", "status": "built", "wall_s": 9.0, "params": {}},
            {"id": "run-a000000011", "kind": "run", "status": "built", "wall_s": 9.0, "params": {}},
            {"id": None, "kind": "run", "status": "to-build", "wall_s": None, "params": {}}]
    return {"name": name, "file": f"sweeps/{name}.yaml", "yaml_sha256": "7" * 64,
            "started": "2026-11-20T11:00:00Z", "finished": "2026-11-20T11:20:34Z", "wall_s": 1234.5,
            "commit": "22a72d8aaaaa", "jobs": 2, "executor": "local",
            "data": {"root": "../shared/data/routeprofile", "hash": DATA_HASH}, "artifacts": arts,
            # an earlier invocation that built (interrupted) and a warm one that only reused
            "history": [{"wall_s": 600.0, "counts": {"built": 2, "to-build": 4}},
                        {"wall_s": 3.5, "counts": {"reused": 6}}]}


def write_workspace(root: Path, doc: dict | None = None, *, data_hash: str | None = None,
                    sweeps: dict | None = None) -> Path:
    """Write the fixture manifest (optionally with every DATA_HASH replaced by ``data_hash``) and sweep records."""
    doc = copy.deepcopy(doc if doc is not None else manifest())
    text = json.dumps(doc, indent=2, sort_keys=True)
    if data_hash:
        text = text.replace(DATA_HASH, data_hash)
    root.mkdir(parents=True, exist_ok=True)
    (root / "manifest.json").write_text(text + "\n", encoding="utf-8")
    for name, rec in (sweeps or {}).items():
        (root / "sweeps").mkdir(exist_ok=True)
        rtext = json.dumps(rec, indent=2, sort_keys=True)
        if data_hash:
            rtext = rtext.replace(DATA_HASH, data_hash)
        (root / "sweeps" / f"{name}.json").write_text(rtext + "\n", encoding="utf-8")
    return root
