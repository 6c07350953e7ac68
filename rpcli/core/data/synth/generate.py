"""generate_dataset: check the parameters, run the stages in order, write the files and summarise."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rpcli.core.data.synth.draw import seeded_rng
from rpcli.core.data.synth.profile_files import write_profile_data
from rpcli.core.data.synth.route_files import write_pairwise, write_query_jsonl, write_test_rows
from rpcli.core.data.synth.stages import (
    SynthParamError, draw_latent, draw_queries, held_out_index, leak_test_queries, score_queries, tasks_and_domains)
from rpcli.core.data.synth.tasks import DOMAIN_POOL, KEPT_TASK_PREF, LEADERBOARD, MAX_TASKS


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def check_params(*, seed, n_models, n_candidates, n_tasks, n_domains, train_queries_per_task,
                 test_queries_per_task, pairs_per_task, noise) -> None:
    """Raise SynthParamError (naming the parameter, its CLI option and the allowed range) for any bad parameter."""
    ints = dict(seed=("--seed", seed), n_models=("--models", n_models), n_candidates=("--candidates", n_candidates),
                n_tasks=("--tasks", n_tasks), n_domains=("--domains", n_domains),
                train_queries_per_task=("--train-queries-per-task", train_queries_per_task),
                test_queries_per_task=("--test-queries-per-task", test_queries_per_task),
                pairs_per_task=("--pairs-per-task", pairs_per_task))
    for name, (opt, v) in ints.items():
        if not _is_int(v):
            raise SynthParamError(f"{name} ({opt}) must be an integer (got {v!r})")
    checks = [
        (seed >= 0, "seed", "--seed", seed, "at least 0"),
        (n_candidates >= 2, "n_candidates", "--candidates", n_candidates, "at least 2"),
        (n_models >= n_candidates, "n_models", "--models", n_models,
         f"at least the number of candidates ({n_candidates})"),
        (1 <= n_tasks <= MAX_TASKS, "n_tasks", "--tasks", n_tasks, f"between 1 and {MAX_TASKS}"),
        (1 <= n_domains <= len(DOMAIN_POOL), "n_domains", "--domains", n_domains,
         f"between 1 and {len(DOMAIN_POOL)}"),
        (train_queries_per_task >= 1, "train_queries_per_task", "--train-queries-per-task", train_queries_per_task,
         "at least 1"),
        (test_queries_per_task >= 1, "test_queries_per_task", "--test-queries-per-task", test_queries_per_task,
         "at least 1"),
        (pairs_per_task >= 0, "pairs_per_task", "--pairs-per-task", pairs_per_task, "at least 0"),
    ]
    for ok, name, opt, v, allowed in checks:
        if not ok:
            raise SynthParamError(f"{name} ({opt}) must be {allowed} (got {v})")
    if isinstance(noise, bool) or not isinstance(noise, (int, float, np.floating, np.integer)) \
            or not math.isfinite(noise) or noise < 0:
        raise SynthParamError(f"noise (--noise) must be a finite number of at least 0 (got {noise!r})")


def _make_dirs(out: Path) -> tuple[Path, Path]:
    pdir, rdir = out / "profile_data", out / "route_data"
    try:
        pdir.mkdir(parents=True, exist_ok=True)
        rdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SynthParamError(f"cannot write a dataset into {out}: {exc.strerror or exc}",
                          hint="--out must be a folder that can be created or written to") from None
    return pdir, rdir


def generate_dataset(out_dir: str | Path, *, seed: int = 0, n_models: int = 12, n_candidates: int = 6,
                     n_tasks: int = 8, n_domains: int = 4, train_queries_per_task: int = 60,
                     test_queries_per_task: int = 30, pairs_per_task: int = 80, noise: float = 0.5,
                     with_task_queries: bool = True, progress=None) -> dict:
    """Write a complete RouteProfile-layout dataset into out_dir (creating profile_data/ and route_data/).

    Returns a summary dict (counts, held-out model name, seed, params, sanity numbers).
    Same parameters and seed give byte-identical files. Bad parameters raise SynthParamError (a ConfigError and a
    ValueError).
    """
    check_params(seed=seed, n_models=n_models, n_candidates=n_candidates, n_tasks=n_tasks, n_domains=n_domains,
                 train_queries_per_task=train_queries_per_task, test_queries_per_task=test_queries_per_task,
                 pairs_per_task=pairs_per_task, noise=noise)
    params = dict(seed=int(seed), n_models=int(n_models), n_candidates=int(n_candidates), n_tasks=int(n_tasks),
                  n_domains=int(n_domains), train_queries_per_task=int(train_queries_per_task),
                  test_queries_per_task=int(test_queries_per_task), pairs_per_task=int(pairs_per_task),
                  noise=float(noise), with_task_queries=bool(with_task_queries))

    def note(msg: str) -> None:
        if progress is not None:
            progress.note(msg)

    out = Path(out_dir)
    pdir, rdir = _make_dirs(out)
    archs, domains, domain_map = tasks_and_domains(n_tasks, n_domains)
    tasks = [a["name"] for a in archs]
    C = n_candidates

    note(f"generating queries for {len(tasks)} routing tasks (+1 extra jsonl task)")
    q = draw_queries(seed, archs, train_queries_per_task, test_queries_per_task)
    note(f"drawing {n_models} models and their latent skills")
    lat = draw_latent(seed, archs, n_models, n_candidates)
    cands = [m["name"] for m in lat.models[:C]]
    note("scoring queries with the item-response model")
    sc = score_queries(seed, archs, q, lat, C, noise)
    train_acc, held_idx = held_out_index(tasks, sc, C)
    kept_task = KEPT_TASK_PREF if KEPT_TASK_PREF in tasks else tasks[0]
    leaked = leak_test_queries(seed, archs, q, sc, held_idx, C, train_queries_per_task)

    note("writing route_data/")
    rr = seeded_rng(seed, 50)
    test_rows = write_test_rows(rdir, rr, archs, q, sc, cands)
    n_train_jsonl, n_test_jsonl = write_query_jsonl(rdir, rr, archs, q)
    pair_counts = write_pairwise(rdir, seed, archs, q, sc, cands, held_idx, leaked, pairs_per_task)
    note("writing profile_data/")
    fam_seen, quirk = write_profile_data(pdir, seed, archs, domains, domain_map, lat, sc, q.train, C, held_idx,
                                         kept_task, with_task_queries)

    summary = {
        "out_dir": str(out),
        "seed": int(seed),
        "params": params,
        "held_out": cands[held_idx],
        "held_out_kept_task": kept_task,
        "candidates": cands,
        "n_models": len(lat.models),
        "n_candidates": C,
        "n_auxiliary": len(lat.models) - C,
        "families": [f["arch"] for f in fam_seen],
        "routing_tasks": tasks,
        "leaderboard_tasks": [t["name"] for t in LEADERBOARD],
        "domains": domains,
        "n_test_rows": len(test_rows),
        "n_train_queries": sum(len(q.train[t]) for t in tasks),
        "n_train_jsonl_rows": n_train_jsonl,
        "n_test_jsonl_rows": n_test_jsonl,
        "pairs": {m: v["pairs"] for m, v in pair_counts.items()},
        "pair_pool": {m: v["pool"] for m, v in pair_counts.items()},
        "leaked_queries": len(leaked),
        "price_quirk_model": cands[quirk] if quirk is not None else None,
        "files": sorted(str(p.relative_to(out)) for p in list(pdir.glob("*.json")) + list(rdir.glob("*.json*"))),
        "sanity": _sanity(tasks, sc, cands, held_idx, train_acc),
    }
    note(f"done: {len(test_rows)} test rows, {summary['n_train_queries']} training queries, "
         f"held-out {cands[held_idx]}")
    return summary


def _sanity(tasks: list[str], sc, cands: list[str], held_idx: int, train_acc: np.ndarray) -> dict:
    """Reference numbers on the test rows: single models, the oracle, per-task best, how often the held-out wins."""
    C = len(cands)
    S = np.concatenate([sc.test[t] for t in tasks], axis=1)  # [C, N]
    per_model = S.mean(axis=1)
    best_c = int(np.argmax(per_model))
    oracle = float(S.max(axis=0).mean())
    per_task_pick = {t: cands[int(np.argmax(train_acc[:, ti]))] for ti, t in enumerate(tasks)}
    per_task_score = float(np.mean(np.concatenate(
        [sc.test[t][cands.index(per_task_pick[t])] for t in tasks])))
    mx, mn = S.max(axis=0), S.min(axis=0)
    disc = mx > mn
    held_best = (S[held_idx] == mx) & disc
    held_unique = held_best & ((S == mx[None, :]).sum(axis=0) == 1)
    return {
        "per_model_test_mean": {cands[c]: round(float(per_model[c]), 4) for c in range(C)},
        "best_single": {"model": cands[best_c], "score": round(float(per_model[best_c]), 4)},
        "oracle": round(oracle, 4),
        "per_task_best": {"score": round(per_task_score, 4), "picks": per_task_pick},
        "discriminative_rows": int(disc.sum()),
        "all_zero_rows": int((mx == 0).sum()),
        "held_out_best_rows": int(held_best.sum()),
        "held_out_unique_best_rows": int(held_unique.sum()),
    }
