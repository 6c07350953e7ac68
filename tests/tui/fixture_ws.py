"""A fixed, hand-written workspace for the dashboard tests: fixed ids, timestamps and metrics.

Shaped like the released data (8 candidates, 600 test rows, the dataset name "routeprofile", so the pivot shows the
published columns), but with 4 tasks of 150 rows to keep snapshots narrow. Reference values follow
docs/metrics.md; run metrics are invented but realistic (per_task, selection_share, newllm, cost_quality).

Standard runs (best first): graph/trainable(L=3) 0.6580 (beats the per-task best 0.6521), mlp/emb-gnn(K=2) 3 seeds
0.6301 ± 0.0040, sim/emb-gnn(K=2) 0.5612, sim/emb-gnn(K=2) on the task graph 0.5418, sim/index 0.4990.
newllm runs: graph/trainable(L=3) 0.6135 (cold-start 0.552), sim/emb-gnn(K=2) 0.5530 (cold-start 0.046).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

DATA_HASH = "d" * 64
OTHER_HASH = "e" * 64
T0 = "2025-01-15T10:00:00Z"
MODELS = ["qwen2.5-7b-instruct", "gemma-2-9b-it", "llama-3.1-8b-instruct", "mixtral-8x7b-instruct-v0.1",
          "mixtral-8x22b-instruct-v0.1", "llama-3.2-3b-instruct", "mistral-small-24b-instruct-2501-bf16",
          "llama-3.3-70b-instruct"]
NEW = "mistral-small-24b-instruct-2501-bf16"
TASKS = ["gsm8k", "human_eval", "mmlu", "trivia_qa"]
DATASET = {"name": "routeprofile", "root": "/data/routeprofile", "candidates": MODELS, "n_test_rows": 600,
           "data_hash": DATA_HASH}

# The label data `rp compare` hands the dashboard (shaped like rpcli.core.registry.label_defaults()): the option
# defaults of the fixture's routers (as the registry declares them) and profile methods (as `rp profile` does).
LABEL_DEFAULTS = {
    "routers": {
        "sim": {"query_text": "formatted"},
        "mlp": {"query_text": "formatted", "lr": 0.0001, "dropout": 0.1, "batch_size": 32, "val_split": 0.1,
                "epochs": 20, "hidden": 512, "out": 256, "layers": 2, "patience": 5},
        "graph": {"query_text": "formatted", "lr": 0.0001, "dropout": 0.1, "batch_size": 32, "val_split": 0.1,
                  "epochs": 100, "hidden": 256, "layers": 2, "heads": 4, "transductive": False, "labels": "pairs",
                  "patience": 0, "residual": False, "member_sample": 0},
        "prior": {"query_text": "formatted", "card_weight": 0.0, "ridge": 1.0, "cold_bonus": 0.0, "k": 0},
    },
    "profiles": {
        "index": {"seed": 56},
        "flat": {"top_k": 5, "seed": 42, "context": "random"},
        "text-gnn": {"K": 4, "top_k": 5, "score_aware": False, "query_similarity": False, "dedup_domains": False},
        "emb-gnn": {"K": 2, "norm": "sym", "normalize": False, "self_loops": False, "per_node_mean": False},
        "trainable": {"hidden": 256, "heads": 4, "layers": 2, "epochs": 100, "lr": 0.0001, "node_mask_rate": 0.3,
                      "edge_mask_rate": 0.3, "edge_loss_w": 1.0, "out_dim": None, "select": "train-loss",
                      "seed": 42},
    },
    "router_order": ["sim", "mlp", "graph", "prior"],
    "method_order": ["index", "flat", "text-gnn", "emb-gnn", "trainable"],
    "router_titles": {"sim": "Sim", "mlp": "MLP", "graph": "Graph"},
}

SINGLES = {  # (avg_performance, µ$/query), docs/metrics.md
    "qwen2.5-7b-instruct": (0.4988, 41.9), "gemma-2-9b-it": (0.5322, 20.9), "llama-3.1-8b-instruct": (0.5298, 58.8),
    "mixtral-8x7b-instruct-v0.1": (0.4755, 168.8), "mixtral-8x22b-instruct-v0.1": (0.5566, 326.3),
    "llama-3.2-3b-instruct": (0.4898, 15.6), "mistral-small-24b-instruct-2501-bf16": (0.6125, 60.1),
    "llama-3.3-70b-instruct": (0.6104, 280.4),
}


def _ref(name, perf, micro, mode, kind="reference", note="", **extra):
    return {"name": name, "kind": kind, "mode": mode, "avg_performance": perf, "avg_cost": micro / 1e6,
            "avg_cost_micro": micro, "note": note or f"the {name} reference", **extra}


def references() -> list[dict]:
    """Reference and single-model rows of both modes, as `rp compare` passes them to the app."""
    rows = []
    for mode in ("standard", "newllm"):
        rows += [_ref("oracle", 0.7574, 80.1, mode), _ref("oracle-cost-aware", 0.7574, 55.1, mode)]
        if mode == "newllm":
            rows.append(_ref("oracle-without-new", 0.7424, 84.0, mode))
        ptb = 0.6521 if mode == "standard" else 0.6304
        rows += [_ref("random", 0.5382, 121.6, mode), _ref("best-single (test)", 0.6125, 60.1, mode, model=NEW),
                 _ref("best-single (train)", 0.6104, 280.4, mode, model="llama-3.3-70b-instruct"),
                 _ref("per-task-oracle (test)", 0.6721, 176.6, mode),
                 _ref("per-task-best (train)", ptb, 143.8, mode),
                 _ref("per-task-best (profile scores)", 0.6554 if mode == "standard" else 0.6388, 185.8, mode)]
        rows += [_ref(m, p, c, mode, kind="single", note="always this model", model=m)
                 for m, (p, c) in SINGLES.items()]
    return rows


def _graph(gid, kind, mode):
    return {"id": gid, "kind": "graph", "key": gid.split("-")[1] * 6 + "0000", "params": {"kind": kind, "mode": mode},
            "parents": [], "data_hash": DATA_HASH, "created_at": T0, "duration_s": 1.5, "status": "done",
            "metrics": {}, "outputs": [{"path": f"graphs/{gid}/graph.pt", "sha256": "0" * 64, "bytes": 1000}]}


def _profile(pid, parent, mode, method, **params):
    return {"id": pid, "kind": "profile", "key": "1" * 64, "parents": [parent] if parent else [],
            "params": {"method": method, "mode": mode, "keep": "candidates", **params}, "data_hash": DATA_HASH,
            "created_at": T0, "duration_s": 0.8, "status": "done", "metrics": {},
            "outputs": [{"path": f"profiles/{pid}/profile.npz", "sha256": "0" * 64, "bytes": 3000}]}


def _per_task(base: float, spread: list[float], cost_micro: float) -> dict:
    return {t: {"n": 150, "avg_performance": round(base + d, 4), "hit_rate": round(min(1.0, base + d + 0.05), 4),
                "best_pick_rate": round(min(1.0, 0.6 + d), 4), "avg_cost": round((cost_micro + 10 * i) / 1e6, 9)}
            for i, (t, d) in enumerate(zip(TASKS, spread))}


def _share(weights: list[float]) -> dict:
    total = sum(weights)
    return {m: round(w / total, 4) for m, w in zip(MODELS, weights)}


def _run(rid, parent, mode, router, perf, micro, *, seeds=(0,), sd=None, spread=(0.1, -0.3, 0.05, 0.15),
         weights=(1, 1, 1, 1, 1, 1, 1, 1), newllm=None, curve=None, data_hash=DATA_HASH, minute=0):
    m = {"n_rows": 600, "avg_performance": perf, "avg_performance_ci95": [round(perf - 0.04, 4), round(perf + 0.04, 4)],
         "macro_avg_performance": perf, "per_task": _per_task(perf, list(spread), micro),
         "hit_rate": round(perf + 0.05, 4), "hit_rate_rp": round(perf + 0.25, 4), "best_pick_rate": round(perf + 0.2, 4),
         "n_best_pick_rows": 600, "best_pick_rate_discriminative": round(perf, 4), "n_discriminative": 275,
         "avg_cost": micro / 1e6, "avg_cost_micro": micro, "n_cost_missing": 0, "selection_share": _share(weights),
         "selection_entropy": 1.5, "oracle": 0.7574, "regret": round(0.7574 - perf, 4),
         "gap_closed": round((perf - 0.6104) / (0.7574 - 0.6104), 4), "n_missing": 0, "warnings": [],
         "bsm_reference": {"name": "best-single (train)", "avg_performance": 0.6104},
         "per_seed": [{"seed": s, "avg_performance": perf, "avg_cost": micro / 1e6} for s in seeds]}
    if sd is not None:
        m["seeds"] = {"avg_performance": {"mean": perf, "sd": sd, "n": len(seeds)}}
    if newllm is not None:
        m["newllm"] = newllm
    if curve is not None:
        m["cost_quality"] = {"points": curve, "pareto": curve}
    return {"id": rid, "kind": "run", "key": "2" * 64, "parents": [parent],
            "params": {"router": router, "mode": mode, "query_text": "formatted", "seeds": list(seeds)},
            "data_hash": data_hash, "data": {"root": "/data/routeprofile", "hash": data_hash, "keep_overlap": False},
            "encoder": {"id": "all-MiniLM-L6-v2-78c505bbed", "dim": 384, "kind": "transformers"},
            "created_at": f"2025-01-15T10:{minute:02d}:00Z", "duration_s": 2.5, "status": "done", "metrics": m,
            "info": {"models": MODELS, "held_out": [NEW] if mode == "newllm" else [], "n_test_rows": 600},
            "provenance": {"git_commit": "4bbc95de45cf", "git_dirty": False, "python": "3.11.7", "rp": "0.1.0"},
            "outputs": [{"path": f"runs/{rid}/metrics.json", "sha256": "0" * 64, "bytes": 8000},
                        {"path": f"runs/{rid}/predictions.jsonl", "sha256": "0" * 64, "bytes": 260000}]}


def _newllm(sel, csr_num, prec=0.88, without=0.52, gain=0.03):
    return {"model": NEW, "selection_rate": sel, "n_selected": round(sel * 600), "precision": prec,
            "precision_numerator": round(prec * sel * 600), "avg_performance_without_new": without,
            "gain_from_new": gain, "cold_start_recall": {"value": round(csr_num / 328, 4), "numerator": csr_num,
                                                         "denominator": 328},
            "cold_start_recall_strict": {"value": 0.3333, "numerator": 3, "denominator": 9}}


def _curve(points):
    return [{"lambda": lam, "avg_cost": c / 1e6, "avg_performance": p} for lam, c, p in points]


def manifest() -> dict:
    e = {}

    def add(x):
        e[x["id"]] = x

    add(_graph("graph-aaaaaaaaaa", "query-task-domain", "standard"))
    add(_graph("graph-bbbbbbbbbb", "task", "standard"))
    add(_graph("graph-cccccccccc", "query-task-domain", "newllm"))
    add(_profile("profile-1111111111", "graph-aaaaaaaaaa", "standard", "emb-gnn", K=2, norm="sym"))
    add(_profile("profile-2222222222", "graph-bbbbbbbbbb", "standard", "emb-gnn", K=2, norm="sym"))
    add(_profile("profile-3333333333", None, "standard", "index", seed=56))
    add(_profile("profile-4444444444", "graph-aaaaaaaaaa", "standard", "trainable", layers=3, hidden=256))
    add(_profile("profile-5555555555", "graph-cccccccccc", "newllm", "emb-gnn", K=2, norm="sym"))
    add(_profile("profile-6666666666", "graph-cccccccccc", "newllm", "trainable", layers=3, hidden=256))
    add(_run("run-a000000001", "profile-4444444444", "standard", "graph", 0.6580, 95.2,
             spread=(0.12, -0.25, 0.04, 0.1), weights=(2, 4, 1, 0.5, 1, 3, 9, 2), minute=1,
             curve=_curve([(0.0, 95.2, 0.6580), (200.0, 62.0, 0.6490), (800.0, 31.0, 0.5900),
                           (3000.0, 16.5, 0.5000)])))
    add(_run("run-a000000002", "profile-1111111111", "standard", "mlp", 0.6301, 120.4, seeds=(0, 1, 2), sd=0.0040,
             spread=(0.08, -0.28, 0.06, 0.14), weights=(1, 2, 1, 1, 2, 1, 6, 5), minute=2,
             curve=_curve([(0.0, 120.4, 0.6301), (300.0, 70.3, 0.6150), (1500.0, 25.0, 0.5400)])))
    add(_run("run-a000000003", "profile-1111111111", "standard", "sim", 0.5612, 88.0, minute=3,
             spread=(0.05, -0.35, 0.07, 0.2), weights=(3, 3, 2, 4, 1, 2, 3, 1)))
    add(_run("run-a000000004", "profile-2222222222", "standard", "sim", 0.5418, 110.8, minute=4,
             spread=(0.02, -0.36, 0.10, 0.22), weights=(2, 2, 2, 6, 1, 2, 2, 1)))
    add(_run("run-a000000005", "profile-3333333333", "standard", "sim", 0.4990, 126.0, minute=5,
             spread=(0.0, -0.4, 0.12, 0.25), weights=(1, 0, 1, 8, 0, 1, 0, 1)))
    add(_run("run-b000000001", "profile-6666666666", "newllm", "graph", 0.6135, 98.4, minute=6,
             spread=(0.1, -0.27, 0.05, 0.12), weights=(2, 3, 1, 1, 1, 3, 8, 2),
             newllm=_newllm(0.41, 181, without=0.5920, gain=0.0215)))
    add(_run("run-b000000002", "profile-5555555555", "newllm", "sim", 0.5530, 87.7, minute=7,
             spread=(0.05, -0.33, 0.08, 0.2), weights=(3, 3, 2, 4, 1, 2, 1, 1),
             newllm=_newllm(0.05, 15, without=0.5480, gain=0.005)))
    return {"schema": 1, "entries": e}


EXTRACTIVE_LLM = {"backend": "extractive", "model": "encoder:all-MiniLM-L6-v2-78c505bbed",
                  "sampling": {"own": 2, "neighbours": 4, "max_chars": 300, "version": 3}}
TRANSFORMERS_LLM = {"backend": "transformers", "model": "Qwen2.5-7B-Instruct-3f9a1c2b7d",
                    "sampling": {"max_tokens": 256, "temperature": 0.0, "seed": 0}}


def _text_gnn(pid, llm):
    """A text-gnn profile on the standard query-task-domain graph, with params as services/profiles records them."""
    return _profile(pid, "graph-aaaaaaaaaa", "standard", "text-gnn", K=2, top_k=5, score_aware=False,
                    query_similarity=False, dedup_domains=False, prompts_sha256="9" * 64, llm=llm)


def text_gnn_manifest() -> dict:
    """The fixture manifest plus two text-gnn(K=2) profiles, one per kind of backend, and three standard runs:
    sim on extractive 0.5700 and mlp on extractive 0.6300 (both above the paper's text-gnn K=2 values 0.549 and
    0.620, which an extractive run must never be set against), sim on transformers 0.5400."""
    doc = manifest()
    e = doc["entries"]
    for x in (_text_gnn("profile-7777777777", EXTRACTIVE_LLM), _text_gnn("profile-8888888888", TRANSFORMERS_LLM),
              _run("run-d000000001", "profile-7777777777", "standard", "sim", 0.5700, 90.0, minute=11),
              _run("run-d000000002", "profile-8888888888", "standard", "sim", 0.5400, 92.0, minute=12),
              _run("run-d000000003", "profile-7777777777", "standard", "mlp", 0.6300, 99.0, minute=13)):
        e[x["id"]] = x
    return doc


def other_data_run() -> dict:
    """A run evaluated on other data (hidden unless --allow-mixed)."""
    return _run("run-c000000001", "profile-1111111111", "standard", "sim", 0.7000, 50.0, data_hash=OTHER_HASH,
                minute=9)


def write_workspace(root: Path, doc: dict | None = None) -> Path:
    """Write the fixture manifest (or ``doc``) to ``root``/manifest.json and return ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    doc = copy.deepcopy(doc if doc is not None else manifest())
    (root / "manifest.json").write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return root
