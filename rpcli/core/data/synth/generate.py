"""generate_dataset: check the parameters, run the stages in order, write the files and summarise."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rpcli.core.data.synth.draw import seeded_rng
from rpcli.core.data.synth.profile_files import write_profile_data
from rpcli.core.data.synth.route_files import (
    write_pairwise, write_query_jsonl, write_test_rows, write_train_scores, write_truth)
from rpcli.core.data.synth.stages import (
    SynthParamError, draw_latent, draw_queries, held_out_index, leak_test_queries, score_queries, tasks_and_domains)
from rpcli.core.data.synth.structure import (
    MAX_QUERY_STRUCTURE, MAX_SUBTOPICS, draw_offsets, frame_queries, plan_structure, topic_expectation)
from rpcli.core.data.synth.tasks import DOMAIN_POOL, KEPT_TASK_PREF, LEADERBOARD, MAX_TASKS


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)


def _finite(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float, np.floating, np.integer)) and math.isfinite(x)


def check_params(*, seed, n_models, n_candidates, n_tasks, n_domains, train_queries_per_task,
                 test_queries_per_task, pairs_per_task, noise, query_structure=0.0, n_subtopics=3) -> None:
    """Raise SynthParamError (naming the parameter, its CLI option and the allowed range) for any bad parameter."""
    ints = dict(seed=("--seed", seed), n_models=("--models", n_models), n_candidates=("--candidates", n_candidates),
                n_tasks=("--tasks", n_tasks), n_domains=("--domains", n_domains),
                train_queries_per_task=("--train-queries-per-task", train_queries_per_task),
                test_queries_per_task=("--test-queries-per-task", test_queries_per_task),
                pairs_per_task=("--pairs-per-task", pairs_per_task), n_subtopics=("--subtopics", n_subtopics))
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
        (1 <= n_subtopics <= MAX_SUBTOPICS, "n_subtopics", "--subtopics", n_subtopics,
         f"between 1 and {MAX_SUBTOPICS}"),
    ]
    for ok, name, opt, v, allowed in checks:
        if not ok:
            raise SynthParamError(f"{name} ({opt}) must be {allowed} (got {v})")
    if not _finite(noise) or noise < 0:
        raise SynthParamError(f"noise (--noise) must be a finite number of at least 0 (got {noise!r})")
    if not _finite(query_structure) or not 0 <= query_structure <= MAX_QUERY_STRUCTURE:
        raise SynthParamError(f"query_structure (--query-structure) must be a number between 0 and "
                              f"{MAX_QUERY_STRUCTURE:g} (got {query_structure!r})")


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
                     with_task_queries: bool = True, query_structure: float = 0.0, n_subtopics: int = 3,
                     train_scores: bool = False, progress=None) -> dict:
    """Write a complete RouteProfile-layout dataset into out_dir (creating profile_data/ and route_data/).

    Args:
        query_structure: S >= 0, the scale of the within-task sub-topic skill offsets (rpcli.core.data.synth.structure).
            0 (the default) adds no structure: the files are exactly those of the earlier versions. S > 0 frames the
            queries with their sub-topic's vocabulary, adds the offsets and writes route_data/synth_truth.json and
            route_data/routing_train_data.json.
        n_subtopics: N, the sub-topics per routing task (used only when query_structure > 0).
        train_scores: also write route_data/routing_train_data.json when query_structure is 0.

    Returns a summary dict (counts, held-out model name, seed, params, sanity numbers).
    Same parameters and seed give byte-identical files. Bad parameters raise SynthParamError (a ConfigError and a
    ValueError).
    """
    check_params(seed=seed, n_models=n_models, n_candidates=n_candidates, n_tasks=n_tasks, n_domains=n_domains,
                 train_queries_per_task=train_queries_per_task, test_queries_per_task=test_queries_per_task,
                 pairs_per_task=pairs_per_task, noise=noise, query_structure=query_structure,
                 n_subtopics=n_subtopics)
    params = dict(seed=int(seed), n_models=int(n_models), n_candidates=int(n_candidates), n_tasks=int(n_tasks),
                  n_domains=int(n_domains), train_queries_per_task=int(train_queries_per_task),
                  test_queries_per_task=int(test_queries_per_task), pairs_per_task=int(pairs_per_task),
                  noise=float(noise), with_task_queries=bool(with_task_queries),
                  query_structure=float(query_structure), n_subtopics=int(n_subtopics),
                  train_scores=bool(train_scores or query_structure > 0))

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
    st = plan_structure(seed, archs, query_structure, n_subtopics)
    if st is not None:
        note(f"framing the queries of {n_subtopics} sub-topics per task")
        frame_queries(seed, archs, q, st)
    note(f"drawing {n_models} models and their latent skills")
    lat = draw_latent(seed, archs, n_models, n_candidates)
    cands = [m["name"] for m in lat.models[:C]]
    if st is not None:
        draw_offsets(seed, st, n_models, C, len(archs))
    note("scoring queries with the item-response model")
    sc = score_queries(seed, archs, q, lat, C, noise, st)
    train_acc, held_idx = held_out_index(tasks, sc, C)
    kept_task = KEPT_TASK_PREF if KEPT_TASK_PREF in tasks else tasks[0]
    leaked = leak_test_queries(seed, archs, q, sc, held_idx, C, train_queries_per_task)

    note("writing route_data/")
    rr = seeded_rng(seed, 50)
    test_rows = write_test_rows(rdir, rr, archs, q, sc, cands)
    n_train_jsonl, n_test_jsonl = write_query_jsonl(rdir, rr, archs, q)
    pair_counts = write_pairwise(rdir, seed, archs, q, sc, cands, held_idx, leaked, pairs_per_task)
    if params["train_scores"]:
        write_train_scores(rdir, archs, q, sc, cands)
    truth = write_truth(rdir, archs, q, sc, cands, st, params) if st is not None else None
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
        "sanity": _sanity(tasks, sc, cands, held_idx, train_acc, q, truth),
    }
    note(f"done: {len(test_rows)} test rows, {summary['n_train_queries']} training queries, "
         f"held-out {cands[held_idx]}")
    return summary


def _sanity(tasks: list[str], sc, cands: list[str], held_idx: int, train_acc: np.ndarray, q, truth) -> dict:
    """Reference numbers on the test rows: single models, the oracle, per-task best, how often the held-out wins,
    and the room a query-level router has (see _room)."""
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
        "query_level": _room(tasks, sc, cands, q, truth, per_task_score, oracle),
    }


def _room(tasks: list[str], sc, cands: list[str], q, truth: dict | None, per_task_best: float,
          oracle: float) -> dict:
    """Per-task vs per-query choices on the test rows (every candidate, as in standard mode).

    per_task_oracle: each task's best candidate on its own test rows; subtopic_oracle (--query-structure only): each
    (task, sub-topic)'s best candidate by expected score (synth_truth.json); subtopic_best_train: each (task,
    sub-topic)'s best candidate on its training queries. room_* are the gains over per_task_best (training picks);
    room_subtopic_expected is the noise-free version of room_subtopic_oracle: the expected score of each test row's
    sub-topic best minus that of its task's best candidate (both by expected score), averaged over the test rows."""
    n_rows = sum(sc.test[t].shape[1] for t in tasks)
    pto = float(sum(sc.test[t].sum(axis=1).max() for t in tasks) / n_rows)
    out = {"per_task_best": round(per_task_best, 4), "per_task_oracle": round(pto, 4), "oracle": round(oracle, 4),
           "subtopic_oracle": None, "subtopic_best_train": None,
           "room_oracle": round(oracle - per_task_best, 4), "room_subtopic_oracle": None,
           "room_subtopic_expected": None}
    if truth is None:
        return out
    idx = {c: i for i, c in enumerate(cands)}
    got_truth, got_train, gain = [], [], []
    for t in tasks:
        te = np.array([it["topic"] for it in q.test[t]])
        exp = topic_expectation(sc, q, t, len(truth[t]["subtopics"]))  # [C, N]
        task_best = idx[truth[t]["best"]]
        gain.append(exp[:, te].max(axis=0) - exp[task_best, te])
        tr = np.array([it["topic"] for it in q.train[t]])
        best = [idx.get(s["best"], task_best) for s in truth[t]["subtopics"]]  # None: a sub-topic without queries
        fallback = int(np.argmax(sc.train[t].mean(axis=1)))
        by_train = [int(np.argmax(sc.train[t][:, tr == k].mean(axis=1))) if (tr == k).any() else fallback
                    for k in range(len(best))]
        got_truth.append(sc.test[t][np.array(best)[te], np.arange(len(te))])
        got_train.append(sc.test[t][np.array(by_train)[te], np.arange(len(te))])
    sto = float(np.mean(np.concatenate(got_truth)))
    out.update(subtopic_oracle=round(sto, 4), subtopic_best_train=round(float(np.mean(np.concatenate(got_train))), 4),
               room_subtopic_oracle=round(sto - per_task_best, 4),
               room_subtopic_expected=round(float(np.mean(np.concatenate(gain))), 4))
    return out
