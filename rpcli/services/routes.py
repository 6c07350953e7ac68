"""rp route: run a router on a profile, evaluate it on the test rows, record the run.

Routers register a function (sess, ctx, opts, seed, out_dir) -> (router_scores [N, K], info) or
(router_scores [N, K], info, train_scores [Q, K]), where train_scores are the router's scores on the training
queries of `ctx.train` (same rows, same columns). The shared code here resolves the profile, builds the mode's
training signal (asserting it never mentions a held-out model), encodes queries once (through the cache),
evaluates with the metrics library, traces the cost-quality curve and writes predictions + metrics.json.

Cost-quality curve (every router, sim included): the router's scores are calibrated into expected quality on the
training queries (isotonic fit of score -> quality target, the target being 1 for the best models of a query and
0 for beaten ones, unlabeled models skipped), the map is applied to the test scores (ties broken by the raw score,
so lambda = 0 reproduces the router's own choices), and lambda is swept over argmax [quality - lambda * cost].
Stored per seed under metrics["cost_quality"]: the points, their Pareto front, AIQ over the candidates' single-model
cost range (and the same for the single models alone), and the lowest cost at which the curve reaches the best
single model (chosen on the training signal; also the hindsight one, best on the test rows).
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError, RpError, TrainingDataError
from rpcli.services.base import BuildResult, Session, build_artifact, check_modes, check_same_data


@dataclass(frozen=True)
class RouterSpec:
    name: str
    trainable: bool
    run: Callable  # (sess, ctx: RouteContext, opts, seed, out_dir) -> (router_scores [N, K], info[, train_scores])
    defaults: dict = field(default_factory=dict)  # every option the router accepts, with its default


@dataclass
class RouteContext:
    mode: str
    profile_entry: dict
    models: list  # profile key order = candidate order (argmax ties)
    profile_vecs: np.ndarray  # [K, D]
    query_text: str
    test_texts: list  # [N]
    train: object = None  # TrainingSignal of the mode (None when the mode has no training file)
    held_out: list = field(default_factory=list)
    seeds: list = field(default_factory=lambda: [0])
    _cache: dict = field(default_factory=dict)

    def seed_file(self, name: str, seed: int) -> str:
        """`name` for a single-seed run, `stem.seed{seed}.ext` when the run has several seeds."""
        if len(self.seeds) == 1:
            return name
        stem, dot, ext = name.rpartition(".")
        return f"{stem}.seed{seed}.{ext}" if dot else f"{name}.seed{seed}"

    def test_vecs(self, sess) -> np.ndarray:
        if "test" not in self._cache:
            self._cache["test"] = sess.encoder.encode(self.test_texts, progress=sess.progress,
                                                      description="encoding test queries:")
        return self._cache["test"]

    def train_vecs(self, sess) -> np.ndarray:
        if "train" not in self._cache:
            self._cache["train"] = sess.encoder.encode(self.train.texts, progress=sess.progress,
                                                       description="encoding training queries:")
        return self._cache["train"]


ROUTERS: dict[str, RouterSpec] = {}


def register_router(spec: RouterSpec) -> None:
    ROUTERS[spec.name] = spec


# ----------------------------------------------------------------------------------------------------------------
# routers
# ----------------------------------------------------------------------------------------------------------------


def _sim(sess, ctx: RouteContext, opts, seed, out_dir):
    from rpcli.core.routers.sim import sim_scores

    test = sim_scores(ctx.profile_vecs, ctx.test_vecs(sess))
    if ctx.train is None or len(ctx.train) == 0:
        return test, {}
    return test, {}, sim_scores(ctx.profile_vecs, ctx.train_vecs(sess))


def _device(opts) -> str:
    return opts.get("device") or "cpu"


def _ckpt_meta(sess, ctx: RouteContext, router: str) -> dict:
    return {"router": router, "profile_id": ctx.profile_entry["id"], "mode": ctx.mode, "query_text": ctx.query_text,
            "encoder_id": sess.encoder.id, "held_out": list(ctx.held_out), "label_source": ctx.train.source}


def _mlp(sess, ctx: RouteContext, opts, seed, out_dir):
    import torch

    from rpcli.core.routers import mlp

    cfg = mlp.MLPConfig(**{k: opts[k] for k in mlp.MLPConfig.__dataclass_fields__ if k in opts})
    qv, tv = ctx.train_vecs(sess), ctx.test_vecs(sess)
    dev = _device(opts)
    model, ckpt, info = mlp.train_mlp(ctx.train, qv, ctx.profile_vecs, cfg, seed, device=dev, progress=sess.progress)
    name = ctx.seed_file("ckpt.pt", seed)
    torch.save({**ckpt, **_ckpt_meta(sess, ctx, "mlp")}, Path(out_dir) / name)
    test = mlp.score(model, tv, ctx.profile_vecs, device=dev)
    train = mlp.score(model, qv, ctx.profile_vecs, device=dev)
    return test, {**info, "checkpoint": name}, train


def _graph(sess, ctx: RouteContext, opts, seed, out_dir):
    import torch

    from rpcli.core.routers import graph

    cfg = graph.GraphConfig(**{k: opts[k] for k in graph.GraphConfig.__dataclass_fields__ if k in opts})
    dev = _device(opts)
    test, train, ckpt, info = graph.train_graph(ctx.train, ctx.train_vecs(sess), ctx.test_vecs(sess),
                                                ctx.profile_vecs, cfg, seed, device=dev, progress=sess.progress)
    name = ctx.seed_file("ckpt.pt", seed)
    torch.save({**ckpt, **_ckpt_meta(sess, ctx, "graph")}, Path(out_dir) / name)
    return test, {**info, "checkpoint": name}, train


_COMMON = {"epochs": None, "lr": 1e-4, "hidden": None, "batch_size": 32, "dropout": 0.1, "val_split": 0.1,
           "device": None}
register_router(RouterSpec("sim", trainable=False, run=_sim))
register_router(RouterSpec("mlp", trainable=True, run=_mlp,
                           defaults={**_COMMON, "epochs": 20, "hidden": 512, "out": 256, "layers": 2, "patience": 5}))
register_router(RouterSpec("graph", trainable=True, run=_graph,
                           defaults={**_COMMON, "epochs": 100, "hidden": 256, "layers": 2, "heads": 4,
                                     "transductive": False, "labels": "pairs", "patience": 0, "residual": False}))


# ----------------------------------------------------------------------------------------------------------------
# training signal, cost-quality curve
# ----------------------------------------------------------------------------------------------------------------


def training_signal(sess: Session, mode: str, models: list[str], query_text: str, labels: str = "pairs"):
    """The mode's training signal over `models` (None when the mode has no pairwise file and labels="pairs").
    Raises TrainingDataError when it mentions a held-out model of the mode."""
    from rpcli.core.routers import training as T

    ds = sess.dataset
    md = ds.mode(mode)
    if labels == "scores":
        rows = T.read_score_rows(ds.root)
        exclude = frozenset() if ds.keep_overlap else frozenset(r.query for r in ds.test_rows)
        return T.from_score_rows(rows, models, md.held_out, mode, query_text, exclude_queries=exclude)
    if labels != "pairs":
        raise ConfigError(f"--labels must be one of {', '.join(T.LABEL_SOURCES)}")
    if not md.has_pairs_file:
        return None
    return T.from_pairs(md.pairs, models, md.held_out, mode, query_text)


def cost_quality(train_scores, sig, test_scores, s, c, models, bsm_performance, bsm_test_performance=None) -> dict:
    """Calibrate on the training queries, apply to the test scores, sweep lambda; see the module docstring."""
    from rpcli.core.eval import metrics as M

    train_scores = np.asarray(train_scores, dtype=np.float64)
    if train_scores.shape != sig.quality.shape:
        raise ValueError(f"training scores {train_scores.shape} do not match the training signal "
                         f"{sig.quality.shape}")
    cal = M.fit_calibration(train_scores, sig.quality)
    raw = np.asarray(test_scores, dtype=np.float64)
    pred = M.apply_calibration(cal, raw)
    lo, hi = np.nanmin(raw), np.nanmax(raw)
    if hi > lo:
        pred = pred + 1e-6 * (raw - lo) / (hi - lo)  # ties of the calibrated map follow the raw score
    curve = M.cost_quality_curve(pred, s, c)
    for p in curve:
        p["avg_cost_micro"] = None if p["avg_cost"] is None else p["avg_cost"] * M.MICRO
    s0 = np.nan_to_num(s, nan=0.0)
    singles = []
    for j, m in enumerate(models):
        col = c[:, j]
        if np.isnan(col).all():
            continue
        singles.append({"model": m, "avg_cost": float(np.nanmean(col)), "avg_performance": float(s0[:, j].mean())})
    costs = [p["avg_cost"] for p in singles]
    out = {"calibration": {"kind": cal["kind"], "n": cal["n"], "n_breakpoints": len(cal["x"]),
                           "source": f"training queries ({sig.source})"},
           "cost_unit": "dollars per query (avg_cost); micro-dollars (avg_cost_micro)",
           "points": curve, "pareto": M.pareto_front(curve),
           "start_matches_router": None, "aiq": None, "aiq_single_models": None, "c_range": None,
           "bsm_target": bsm_performance, "cost_to_match_bsm": None, "cost_to_match_bsm_micro": None}
    if len(costs) >= 2 and max(costs) > min(costs):
        cmin, cmax = min(costs), max(costs)
        out["c_range"] = [cmin, cmax]
        out["aiq"] = M.aiq(curve, cmin, cmax)
        out["aiq_single_models"] = M.aiq(singles, cmin, cmax)
    if bsm_performance is not None:
        ctm = M.cost_to_match(curve, bsm_performance)
        out["cost_to_match_bsm"] = ctm
        out["cost_to_match_bsm_micro"] = None if ctm is None else ctm * M.MICRO
    if bsm_test_performance is not None:  # the hindsight best single model (best on the test rows)
        ctm = M.cost_to_match(curve, bsm_test_performance)
        out["bsm_test_target"] = bsm_test_performance
        out["cost_to_match_bsm_test_micro"] = None if ctm is None else ctm * M.MICRO
    return out


def _set_dotted(d: dict, key: str, value) -> None:
    """d["a"]["b"] = value for key "a.b", where the path exists."""
    *path, last = key.split(".")
    for k in path:
        d = d.get(k)
        if not isinstance(d, dict):
            return
    if last in d:
        d[last] = value


SEED_KEYS = ("newllm.cold_start_recall.value", "newllm.cold_start_recall_strict.value", "newllm.selection_rate",
             "newllm.gain_from_new", "cost_quality.aiq", "cost_quality.cost_to_match_bsm_micro", "seconds")


# ----------------------------------------------------------------------------------------------------------------
# the shared entry point
# ----------------------------------------------------------------------------------------------------------------


def _opts(spec: RouterSpec, opts: dict, sess: Session) -> dict:
    unknown = sorted(set(opts) - set(spec.defaults))
    if unknown:
        raise ConfigError(f"router {spec.name!r} has no option(s) {unknown}"
                          + (f"; it accepts {', '.join(sorted(spec.defaults))}" if spec.defaults else ""))
    out = {**spec.defaults, **{k: v for k, v in opts.items() if v is not None}}
    if "device" in out and not out["device"]:
        out["device"] = sess.device or "cpu"
    return out


def run_router_entry(sess: Session, router: str, profile_ref: str, mode: str, opts: dict | None = None, *,
                     seeds: list[int] | None = None, query_text: str = "formatted", force: bool = False) -> BuildResult:
    from rpcli.core.eval import metrics as M
    from rpcli.core.routers.evaluate import reference_rows, test_matrices, write_predictions
    from rpcli.core.routers.query_text import QUERY_TEXT_CHOICES
    from rpcli.core.routers.query_text import query_text as qtext
    from rpcli.services.profiles import load_profile_entry

    if router not in ROUTERS:
        raise ConfigError(f"unknown router {router!r}; choose one of {', '.join(ROUTERS)}")
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose standard or newllm")
    if query_text not in QUERY_TEXT_CHOICES:
        raise ConfigError(f"--query-text must be one of {', '.join(QUERY_TEXT_CHOICES)}")
    spec = ROUTERS[router]
    opts = _opts(spec, dict(opts or {}), sess)
    ds = sess.dataset
    md = ds.mode(mode)
    pentry, names, vecs = load_profile_entry(sess, profile_ref)
    check_modes(pentry, mode, "profile")
    check_same_data(sess, pentry)
    unknown = [n for n in names if n not in ds.candidates]
    if unknown:
        sess.progress.warn(f"profile models {unknown} are not routing candidates: choosing them scores 0")
    seeds = list(dict.fromkeys(int(s) for s in seeds)) if seeds else [0]
    if not spec.trainable:
        seeds = [0]
    params = {"router": router, "mode": mode, "query_text": query_text, "seeds": seeds, **opts}

    # The training signal is built (and checked against the held-out models) before anything is trained.
    labels = opts.get("labels", "pairs")
    sig = training_signal(sess, mode, names, query_text, labels=labels)
    if labels == "scores":
        from rpcli.core.routers.training import SCORE_ROWS_FILE
        from rpcli.workspace.hashing import sha256_file

        params["train_file_sha256"] = sha256_file(ds.root / SCORE_ROWS_FILE)
    if spec.trainable and (sig is None or len(sig) == 0):
        raise TrainingDataError(f"router {router!r} needs training data, but mode {mode!r} has "
                                + ("no pairwise training file" if sig is None else "no usable training query"),
                                hint=f"add route_data/pairwise_training_data_{mode}.json")
    held = [h for h in md.held_out if h in names] if mode == "newllm" else []
    ctx = RouteContext(mode=mode, profile_entry=pentry, models=names, profile_vecs=vecs, query_text=query_text,
                       test_texts=[qtext(r, query_text) for r in ds.test_rows], train=sig, held_out=held,
                       seeds=seeds)

    def builder(out_dir: Path) -> dict:
        s, c, tasks = test_matrices(ds, names)
        refs = {r["name"]: r for r in reference_rows(ds, mode)}
        bsm = refs.get("best-single (train)", refs.get("best-single (test)"))
        per_seed = []
        for seed in seeds:
            t0 = time.time()
            out = spec.run(sess, ctx, opts, seed, out_dir)
            scores, info = out[0], out[1]
            train_scores = out[2] if len(out) > 2 else None
            scores = np.asarray(scores, dtype=np.float64)
            seconds = round(time.time() - t0, 3)
            choice = np.argmax(scores, axis=1)
            res = M.evaluate_selection(choice, s, c, tasks, names, bsm_performance=bsm["avg_performance"],
                                       held_out=held, router_scores=scores, bootstrap=1000, seed=seed)
            res["seed"] = seed
            res["seconds"] = seconds
            if info:
                res["train"] = info
            if train_scores is not None and sig is not None and len(sig):
                try:
                    cq = cost_quality(train_scores, sig, scores, s, c, names, bsm["avg_performance"],
                                      (refs.get("best-single (test)") or {}).get("avg_performance"))
                    start = cq["points"][0]["avg_performance"] if cq["points"] else None
                    cq["start_matches_router"] = start is not None and abs(start - res["avg_performance"]) < 1e-12
                    res["cost_quality"] = cq
                except (RpError, ValueError) as exc:
                    res.setdefault("warnings", []).append(f"no cost-quality curve: {exc}")
            else:
                res.setdefault("warnings", []).append("no cost-quality curve: no training signal to calibrate on")
            per_seed.append(res)
            write_predictions(out_dir / ctx.seed_file("predictions.jsonl", seed), ds, names, choice, scores, s, c)
            for w in res.get("warnings", []):
                sess.progress.warn(w)
        metrics = copy.deepcopy(per_seed[0])
        if len(per_seed) > 1:
            # Every summarised scalar shows the mean over seeds (sd in metrics["seeds"]); tables such as per_task,
            # selection_share and the cost-quality points stay those of the first seed (metrics["detail_seed"]).
            metrics["seeds"] = M.summarize_seeds(per_seed, keys=M.DEFAULT_SEED_KEYS + SEED_KEYS)
            for key, summary in metrics["seeds"].items():
                _set_dotted(metrics, key, summary.get("mean"))
            metrics["detail_seed"] = seeds[0]
        metrics["per_seed"] = [{k: r[k] for k in ("seed", "avg_performance", "avg_cost", "seconds") if k in r}
                               for r in per_seed]
        for r, row in zip(per_seed, metrics["per_seed"]):
            nl = r.get("newllm")
            if nl:
                row["cold_start_recall"] = (nl.get("cold_start_recall") or {}).get("value")
            if r.get("cost_quality"):
                row["aiq"] = r["cost_quality"].get("aiq")
        metrics["bsm_reference"] = {"name": bsm["name"], "avg_performance": bsm["avg_performance"]}
        if sig is not None:
            metrics["training_signal"] = {"source": sig.source, **sig.stats}
        (out_dir / "metrics.json").write_text(json.dumps({"metrics": metrics, "per_seed": per_seed}, indent=2,
                                                         sort_keys=True) + "\n")
        return {"metrics": metrics, "info": {"models": names, "held_out": held, "n_test_rows": len(ds.test_rows)}}

    return build_artifact(sess, "run", params, [pentry["id"]], builder, force=force)
