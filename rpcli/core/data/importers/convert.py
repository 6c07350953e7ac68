"""Conversion: a score table and cards -> the RouteProfile layout (the seeded split, the pairwise rule, per-task
card scores from the training split; see the package docstring), and writing it."""

from __future__ import annotations

import json
import random
from pathlib import Path

from rpcli.core.data.schema import MODES
from rpcli.core.data.audit import placeholder
from rpcli.core.data.importers.cards import Card, Cards
from rpcli.core.data.importers.readers import Table
from rpcli.errors import ConfigError, DataFileError, did_you_mean

DEFAULT_TEST_FRACTION = 0.2
DEFAULT_PAIRS_PER_TASK = 5000  # chosen by what it costs and loses: docs/pairs-cap.md (the original sampled 350)
UNSPECIFIED_FAMILY = "unspecified"


def split_queries(queries: list[tuple[str, str]], test_fraction: float, seed: int) -> set:
    """The (task, query) keys that go to the test rows (see the module docstring)."""
    by_task: dict = {}
    for key in queries:
        by_task.setdefault(key[0], []).append(key)
    test = set()
    for task, keys in by_task.items():
        n = len(keys)
        if n < 2:
            continue
        order = list(keys)
        random.Random(f"{seed}/split/{task}").shuffle(order)
        k = min(n - 1, max(1, int(round(test_fraction * n)))) if test_fraction > 0 else 0
        test.update(order[:k])
    return test


def pairwise_rule(train_keys: list[tuple[str, str]], models: list[str], score, *, seed: int, mode: str,
                  pairs_per_task: int | None) -> tuple[dict, list[tuple[str, str, str, str]]]:
    """The documented pairwise rule. `score(task, query, model)` -> float | None. Returns ({task: pool size},
    [(task, query, better, worse)]) with the pairs of each task in pool order."""
    pools: dict = {}
    for task, query in train_keys:
        pool = pools.setdefault(task, [])
        for i, a in enumerate(models):
            sa = score(task, query, a)
            if sa is None:
                continue
            for b in models[i + 1:]:
                sb = score(task, query, b)
                if sb is None or sa == sb:
                    continue
                pool.append((task, query, a, b) if sa > sb else (task, query, b, a))
    counts, out = {}, []
    for task, pool in pools.items():
        counts[task] = len(pool)
        if pairs_per_task is not None and len(pool) > pairs_per_task:
            keep = sorted(random.Random(f"{seed}/pairs/{mode}/{task}").sample(range(len(pool)), pairs_per_task))
            pool = [pool[i] for i in keep]
        out.extend(pool)
    return counts, out


def _r2(x: float) -> float:
    return float(round(x, 2))


def convert(tab: Table, cards: Cards, *, test_fraction: float = DEFAULT_TEST_FRACTION, seed: int = 0,
            hold_out: str | None = None, pairs_per_task: int | None = DEFAULT_PAIRS_PER_TASK,
            source: str = "") -> tuple[dict, dict, list]:
    """The RouteProfile layout of a score table: ({relative path: JSON content}, summary, warnings).
    JSONL files are lists of dicts. Raises ConfigError on bad options and DataFileError on data that cannot make
    a dataset (no test row, no training query, a hold-out that is not a candidate)."""
    if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
        raise ConfigError(f"--test-fraction must be between 0 and 1, exclusive (got {test_fraction})")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"--seed must be an integer >= 0 (got {seed})")
    if pairs_per_task is not None and pairs_per_task < 1:
        raise ConfigError(f"--pairs-per-task must be at least 1 (got {pairs_per_task})")
    warnings: list[str] = []
    placeholders: list[str] = []
    p = tab.path
    dups = tab.duplicates_summary()
    if dups["merged"]:
        ex = dups["examples"][0]
        warnings.append(f"{dups['found']} repeated (query, model) result(s) in {p.name} (e.g. {ex['record']} repeats "
                        f"{ex['first']}: model {ex['model']!r} on {ex['query']!r}): "
                        + ("kept the first of each" if dups["policy"] == "first" else "averaged each")
                        + f" (--duplicates {dups['policy']})")
    cands = [m for m in tab.models if any(r.score is not None for (t, q, mm), r in tab.results.items() if mm == m)]
    dropped = [m for m in tab.models if m not in cands]
    if dropped:
        warnings.append(f"model(s) {dropped} have no score at all in {p.name}: not routing candidates")
    if len(cands) < 2:
        raise DataFileError(p, f"routing needs at least two models with scores; found {len(cands)} ({cands})")
    if hold_out is not None and hold_out not in cands:
        raise ConfigError(f"--hold-out {hold_out!r} is not a model of {p.name}{did_you_mean(hold_out, cands)}",
                          hint=f"the models are {', '.join(cands)}")

    def score(task, query, m):
        r = tab.results.get((task, query, m))
        return None if r is None else r.score

    keys = list(tab.queries)
    test_keys = split_queries(keys, float(test_fraction), seed)
    train = [k for k in keys if k not in test_keys]
    test = [k for k in keys if k in test_keys]
    if not test:
        raise DataFileError(p, "no test rows: every task has fewer than two queries", hint="add queries")
    one = sorted({t for t, _ in keys} - {t for t, _ in test})
    if one:
        warnings.append(f"task(s) {one} have one query: it trains, and the task has no test row")
    routing_tasks = list(dict.fromkeys(t for t, _ in test))
    tasks_all = list(dict.fromkeys(t for t, _ in keys))

    # Cards: candidates first (score-file order), then card-only models (graph context, not candidates).
    card_models = [m for m in cards.models if m not in cands]
    all_models = cands + card_models
    families: dict = {}
    for m in all_models:
        c = cards.models.get(m)
        if c is None or c.description is None:
            placeholders.append(f"model {m}")
            warnings.append(f"model {m!r} has no description (no card{'' if c is None else ' description'}): "
                            "a neutral placeholder stands in; give one in --cards")
        fam = (c.family if c is not None else None) or UNSPECIFIED_FAMILY
        if c is not None and c.family is None:
            warnings.append(f"model {m!r} has no family: placed in {UNSPECIFIED_FAMILY!r}")
        families.setdefault(fam, None)
    fam_desc = {}
    for f in families:
        if f in cards.families:
            fam_desc[f] = cards.families[f]
        else:
            fam_desc[f] = placeholder("family", f)
            placeholders.append(f"family {f}")
            warnings.append(f"family {f!r} has no description: a neutral placeholder stands in")
    bench = []
    for m in all_models:
        c = cards.models.get(m)
        for t, v in (c.scores.items() if c else ()):
            if t in routing_tasks or t in tasks_all:
                if v is not None:
                    warnings.append(f"card of {m!r}: its score for routing task {t!r} is ignored (routing-task "
                                    "scores come from the training split)")
                continue
            if t not in bench:
                bench.append(t)
    task_desc = {}
    for t in tasks_all + bench:
        if t in cards.tasks:
            task_desc[t] = cards.tasks[t]
        else:
            task_desc[t] = placeholder("task", t)
            placeholders.append(f"task {t}")
            warnings.append(f"task {t!r} has no description: a neutral placeholder stands in")
    for t in cards.tasks:
        task_desc.setdefault(t, cards.tasks[t])
    domains, dmap = {}, {}
    for d, (desc, ts) in cards.domains.items():
        domains[d] = desc or placeholder("domain", d)
        if desc is None:
            placeholders.append(f"domain {d}")
            warnings.append(f"domain {d!r} has no description: a neutral placeholder stands in")
        dmap[d] = list(ts)

    # Per-task scores from the training split only: 100 x the mean training score, two decimals. The training rows
    # are written to routing_train_data.json as well, so a CV fold can recompute these without its validation
    # queries (rpcli.core.routers.ability.fold_cards detects the equality within the rounding).
    train_by_task: dict = {}
    for t, q in train:
        train_by_task.setdefault(t, []).append(q)
    routing_scores: dict = {}
    for m in cands:
        for t in tasks_all:
            vals = [s for s in (score(t, q, m) for q in train_by_task.get(t, [])) if s is not None]
            routing_scores[(m, t)] = _r2(100.0 * sum(vals) / len(vals)) if vals else None

    def record(m: str, mode: str) -> dict:
        c = cards.models.get(m) or Card(m)
        ds = {}
        if m in cands:
            for t in tasks_all:
                v = routing_scores[(m, t)]
                ds[t] = None if (mode == "newllm" and m == hold_out) else v
        for t in bench:
            ds[t] = c.scores.get(t)
        return {"size": c.size, "feature": c.description or placeholder("model", m),
                "input_price": c.input_price, "output_price": c.output_price, "model": m, "detailed_scores": ds,
                "parameters": c.parameters, "architecture": c.family or UNSPECIFIED_FAMILY,
                "role": "primary" if m in cands else "auxiliary", "router_enabled": m in cands, **c.extra}

    prices = {m: (cards.models[m].input_price, cards.models[m].output_price) if m in cards.models else (None, None)
              for m in cands}

    def perf(t: str, q: str, m: str) -> dict:
        r = tab.results.get((t, q, m))
        e: dict = {"task_performance": None if r is None else r.score, "success": r is not None and r.score is not None}
        if r is not None and r.prompt_tokens is not None:
            e["prompt_tokens"] = e["input_token"] = r.prompt_tokens
        if r is not None and r.completion_tokens is not None:
            e["completion_tokens"] = e["output_token"] = r.completion_tokens
        cost = None if r is None else r.cost
        ip, op = prices[m]
        if cost is None and r is not None and None not in (ip, op, r.prompt_tokens, r.completion_tokens):
            cost = (r.prompt_tokens * ip + r.completion_tokens * op) / 1e6
        e["cost"] = cost
        return e

    def base(t: str, q: str) -> dict:
        info = tab.queries[(t, q)]
        return {"task_name": t, "query": q, "ground_truth": info.ground_truth, "metric": info.metric,
                "choices": None, "task_id": info.qid}

    test_rows = [{**base(t, q), "model_performance": {m: perf(t, q, m) for m in cands}} for t, q in test]
    n_null = sum(e["task_performance"] is None for r in test_rows for e in r["model_performance"].values())
    if n_null:
        warnings.append(f"{n_null} (test query, model) results are missing: a router choosing such a model "
                        "scores 0 there")
    train_rows = [{**base(t, q), "model_performance": {m: perf(t, q, m) for m in cands}} for t, q in train]

    files: dict = {}
    pair_counts = {}
    for mode in MODES:
        models = [m for m in cands if not (mode == "newllm" and m == hold_out)]
        counts, prs = pairwise_rule(train, models, score, seed=seed, mode=mode, pairs_per_task=pairs_per_task)
        kept = {t: 0 for t in counts}
        for t, *_ in prs:
            kept[t] += 1
        files[f"route_data/pairwise_training_data_{mode}.json"] = {
            "task_data_count": counts,
            "pairwise_data": [{**base(t, q), "better_model": b, "worse_model": w} for t, q, b, w in prs]}
        pair_counts[mode] = {"pairs": len(prs), "pool": counts, "available": sum(counts.values()),
                             "by_task": {t: {"available": counts[t], "kept": kept[t]} for t in counts}}
        files[f"profile_data/model_feature_{mode}.json"] = {m: record(m, mode) for m in all_models}
        files[f"profile_data/task_queries_{mode}.json"] = {t: list(train_by_task.get(t, [])) for t in tasks_all
                                                           if train_by_task.get(t)}
    files["profile_data/model_family_feature.json"] = fam_desc
    files["profile_data/task_feature.json"] = task_desc
    files["profile_data/domain_feature.json"] = domains
    files["profile_data/domain_task_map.json"] = dmap
    files["route_data/routing_test_data.json"] = test_rows
    files["route_data/routing_train_data.json"] = train_rows
    files["route_data/default_query_train.jsonl"] = [base(t, q) for t, q in train]
    files["route_data/default_query_test.jsonl"] = [base(t, q) for t, q in test]
    files["route_data/held_out.json"] = [hold_out] if hold_out else []
    if not any(None not in p_ for p_ in prices.values()) and not any(
            e["cost"] is not None for r in test_rows for e in r["model_performance"].values()):
        warnings.append("no prices, tokens or costs: every cost is unknown (cost-quality curves need them)")
    summary = {
        "source": source, "candidates": cands, "auxiliary_models": card_models, "tasks": tasks_all,
        "routing_tasks": routing_tasks, "benchmarks_from_cards": bench, "n_queries": len(keys),
        "n_test_rows": len(test), "n_train_queries": len(train), "test_fraction": float(test_fraction),
        "seed": int(seed), "pairs_per_task": pairs_per_task, "hold_out": hold_out, "pairs": pair_counts,
        "missing_test_results": n_null, "duplicates": dups,
        "placeholders": placeholders,
    }
    return files, summary, warnings


def pairs_kept_text(pairs: dict, pairs_per_task: int | None) -> str:
    """One line on the pairs kept of the ones the rule could make, per task on average, from a summary's `pairs`
    ({mode: {"pairs": kept, "available": n, "by_task": {...}}}); newllm is named when it differs from standard."""
    def avg(mode: str) -> tuple[float, float]:
        n = max(1, len(pairs[mode]["by_task"]))
        return pairs[mode]["pairs"] / n, pairs[mode]["available"] / n

    k, a = avg("standard")
    text = f"kept {k:,.0f} of {a:,.0f} possible pairs per task on average"
    if "newllm" in pairs and (pairs["newllm"]["pairs"], pairs["newllm"]["available"]) != (
            pairs["standard"]["pairs"], pairs["standard"]["available"]):
        k2, a2 = avg("newllm")
        text += f" (standard; newllm: {k2:,.0f} of {a2:,.0f})"
    if pairs_per_task is None:
        return text + " (--pairs-per-task 0: all kept)"
    return text + f" (--pairs-per-task {pairs_per_task}; --pairs-per-task 0 keeps all)"


def write_files(root: Path, files: dict) -> None:
    """Write `files` ({relative path: content}) under root: JSON with indent 2, .jsonl one object per line."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if rel.endswith(".jsonl"):
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in content), encoding="utf-8")
        else:
            path.write_text(json.dumps(content, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
