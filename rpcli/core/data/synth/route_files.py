"""Writing route_data/: the routing test rows, the default query jsonl files and the pairwise training data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from rpcli.core.data.schema import MODES
from rpcli.core.data.synth.draw import seeded_rng
from rpcli.core.data.synth.stages import Queries, Scores
from rpcli.core.data.synth.structure import Structure, topic_expectation
from rpcli.core.data.synth.tasks import EXTRA_JSONL_TASK, NO_FORMATTER
from rpcli.core.data.synth.vocab import THEMES


def write_json(path: Path, obj) -> None:
    """Write obj as indented UTF-8 JSON with a trailing newline."""
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_jsonl(path: Path, rows) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")))
            fh.write("\n")


def _base_row(t: str, a: dict, it: dict, upper: bool) -> dict:
    """The query fields every route_data row starts with; the jsonl and pairwise files spell math/gsm8k upper."""
    m = a["metric"]
    if upper and m in ("math", "gsm8k"):
        m = m.upper()
    return {"task_name": t, "query": it["q"], "ground_truth": it["gt"], "metric": m,
            "choices": it["choices"], "task_id": it["tid"]}


def write_test_rows(rdir: Path, rr: np.random.Generator, archs: list[dict], q: Queries, sc: Scores,
                    cands: list[str]) -> list[dict]:
    """routing_test_data.json: every test query with every candidate's response, tokens and score."""
    test_rows = []
    for a in archs:
        t = a["name"]
        prompt, comp = sc.test_tok[t]
        for j, it in enumerate(q.test[t]):
            row = _base_row(t, a, it, upper=False)
            if t not in NO_FORMATTER:
                row["formatted_query"] = {"system": a["system"], "user": it["user"]}
            perf = {}
            for c in range(len(cands)):
                s = float(sc.test[t][c, j])
                if a["metric"] == "commongen_coverage":
                    words = it["ans"]
                    k = max(1, int(round(s * len(words))))
                    used = [words[x] for x in sorted(rr.permutation(len(words))[:k].tolist())][:6]
                    resp = "A scene with " + ", ".join(used) + "."
                else:
                    resp = it["ans"] if s >= 1.0 else it["wrong"]
                pt, ct = int(prompt[c, j]), int(comp[c, j])
                perf[cands[c]] = {"response": resp, "prompt_tokens": pt, "completion_tokens": ct,
                                  "input_token": pt, "output_token": ct, "success": True, "task_performance": s}
            row["model_performance"] = perf
            test_rows.append(row)
    write_json(rdir / "routing_test_data.json", test_rows)
    return test_rows


def write_query_jsonl(rdir: Path, rr: np.random.Generator, archs: list[dict], q: Queries) -> tuple[int, int]:
    """default_query_{train,test}.jsonl (test rows shuffled per task; plus the extra task). Returns the row counts."""
    extra_arch = dict(metric="em_mc")
    train_rows = []
    for a in archs:
        train_rows.extend(_base_row(a["name"], a, it, upper=True) for it in q.train[a["name"]])
    train_rows.extend(_base_row(EXTRA_JSONL_TASK, extra_arch, it, upper=True) for it in q.extra_train)
    _write_jsonl(rdir / "default_query_train.jsonl", train_rows)
    jtest = []
    for a in archs:
        items = q.test[a["name"]]
        perm = rr.permutation(len(items)).tolist()
        jtest.extend(_base_row(a["name"], a, items[j], upper=True) for j in perm)
    jtest.extend(_base_row(EXTRA_JSONL_TASK, extra_arch, it, upper=True) for it in q.extra_test)
    _write_jsonl(rdir / "default_query_test.jsonl", jtest)
    return len(train_rows), len(jtest)


def _select_pairs(rp: np.random.Generator, qidx: np.ndarray, k: int, leaked_here: list[int]) -> list[int]:
    """Draw k of the pool's pairs; each leaked training query keeps at least one pair when its pool has one."""
    if k <= 0:
        return []
    sel_list = np.sort(rp.choice(len(qidx), size=k, replace=False)).tolist()
    for j_tr in leaked_here:
        have = [x for x in sel_list if qidx[x] == j_tr]
        avail = np.nonzero(qidx == j_tr)[0]
        if have or len(avail) == 0:
            continue
        victims = [x for x in range(len(sel_list)) if int(qidx[sel_list[x]]) not in leaked_here]
        if not victims:
            continue
        sel_list[victims[-1]] = int(avail[0])
    return sorted(sel_list)


def write_pairwise(rdir: Path, seed: int, archs: list[dict], q: Queries, sc: Scores, cands: list[str],
                   held_idx: int, leaked: list[tuple[str, int, int]], pairs_per_task: int) -> dict:
    """pairwise_training_data_{standard,newllm}.json; newllm drops every pair with the held-out model."""
    rp = seeded_rng(seed, 60)
    C = len(cands)
    pi, pj = np.triu_indices(C, k=1)
    pair_counts = {}
    for mode in MODES:
        keep = np.ones(len(pi), bool) if mode == "standard" else (pi != held_idx) & (pj != held_idx)
        mpi, mpj = pi[keep], pj[keep]
        counts, rows = {}, []
        for a in archs:
            t = a["name"]
            s = sc.train[t]  # [C, Q]
            si, sj = s[mpi], s[mpj]  # [P, Q]
            qidx, pidx = np.nonzero((si != sj).T)  # row-major over (query, pair): pool order
            counts[t] = int(len(qidx))
            leaked_here = [j_tr for (lt, _, j_tr) in leaked if lt == t]
            for x in _select_pairs(rp, qidx, min(pairs_per_task, len(qidx)), leaked_here):
                qi, pp = int(qidx[x]), int(pidx[x])
                ci, cj = int(mpi[pp]), int(mpj[pp])
                better, worse = (ci, cj) if s[ci, qi] > s[cj, qi] else (cj, ci)
                row = _base_row(t, a, q.train[t][qi], upper=True)
                row["better_model"] = cands[better]
                row["worse_model"] = cands[worse]
                rows.append(row)
        write_json(rdir / f"pairwise_training_data_{mode}.json", {"task_data_count": counts, "pairwise_data": rows})
        pair_counts[mode] = dict(pairs=len(rows), pool=counts)
    return pair_counts


def write_train_scores(rdir: Path, archs: list[dict], q: Queries, sc: Scores, cands: list[str]) -> int:
    """routing_train_data.json: every routing task's training query with every candidate's score, in the row format
    `rp data import` writes (no token counts or costs: the generator draws them for the test rows only); the
    formatted_query is kept where the test rows carry one, so the training texts match the test texts."""
    rows = []
    for a in archs:
        t = a["name"]
        for j, it in enumerate(q.train[t]):
            row = _base_row(t, a, it, upper=False)
            if t not in NO_FORMATTER:
                row["formatted_query"] = {"system": a["system"], "user": it["user"]}
            row["model_performance"] = {
                cands[c]: {"task_performance": float(sc.train[t][c, j]), "success": True, "cost": None}
                for c in range(len(cands))}
            rows.append(row)
    write_json(rdir / "routing_train_data.json", rows)
    return len(rows)


def write_truth(rdir: Path, archs: list[dict], q: Queries, sc: Scores, cands: list[str], st: Structure,
                params: dict) -> dict:
    """synth_truth.json (the loader does not read it): the sub-topics of --query-structure and what they imply.

    Returns its per-task part ({task: {"best": [candidate per sub-topic], ...}})."""
    tasks = {}
    for ti, a in enumerate(archs):
        t = a["name"]
        exp = topic_expectation(sc, q, t, st.n_sub)  # [C, N]
        n_te = np.bincount([it["topic"] for it in q.test[t]], minlength=st.n_sub)
        n_tr = np.bincount([it["topic"] for it in q.train[t]], minlength=st.n_sub)
        subs = []
        for k in range(st.n_sub):
            label, vocab = THEMES[st.themes[t][k]]
            empty = bool(np.isnan(exp[:, k]).any())  # a sub-topic without queries (more sub-topics than queries)
            subs.append({
                "subtopic": k, "theme": label, "vocabulary": list(vocab),
                "specialist": cands[int(st.specialists[ti, k])],
                "offset": {cands[c]: round(float(st.offsets[c, ti, k]), 4) for c in range(len(cands))},
                "expected_score": None if empty else {cands[c]: round(float(exp[c, k]), 4) for c in range(len(cands))},
                "best": None if empty else cands[int(np.argmax(exp[:, k]))],
                "n_test": int(n_te[k]), "n_train": int(n_tr[k])})
        task_exp = np.nan_to_num(exp) @ ((n_te + n_tr) / max(1, int((n_te + n_tr).sum())))
        tasks[t] = {"expected_score": {cands[c]: round(float(task_exp[c]), 4) for c in range(len(cands))},
                    "best": cands[int(np.argmax(task_exp))], "subtopics": subs}
    doc = {
        "about": "Ground truth of `rp data synth --query-structure`; the loader does not read this file. 'test' is "
                 "in the order of routing_test_data.json, 'train' in the order of the routing tasks' rows of "
                 "default_query_train.jsonl (and of routing_train_data.json). expected_score: a candidate's "
                 "item-response probability on the sub-topic's generated queries (test and training), averaged over "
                 "the per-(model, query) noise; best: its argmax; offset: the sub-topic's logit offset.",
        "params": params,
        "logit": "skill[m, task] + sub_eff[m, task, template] + offset[m, task, subtopic] - difficulty[query] "
                 "+ noise * N(0, 1)",
        "candidates": list(cands),
        "tasks": tasks,
        "test": [{"task_name": a["name"], "query": it["q"], "subtopic": it["topic"]}
                 for a in archs for it in q.test[a["name"]]],
        "train": [{"task_name": a["name"], "query": it["q"], "subtopic": it["topic"]}
                  for a in archs for it in q.train[a["name"]]],
    }
    write_json(rdir / "synth_truth.json", doc)
    return tasks
