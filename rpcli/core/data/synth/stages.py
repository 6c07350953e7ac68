"""The drawing stages of generate_dataset, in order: tasks and domains, queries, models and latent skills, scores,
the held-out model, and the train/test leakage.

Each stage draws from its own numpy stream (``seeded_rng(seed, stage, ...)``), so the files depend only on the
parameters and the seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from rpcli.core.data.synth.draw import Draw, seeded_rng
from rpcli.core.data.synth.models import FAMILIES, make_models
from rpcli.core.data.synth.queries.knowledge import gen_grad_science
from rpcli.core.data.synth.structure import Structure, expected_scores
from rpcli.core.data.synth.tasks import ALL_NULL_TASK, ARCHETYPES, DOMAIN_POOL, LEADERBOARD, NO_FORMATTER
from rpcli.errors import ConfigError


class SynthParamError(ConfigError, ValueError):
    """A parameter of generate_dataset that cannot give a dataset (also a ValueError, for library callers)."""


def sigmoid(x):
    """The logistic function 1 / (1 + exp(-x)), elementwise."""
    return 1.0 / (1.0 + np.exp(-x))


def tasks_and_domains(n_tasks: int, n_domains: int) -> tuple[list[dict], list[str], dict[str, list[str]]]:
    """The routing-task archetypes, the domains and the domain -> task map (leaderboard and dangling tasks too)."""
    archs = ARCHETYPES[:n_tasks]
    if n_tasks < 6:  # one continuous-metric task only when n_tasks >= 6
        archs = [a for a in ARCHETYPES if a["metric"] != "commongen_coverage"][:n_tasks]
    domains = DOMAIN_POOL[:n_domains]

    def assign(ranking, two):
        full = ranking + [x for x in DOMAIN_POOL if x not in ranking]
        chosen = [x for x in full if x in domains]
        return chosen[:2] if (two and len(chosen) >= 2) else chosen[:1]

    domain_map: dict[str, list[str]] = {dm: [] for dm in domains}
    for a in archs:
        for dm in assign(a["domains"], a["two"]):
            domain_map[dm].append(a["name"])
    for lb in LEADERBOARD:
        for dm in assign(lb["domains"], lb["two"]):
            domain_map[dm].append(lb["name"])
    for dm in assign(ALL_NULL_TASK["domains"], False):  # dangling: no model scores it, so no dataset node
        domain_map[dm].append(ALL_NULL_TASK["name"])
    return archs, domains, domain_map


@dataclass
class Queries:
    """Generated query items per routing task (test, then train), and the extra jsonl-only task's items."""

    test: dict[str, list[dict]]
    train: dict[str, list[dict]]
    extra_test: list[dict]
    extra_train: list[dict]


def draw_queries(seed: int, archs: list[dict], n_train: int, n_test: int) -> Queries:
    """Draw distinct queries: no query text appears twice in the whole dataset (before the leakage stage)."""
    seen: set = set()

    def gen_items(gen, n, rng, tid_pattern, start_idx):
        items = []
        misses = 0
        while len(items) < n:
            it = gen(Draw(rng))
            if it["q"] in seen:
                misses += 1
                if misses > 2000 + n:
                    raise SynthParamError(f"the query space of {gen.__name__} was exhausted after {len(items)} "
                                          f"queries", hint="ask for fewer queries per task")
                continue
            seen.add(it["q"])
            items.append(it)
        for j, it in enumerate(items):
            if tid_pattern is not None:
                it["tid"] = tid_pattern.format(i=start_idx + j)
        return items

    test_items, train_items = {}, {}
    for ti, a in enumerate(archs):
        rq = seeded_rng(seed, 10, ti)
        if a["name"] in ("py_func", "concept_gen", "sql_gen"):
            pat = "{i}"
        else:
            pat = a["tid"]
        test_items[a["name"]] = gen_items(a["gen"], n_test, rq, pat, 1)
        train_items[a["name"]] = gen_items(a["gen"], n_train, rq, pat, 1 + n_test)
    rq = seeded_rng(seed, 11)
    extra_test = gen_items(gen_grad_science, n_test, rq, None, 0)
    extra_train = gen_items(gen_grad_science, n_train, rq, None, 0)
    return Queries(test_items, train_items, extra_test, extra_train)


@dataclass
class Latent:
    """The models and the latent-skill model: skill [M, T + L] (routing then leaderboard tasks), sub-topic effects
    [M, T, 4], verbosity [M] and the per-task base difficulties."""

    models: list[dict]
    skill: np.ndarray
    sub_eff: np.ndarray
    verbosity: np.ndarray
    task_base: np.ndarray
    lb_base: np.ndarray


def draw_latent(seed: int, archs: list[dict], n_models: int, n_candidates: int) -> Latent:
    rm = seeded_rng(seed, 20)
    models = make_models(rm, n_models, n_candidates)
    M, T, L = len(models), len(archs), len(LEADERBOARD)
    fam_keys = [f["key"] for f in FAMILIES]
    fam_idx = np.array([fam_keys.index(m["fam"]["key"]) for m in models])
    cats_all = [a["cat"] for a in archs] + [lb["cat"] for lb in LEADERBOARD]
    general = rm.normal(0.0, 0.5, M)
    theme = np.array([[f["theme"].get(c, 0.0) for c in cats_all] for f in FAMILIES])
    fam_eff = theme + rm.normal(0.0, 0.45, theme.shape)
    size_coef = rm.uniform(0.15, 0.35, T + L)
    logp = np.log2(np.array([m["params"] for m in models]) / 8.0)
    task_noise = rm.normal(0.0, 0.45, (M, T + L))
    skill = general[:, None] + fam_eff[fam_idx] + logp[:, None] * size_coef[None, :] + task_noise
    sub_eff = rm.normal(0.0, 0.4, (M, T, 4))
    verbosity = np.exp(rm.normal(0.0, 0.3, M))
    task_base = np.array([-math.log(a["acc"] / (1 - a["acc"])) for a in archs]) + rm.normal(0, 0.2, T)
    lb_base = np.array([-math.log(lb["base"] / (1 - lb["base"])) for lb in LEADERBOARD])
    return Latent(models, skill, sub_eff, verbosity, task_base, lb_base)


@dataclass
class Scores:
    """Candidate scores per routing task: test [C, Q_test] and train [C, Q_train]; every model's expected
    training accuracy [M] (the auxiliaries' scores); the test rows' (prompt, completion) token counts [C, Q_test]."""

    test: dict[str, np.ndarray]
    train: dict[str, np.ndarray]
    train_p_aux: dict[str, np.ndarray]
    test_tok: dict[str, tuple[np.ndarray, np.ndarray]]
    # --query-structure: each candidate's expected score per test and training query, [C, Q] per task
    expected_test: dict[str, np.ndarray] = field(default_factory=dict)
    expected_train: dict[str, np.ndarray] = field(default_factory=dict)


def score_queries(seed: int, archs: list[dict], q: Queries, lat: Latent, C: int, noise: float,
                  st: Structure | None = None) -> Scores:
    """The item-response model: p = sigmoid(skill + sub-topic effect - difficulty + noise * N(0, 1)).

    With a within-task structure (st), each query's sub-topic offset joins the logit and the candidates' expected
    score on every query is recorded (Scores.expected_test, Scores.expected_train)."""
    rs = seeded_rng(seed, 30)
    out = Scores({}, {}, {}, {})
    for ti, a in enumerate(archs):
        t = a["name"]
        items = q.test[t] + q.train[t]
        nte = len(q.test[t])
        cx = np.array([it["cx"] for it in items])
        sub = np.array([it["sub"] for it in items], dtype=int)
        diff = lat.task_base[ti] + 1.5 * (cx - 0.5) + rs.normal(0.0, 2.3, len(items))
        base_logit = lat.skill[:, ti][:, None] + lat.sub_eff[:, ti, :][:, sub] - diff[None, :]  # [M, Q]
        if st is not None:
            topic = np.array([it["topic"] for it in items], dtype=int)
            base_logit = base_logit + st.offsets[:, ti, :][:, topic]
            ex = expected_scores(base_logit[:C], noise, a["metric"] == "commongen_coverage")
            out.expected_test[t], out.expected_train[t] = ex[:, :nte], ex[:, nte:]
        p = sigmoid(base_logit[:C] + noise * rs.normal(0.0, 1.0, (C, len(items))))
        p = np.clip(p, 1e-9, 1.0 - 1e-9)
        if a["metric"] == "commongen_coverage":
            n_words = np.array([len(it["ans"]) for it in items])
            v = sigmoid(np.log(p / (1 - p)) + rs.normal(0.0, 0.4, p.shape))
            k = rs.binomial(np.broadcast_to(n_words, p.shape), 0.3 + 0.7 * v)
            k = np.maximum(k, np.floor(0.2 * n_words).astype(int) + 1)
            sc = k / n_words[None, :]
        else:
            sc = (rs.random(p.shape) < p).astype(float)
        out.test[t] = sc[:, :nte]
        out.train[t] = sc[:, nte:]
        # expected (noise-free) accuracy on the training queries, for every model (auxiliaries' scores)
        pe = sigmoid(base_logit[:, nte:])
        if a["metric"] == "commongen_coverage":
            pe = 0.3 + 0.7 * pe
        out.train_p_aux[t] = pe.mean(axis=1)
        # token counts on the test rows
        lo, hi = a["tok"]
        texts = [(a["system"] or "") + it["user"] if a["name"] not in NO_FORMATTER else it["q"]
                 for it in items[:nte]]
        plen = np.array([len(x) for x in texts], dtype=float)
        tokf = np.array([m["fam"]["tok"] for m in lat.models[:C]])
        prompt = np.ceil(plen[None, :] / (3.8 * tokf[:, None])).astype(int) + 6
        mu = math.log(lo) + (math.log(hi) - math.log(lo)) * rs.random(nte)
        comp = np.exp(mu[None, :] + np.log(lat.verbosity[:C])[:, None] + rs.normal(0.0, 0.25, (C, nte)))
        comp = np.maximum(1, np.round(comp)).astype(int)
        out.test_tok[t] = (prompt, comp)
    return out


def held_out_index(tasks: list[str], sc: Scores, C: int) -> tuple[np.ndarray, int]:
    """The held-out model of newllm mode: the strongest candidate on the training queries.

    Returns the candidates' training accuracy [C, T] and the held-out candidate's index."""
    train_acc = np.array([[sc.train[t][c].mean() for t in tasks] for c in range(C)])  # [C, T]
    return train_acc, int(np.argmax(train_acc.mean(axis=1)))


def leak_test_queries(seed: int, archs: list[dict], q: Queries, sc: Scores, held_idx: int, C: int,
                      n_train: int) -> list[tuple[str, int, int]]:
    """Copy a few test queries (and their scores) over training queries, like the real data's leakage.

    Changes q.train and sc.train in place; returns the (task, test index, train index) of every copy."""
    rl = seeded_rng(seed, 40)
    tasks = [a["name"] for a in archs]
    leak_tasks = [t for t, a in zip(tasks, archs) if a["metric"] == "code_eval"] or list(tasks)
    leaked: list[tuple[str, int, int]] = []
    n_leak = 3 if n_train >= 2 else 0
    others = [c for c in range(C) if c != held_idx]
    for li in range(n_leak):
        t = leak_tasks[li % len(leak_tasks)]
        used_te = {x[1] for x in leaked if x[0] == t}
        used_tr = {x[2] for x in leaked if x[0] == t}
        ts = sc.test[t]
        disc = [j for j in range(ts.shape[1]) if j not in used_te and len(set(ts[others, j].tolist())) > 1]
        pool_te = disc or [j for j in range(ts.shape[1]) if j not in used_te]
        pool_tr = [j for j in range(len(q.train[t])) if j not in used_tr]
        if not pool_te or not pool_tr:
            continue
        j_te = pool_te[int(rl.integers(len(pool_te)))]
        j_tr = pool_tr[int(rl.integers(len(pool_tr)))]
        q.train[t][j_tr] = dict(q.test[t][j_te])
        sc.train[t][:, j_tr] = sc.test[t][:, j_te]
        if t in sc.expected_train:
            sc.expected_train[t][:, j_tr] = sc.expected_test[t][:, j_te]
        leaked.append((t, j_te, j_tr))
    return leaked
