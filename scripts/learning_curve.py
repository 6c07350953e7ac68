"""Learning curve of the routers over the amount of training signal (issue 16, docs/learning-curve.md).

Grouped cross-validation on the training queries only (never the test rows; rpcli.core.eval.cv): for each seed
(which deals the folds and draws the subsets) and each fraction, every fold's router is fitted on that fraction
of the *other* folds' training queries (drawn by query group) and judged on its whole fold by labeled top-1 (the
label of the top-ranked labeled model). Routers: the per-task prior (card weight 0: the rule of per-task-best
(train); card weight 1), the kNN router, the prior + residual router (fixed configurations, given below), and the
per-task oracle of the validation fold (per task, the candidates' win rates on the fold's own pairs: the best
any task-level router can do there; it does not depend on the fraction).

    .venv/bin/python scripts/learning_curve.py -d ../shared/data/routeprofile --workspace /tmp/ws \\
        --json lc.json --md docs/learning-curve.md

Deterministic: the seeds are recorded in the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _commit() -> str:
    from rpcli.workspace.provenance import commit_label

    return commit_label()


def mode_inputs(sess, mode: str, query_text: str = "formatted") -> dict:
    """The training signal, its embeddings, the cards and the routing tasks of a mode."""
    from rpcli.services.artifacts.routes import router_cards, training_signal

    ds = sess.dataset
    models = list(ds.candidates)
    sig = training_signal(sess, mode, models, query_text)
    vecs = sess.encoder.encode(sig.texts)
    cards, card_models = router_cards(ds, mode)
    routing = list(dict.fromkeys(r.task_name for r in ds.test_rows))
    return {"sig": sig, "vecs": np.asarray(vecs, dtype=np.float64), "cards": cards, "card_models": card_models,
            "models": models, "routing": routing}


def routers(inp: dict, knn_cfg: dict, l2: float, residual_cw: float) -> dict:
    """{name: (train_idx, val_idx) -> [n_val, K] scores}."""
    from rpcli.core.routers.knn import KNNConfig
    from rpcli.core.routers.knn import cv_score_fn as knn_cv
    from rpcli.core.routers.residual import ResidualConfig
    from rpcli.core.routers.residual import cv_score_fn as res_cv

    sig = inp["sig"]
    args = (inp["vecs"], sig.labels, sig.tasks, sig.pairs, inp["models"], inp["cards"], inp["card_models"],
            inp["routing"])
    out = {
        "prior (card 0)": knn_cv(*args, KNNConfig(k=0, card_weight=0.0)),
        "prior (card 1)": knn_cv(*args, KNNConfig(k=0, card_weight=1.0)),
    }
    # the query-level routers with the given card weight and with none (card scores are measured on the training
    # queries, so in CV they carry a little of each validation fold: the card-0 rows are free of that)
    for cw in dict.fromkeys([0.0, float(knn_cfg.get("card_weight", 0.0))]):
        kc = {**knn_cfg, "card_weight": cw}
        out["knn (" + ", ".join(f"{k} {v:g}" for k, v in kc.items()) + ")"] = knn_cv(*args, KNNConfig(**kc))
    for cw in dict.fromkeys([0.0, float(residual_cw)]):
        out[f"residual (l2 {l2:g}, card {cw:g})"] = res_cv(*args, ResidualConfig(l2=l2, card_weight=cw))
    return {k: (lambda f: (lambda tr, val: f(tr, val, None)))(f) for k, f in out.items()}


def task_oracle(inp: dict, val: np.ndarray) -> np.ndarray:
    """[n_val, K] per-task win rates on the validation fold's own pairs (the per-task oracle there)."""
    from rpcli.core.routers.ability import task_prior

    sig = inp["sig"]
    pos = np.full(len(sig), -1)
    pos[val] = np.arange(len(val))
    p = sig.pairs[np.isin(sig.pairs[:, 0], val)].copy()
    p[:, 0] = pos[p[:, 0]]
    vt = [sig.tasks[i] for i in val]
    pr = task_prior(p, vt, inp["models"], list(dict.fromkeys(vt)), None, [], 0.0, 1.0)
    return pr.rows(vt)


def curve(inp: dict, fractions, seeds, n_folds: int, knn_cfg: dict, l2: float, residual_cw: float) -> dict:
    from rpcli.core.eval.cv import group_folds, labeled_top1

    sig = inp["sig"]
    groups = list(sig.queries)
    fns = routers(inp, knn_cfg, l2, residual_cw)
    names = list(fns) + ["per-task oracle (validation fold)"]
    res = {n: {str(f): [] for f in fractions} for n in names}
    gains = {n: {str(f): [] for f in fractions} for n in names[1:]}
    for seed in seeds:
        folds = group_folds(groups, n_folds, seed)
        for fi, frac in enumerate(fractions):
            rng = np.random.default_rng([seed, fi])
            per = {n: [] for n in names}
            for val in folds:
                tr = np.setdiff1d(np.arange(len(sig)), val)
                if frac < 1.0:
                    g = list(dict.fromkeys(groups[i] for i in tr))
                    keep = set(rng.permutation(len(g))[:max(1, int(round(frac * len(g))))].tolist())
                    kg = {g[i] for i in keep}
                    tr = np.array([i for i in tr if groups[i] in kg], dtype=np.int64)
                L = sig.labels[val]
                for n, fn in fns.items():
                    per[n].append(labeled_top1(np.asarray(fn(tr, val)), L))
                per[names[-1]].append(labeled_top1(task_oracle(inp, val), L))
            v = {n: np.concatenate(per[n]) for n in names}
            base = v[names[0]]
            for n in names:
                res[n][str(frac)].append(float(np.nanmean(v[n])))
                if n != names[0]:
                    gains[n][str(frac)].append(float(np.nanmean(v[n] - base)))
    summary = {n: {f: {"mean": float(np.mean(x)), "sd": float(np.std(x)), "per_seed": x} for f, x in d.items()}
               for n, d in res.items()}
    gsum = {n: {f: {"mean": float(np.mean(x)), "sd": float(np.std(x))} for f, x in d.items()}
            for n, d in gains.items()}
    return {"top1": summary, "gain_vs_prior": gsum, "n_train_queries": len(sig),
            "n_labeled_pairs": int(len(sig.pairs)), "baseline": names[0]}


def markdown(doc: dict) -> str:
    fr = [str(f) for f in doc["fractions"]]
    lines = ["# Learning curve: CV score over the amount of training signal", "",
             "Generated by `scripts/learning_curve.py` (do not edit by hand).", "",
             f"- command: `{doc['command']}`", f"- commit: {doc['commit']}; encoder: {doc['encoder']}",
             f"- fixed configurations: kNN {doc['knn']}; residual l2 {doc['l2']:g} (card weight "
             f"{doc['residual_card_weight']:g} and 0)",
             f"- protocol: {doc['n_folds']}-fold grouped CV on the training queries only (folds dealt by each seed "
             f"{doc['seeds']}); each fold's router is fitted on a fraction of the other folds' queries (drawn by "
             "query, seeded) and scored on its whole fold by labeled top-1; mean ± sd over the seeds. "
             f"{doc['seconds']:.0f} s.",
             "- the per-task oracle row uses the validation fold's own pairs: the ceiling of any task-level router "
             "on those queries (not a router).",
             "- card scores are accuracies measured on the tasks' training queries, validation folds included: a "
             "card weight > 0 carries a little of each validation fold into its prior (the card-0 rows do not).",
             ""]
    for d in doc["datasets"]:
        lines += [f"## {d['label']}", "", f"Data: {d['data']} (hash {d['data_hash'][:12]}).", ""]
        lines += _mode_tables(d, fr)
    return "\n".join(lines)


def _mode_tables(doc: dict, fr: list) -> list:
    lines = []
    for mode, m in doc["modes"].items():
        lines += [f"### {mode} ({m['n_train_queries']} training queries, {m['n_labeled_pairs']} pairs)", "",
                  "| router | " + " | ".join(f"fraction {f}" for f in fr) + " |",
                  "|---|" + "---:|" * len(fr)]
        for n, d in m["top1"].items():
            lines.append(f"| {n} | " + " | ".join(f"{d[f]['mean']:.4f} ± {d[f]['sd']:.4f}" for f in fr) + " |")
        lines += ["", f"Gain over {m['baseline']} (same validation queries, mean ± sd over seeds):", "",
                  "| router | " + " | ".join(f"fraction {f}" for f in fr) + " |", "|---|" + "---:|" * len(fr)]
        for n, d in m["gain_vs_prior"].items():
            lines.append(f"| {n} | " + " | ".join(f"{d[f]['mean']:+.4f} ± {d[f]['sd']:.4f}" for f in fr) + " |")
        lines.append("")
    return lines


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-d", "--data", required=True, action="append", help="dataset folder (repeat for several)")
    ap.add_argument("--workspace", required=True, help="workspace whose embedding cache is used (and filled)")
    ap.add_argument("--encoder", default=None, help="encoder spec (default: the packaged default)")
    ap.add_argument("--modes", default="standard,newllm")
    ap.add_argument("--fractions", default="0.1,0.25,0.5,1.0")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--knn", default="k=10,temperature=0,prior_weight=8,card_weight=0",
                    help="the kNN configuration (k=...,temperature=...,prior_weight=...,card_weight=...)")
    ap.add_argument("--l2", type=float, default=0.1, help="the residual router's l2")
    ap.add_argument("--residual-card-weight", type=float, default=0.0)
    ap.add_argument("--json", required=True)
    ap.add_argument("--md", default=None)
    a = ap.parse_args(argv)
    from rpcli.services.base import Session
    from rpcli.workspace.layout import Workspace

    t0 = time.perf_counter()
    fractions = [float(x) for x in a.fractions.split(",")]
    seeds = [int(x) for x in a.seeds.split(",")]
    knn_cfg = {kv.split("=")[0]: (int(kv.split("=")[1]) if kv.split("=")[0] == "k" else float(kv.split("=")[1]))
               for kv in a.knn.split(",")}
    doc = {"command": "python scripts/learning_curve.py " + " ".join(argv if argv is not None else sys.argv[1:]),
           "commit": _commit(), "fractions": fractions, "seeds": seeds, "n_folds": a.folds, "knn": knn_cfg,
           "l2": a.l2, "residual_card_weight": a.residual_card_weight, "datasets": []}
    from rpcli.core.data import default_data_root

    for data in a.data:
        sess = Session(workspace=Workspace(Path(a.workspace)), data_root=Path(data), encoder_spec=a.encoder)
        demo = Path(data).resolve() == default_data_root().resolve()
        d = {"data": str(data), "label": "embedded demo" if demo else Path(data).resolve().name,
             "data_hash": sess.dataset.data_hash, "modes": {}}
        doc["encoder"] = sess.encoder.id
        for mode in a.modes.split(","):
            if mode not in sess.dataset.modes:
                continue
            inp = mode_inputs(sess, mode)
            d["modes"][mode] = curve(inp, fractions, seeds, a.folds, knn_cfg, a.l2, a.residual_card_weight)
            print(f"{data} {mode}: done at {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        doc["datasets"].append(d)
    doc["seconds"] = time.perf_counter() - t0
    Path(a.json).write_text(json.dumps(doc, indent=1) + "\n")
    if a.md:
        Path(a.md).write_text(markdown(doc))
    print(markdown(doc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
