"""rp route: run a router on a profile, evaluate it on the test rows, record the run.

Routers register a function (sess, ctx, opts, seed, out_dir) -> (router_scores [N, K], info). The shared code
here resolves the profile, encodes test queries once (through the cache), evaluates with the metrics library and
writes predictions.jsonl + metrics.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from rpcli.core.data.schema import MODES
from rpcli.errors import ConfigError
from rpcli.services.base import BuildResult, Session, build_artifact, check_modes, check_same_data


@dataclass(frozen=True)
class RouterSpec:
    name: str
    trainable: bool
    run: Callable  # (sess, ctx: RouteContext, opts, seed, out_dir) -> (router_scores [N, K], info)


@dataclass
class RouteContext:
    mode: str
    profile_entry: dict
    models: list  # profile key order = candidate order (argmax ties)
    profile_vecs: np.ndarray  # [K, D]
    query_text: str
    test_texts: list  # [N]


ROUTERS: dict[str, RouterSpec] = {}


def register_router(spec: RouterSpec) -> None:
    ROUTERS[spec.name] = spec


def _sim(sess, ctx: RouteContext, opts, seed, out_dir):
    from rpcli.core.routers.sim import sim_scores

    q = sess.encoder.encode(ctx.test_texts, progress=sess.progress, description="encoding test queries:")
    return sim_scores(ctx.profile_vecs, q), {}


register_router(RouterSpec("sim", trainable=False, run=_sim))


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
    opts = dict(opts or {})
    ds = sess.dataset
    md = ds.mode(mode)
    pentry, names, vecs = load_profile_entry(sess, profile_ref)
    check_modes(pentry, mode, "profile")
    check_same_data(sess, pentry)
    unknown = [n for n in names if n not in ds.candidates]
    if unknown:
        sess.progress.warn(f"profile models {unknown} are not routing candidates: choosing them scores 0")
    seeds = list(seeds) if seeds else [0]
    if not spec.trainable:
        seeds = [0]
    params = {"router": router, "mode": mode, "query_text": query_text, "seeds": seeds, **opts}
    ctx = RouteContext(mode=mode, profile_entry=pentry, models=names, profile_vecs=vecs, query_text=query_text,
                       test_texts=[qtext(r, query_text) for r in ds.test_rows])

    def builder(out_dir: Path) -> dict:
        s, c, tasks = test_matrices(ds, names)
        refs = {r["name"]: r for r in reference_rows(ds, mode)}
        bsm = refs.get("best-single (train)", refs.get("best-single (test)"))
        held = [h for h in md.held_out if h in names] if mode == "newllm" else []
        per_seed = []
        for seed in seeds:
            scores, info = spec.run(sess, ctx, opts, seed, out_dir)
            scores = np.asarray(scores, dtype=np.float64)
            choice = np.argmax(scores, axis=1)
            res = M.evaluate_selection(choice, s, c, tasks, names, bsm_performance=bsm["avg_performance"],
                                       held_out=held, router_scores=scores, bootstrap=1000, seed=seed)
            res["seed"] = seed
            if info:
                res["train"] = info
            per_seed.append(res)
            suffix = "" if len(seeds) == 1 else f".seed{seed}"
            write_predictions(out_dir / f"predictions{suffix}.jsonl", ds, names, choice, scores, s, c)
            for w in res.get("warnings", []):
                sess.progress.warn(w)
        metrics = dict(per_seed[0])
        if len(per_seed) > 1:
            metrics["seeds"] = M.summarize_seeds(per_seed)
            metrics["avg_performance"] = metrics["seeds"]["avg_performance"]["mean"]
        metrics["per_seed"] = [{k: r[k] for k in ("seed", "avg_performance", "avg_cost") if k in r}
                               for r in per_seed]
        metrics["bsm_reference"] = {"name": bsm["name"], "avg_performance": bsm["avg_performance"]}
        (out_dir / "metrics.json").write_text(json.dumps({"metrics": metrics, "per_seed": per_seed}, indent=2,
                                                         sort_keys=True) + "\n")
        return {"metrics": metrics, "info": {"models": names, "held_out": held, "n_test_rows": len(ds.test_rows)}}

    return build_artifact(sess, "run", params, [pentry["id"]], builder, force=force)
