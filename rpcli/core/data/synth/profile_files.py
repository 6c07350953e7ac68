"""Writing profile_data/: benchmark scores, prices and descriptions of models, families, tasks and domains.

Every draw here comes from one stream (``seeded_rng(seed, 70)``), taken in the order of the functions below.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rpcli.core.data.schema import MODES
from rpcli.core.data.synth.draw import seeded_rng
from rpcli.core.data.synth.models import FOCUS, SERVICES
from rpcli.core.data.synth.route_files import write_json
from rpcli.core.data.synth.stages import Latent, Scores, sigmoid
from rpcli.core.data.synth.tasks import ALL_NULL_TASK, DOMAIN_DESC, LEADERBOARD, UNUSED_TASKS


def _r2(x) -> float:
    return float(round(float(x), 2))


@dataclass
class _Benchmarks:
    """Every model's leaderboard scores [M, L] and routing-task scores [M, T] (0-100), with their null masks."""

    lb_scores: np.ndarray
    routing_scores: np.ndarray
    null_l: np.ndarray
    null_r: np.ndarray


def _benchmarks(rd: np.random.Generator, lat: Latent, sc: Scores, tasks: list[str], C: int, held_idx: int,
                kept_task: str) -> _Benchmarks:
    M, T, L = len(lat.models), len(tasks), len(LEADERBOARD)
    lb_scores = 100 * sigmoid(lat.skill[:, T:] - lat.lb_base[None, :]) + rd.normal(0.0, 1.5, (M, L))
    lb_scores = np.clip(lb_scores, 0.0, 100.0)
    routing_scores = np.zeros((M, T))
    for ti, t in enumerate(tasks):
        routing_scores[:C, ti] = 100 * sc.train[t].mean(axis=1)
        routing_scores[C:, ti] = np.clip(100 * sc.train_p_aux[t][C:] + rd.normal(0.0, 1.0, M - C), 0, 100)
    null_r = np.zeros((M, T), bool)
    null_l = np.zeros((M, L), bool)
    for m in range(C, M):
        null_r[m] = rd.random(T) < 0.35
        null_l[m] = rd.random(L) < 0.15
        if (~null_r[m]).sum() + (~null_l[m]).sum() < 2:
            null_l[m] = False
    for c in range(C):
        if rd.random() < 0.3 and T >= 2:
            ti = int(rd.integers(T))
            if not (c == held_idx and tasks[ti] == kept_task):
                null_r[c, ti] = True
    for ti in range(T):  # every routing task keeps at least two candidate scores
        if (~null_r[:C, ti]).sum() < 2:
            null_r[:C, ti] = False
    return _Benchmarks(lb_scores, routing_scores, null_l, null_r)


def _prices(rd: np.random.Generator, models: list[dict], C: int) -> dict[str, tuple[float, float]]:
    """Candidates' (input, output) dollars per million tokens, correlated with size."""
    prices = {}
    for c in range(C):
        ip = max(0.01, round(0.035 * models[c]["params"] ** 0.75 * float(np.exp(rd.normal(0.0, 0.25))), 2))
        op = round(ip * float(rd.choice([1.0, 1.0, 1.5, 2.0, 3.0])), 2)
        prices[models[c]["name"]] = (ip, op)
    return prices


def _features(rd: np.random.Generator, archs: list[dict], lat: Latent, prices: dict, C: int,
              quirk: int | None) -> dict[str, str]:
    """Each model's description: size, family, relative strengths and weakness, focus and (mostly) prices."""
    T, L = len(archs), len(LEADERBOARD)
    all_phr = [a["phrase"] for a in archs] + [lb["phrase"] for lb in LEADERBOARD]
    rel_skill = lat.skill - lat.skill.mean(axis=0, keepdims=True)  # strengths relative to the other models
    features = {}
    for m, mod in enumerate(lat.models):
        fam = mod["fam"]
        noisy = rel_skill[m] + rd.normal(0.0, 0.3, T + L)
        order = np.argsort(-noisy, kind="stable")
        s1, s2, w1 = all_phr[order[0]], all_phr[order[1]], all_phr[order[-1]]
        kind = "sparse mixture-of-experts" if mod["moe"] else "dense"
        art = "an" if mod["size"].startswith(("8", "11", "18")) else "a"
        text = (f"{mod['name']} is {art} {mod['size']} {kind} instruction-tuned model from the {fam['brand']} family "
                f"({fam['arch']}). It is comparatively strong at {s1} and {s2}, while {w1} is a relative weakness. "
                f"It is aimed at {FOCUS[int(rd.integers(len(FOCUS)))]}.")
        if m < C and m != quirk:
            ip, op = prices[mod["name"]]
            text += f" It is offered at ${ip:.2f} per million input tokens and ${op:.2f} per million output tokens."
        features[mod["name"]] = text
    return features


def write_profile_data(pdir: Path, seed: int, archs: list[dict], domains: list[str],
                       domain_map: dict[str, list[str]], lat: Latent, sc: Scores, train_items: dict[str, list[dict]],
                       C: int, held_idx: int, kept_task: str, with_task_queries: bool) -> tuple[list[dict], int | None]:
    """Write every profile_data/ file. Returns the families in order of appearance and the price-quirk candidate."""
    rd = seeded_rng(seed, 70)
    models = lat.models
    M = len(models)
    names = [m["name"] for m in models]
    tasks = [a["name"] for a in archs]
    lb_names = [t["name"] for t in LEADERBOARD]
    bm = _benchmarks(rd, lat, sc, tasks, C, held_idx, kept_task)
    odd_aux = int(C + rd.integers(M - C)) if M > C else None  # auxiliary with null size/parameters/licence

    def detailed(m: int, newllm: bool) -> dict:
        ds = {}
        for li, lb in enumerate(lb_names):
            ds[lb] = None if bm.null_l[m, li] else _r2(bm.lb_scores[m, li])
        for ti, t in enumerate(tasks):
            v = None if bm.null_r[m, ti] else _r2(bm.routing_scores[m, ti])
            if newllm and m == held_idx and t != kept_task:
                v = None
            ds[t] = v
        ds[ALL_NULL_TASK["name"]] = None
        return ds

    prices = _prices(rd, models, C)
    quirk = None
    if C >= 3:
        quirk = C - 1 if C - 1 != held_idx else C - 2
    features = _features(rd, archs, lat, prices, C, quirk)

    def record(m: int, newllm: bool, for_candidates_file: bool = False) -> dict:
        mod = models[m]
        fam = mod["fam"]
        is_c = m < C
        priced = is_c and (for_candidates_file or m != quirk)
        ds = detailed(m, newllm)
        lb_vals = [ds[x] for x in lb_names if ds[x] is not None]
        avg = _r2(sum(lb_vals) / len(lb_vals)) if lb_vals and (is_c or m % 3 != 0) else None
        if m == quirk:
            avg = None
        odd = m == odd_aux
        svc = SERVICES[m % 2] if priced else (None, None)
        rec = {
            "size": None if odd else mod["size"],
            "feature": features[mod["name"]],
            "input_price": prices[mod["name"]][0] if priced else None,
            "output_price": prices[mod["name"]][1] if priced else None,
            "model": f"{fam['org']}/{mod['name']}",
            "service": svc[0],
            "api_endpoint": svc[1],
            "average_score": avg,
            "detailed_scores": {k: ds[k] for k in lb_names} if for_candidates_file else ds,
            "parameters": None if odd else mod["params"],
            "architecture": fam["arch"],
            "license": None if odd else fam["license"],
            "tags": [] if odd else list(fam["tags"]),
            "languages": [] if odd else list(fam["languages"]),
        }
        if not for_candidates_file:
            primary = is_c and m != quirk
            rec["router_enabled"] = primary
            rec["role"] = "primary" if primary else "auxiliary"
        return rec

    for mode in MODES:
        write_json(pdir / f"model_feature_{mode}.json", {names[m]: record(m, mode == "newllm") for m in range(M)})
    write_json(pdir / "candidate_models.json", {names[c]: record(c, False, True) for c in range(C)})

    fam_seen: list[dict] = []
    for mod in models:
        if mod["fam"]["arch"] not in [f["arch"] for f in fam_seen]:
            fam_seen.append(mod["fam"])
    write_json(pdir / "model_family_feature.json", {f["arch"]: f["desc"] for f in fam_seen})
    task_desc = {lb["name"]: lb["desc"] for lb in LEADERBOARD}
    task_desc.update({a["name"]: a["desc"] for a in archs})
    task_desc[ALL_NULL_TASK["name"]] = ALL_NULL_TASK["desc"]
    task_desc.update(UNUSED_TASKS)
    write_json(pdir / "task_feature.json", task_desc)
    write_json(pdir / "domain_feature.json", {dm: DOMAIN_DESC[dm] for dm in domains})
    write_json(pdir / "domain_task_map.json", domain_map)
    if with_task_queries:
        tq = {t: [it["q"] for it in train_items[t]] for t in tasks}
        for mode in MODES:
            write_json(pdir / f"task_queries_{mode}.json", tq)
    return fam_seen, quirk
