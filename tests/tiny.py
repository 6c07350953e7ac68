"""A tiny hand-made RouteProfile dataset whose every count is known by hand.

Models (JSON order): m1 (FamA), m2 (FamB), m3 (FamA), aux1 (FamB). Candidates: m1, m2, m3 (the test rows' keys).
Tasks: t_math, t_code, t_qa (routing), lb (leaderboard only), unused (described, never scored).

Scores (standard)          t_math  t_code  t_qa   lb
  m1                         80      20     50     60
  m2                         30      90    null    40
  m3                         50      50     70    null
  aux1                      null    null   null    70
newllm: m3 (the held-out model) has t_math and t_code set to null; it keeps t_qa.

Graph facts: architecture 2, model 4, dataset 4 (t_math, t_code, t_qa, lb in first-appearance order: m1 gives
t_math, t_code, t_qa, lb), domain 2 (d_reason: t_math, t_code; d_know: t_qa, lb and the dangling "Ghost").
model->dataset edges: standard 4+3+3+1 = 11, newllm 9. domain->dataset edges: 4.

Test rows: 4 per routing task (12). m1 wins math rows, m2 wins code rows, m3 wins qa rows.
Pairs (standard): per training query, the winner beats each other candidate; newllm drops every pair with m3.
Training queries: 3 per routing task; "what is 2 plus 2" is also a test query (the overlap to drop).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

FAMILIES = {"FamA": "Family A: dense decoder-only transformers tuned for reasoning.",
            "FamB": "Family B: mixture-of-experts models tuned for code."}
TASKS = {"t_math": "Arithmetic word problems that need multi-step calculation.",
         "t_code": "Python programming problems checked by unit tests.",
         "t_qa": "Open-domain factual question answering.",
         "lb": "A general leaderboard of instruction following.",
         "unused": "A benchmark no model reports."}
DOMAINS = {"d_reason": "Reasoning and problem solving.", "d_know": "Knowledge and question answering."}
DOMAIN_MAP = {"d_reason": ["t_math", "t_code"], "d_know": ["t_qa", "lb", "Ghost"]}

SCORES = {"m1": {"t_math": 80.0, "t_code": 20.0, "t_qa": 50.0, "lb": 60.0},
          "m2": {"t_math": 30.0, "t_code": 90.0, "t_qa": None, "lb": 40.0},
          "m3": {"t_math": 50.0, "t_code": 50.0, "t_qa": 70.0, "lb": None},
          "aux1": {"t_math": None, "t_code": None, "t_qa": None, "lb": 70.0}}
ARCH = {"m1": "FamA", "m2": "FamB", "m3": "FamA", "aux1": "FamB"}
PRICES = {"m1": (0.1, 0.2), "m2": (1.0, 1.0), "m3": (0.5, None), "aux1": (None, None)}
CANDIDATE_PRICES = {"m3": (0.5, 0.5)}  # m3's output price comes from candidate_models.json
CANDIDATES = ["m1", "m2", "m3"]
WINNER = {"t_math": "m1", "t_code": "m2", "t_qa": "m3"}

TEST_QUERIES = {
    "t_math": ["what is 2 plus 2", "compute 17 times 3", "a train travels 60 miles in 2 hours, speed?",
               "sum the numbers 4, 8 and 15"],
    "t_code": ["write a python function that reverses a list", "def fib(n): complete the function",
               "write code to parse a csv file", "implement binary search in python"],
    "t_qa": ["who wrote the novel war and peace", "what is the capital of australia",
             "which planet is known as the red planet", "when did the second world war end"],
}
TRAIN_QUERIES = {
    "t_math": ["what is 2 plus 2", "multiply 12 by 12", "divide 100 by 4 and add 3"],
    "t_code": ["write a python function to sort a dict", "implement a stack class", "write a regex for emails"],
    "t_qa": ["who painted the mona lisa", "what is the largest ocean", "who discovered penicillin"],
}


def model_record(name: str, mode: str) -> dict:
    scores = dict(SCORES[name])
    if mode == "newllm" and name == "m3":
        scores["t_math"] = None
        scores["t_code"] = None
    ip, op = PRICES[name]
    return {"size": "7B", "feature": f"{name} is a model of {ARCH[name]} with its own strengths.",
            "input_price": ip, "output_price": op, "model": f"org/{name}", "service": "x", "api_endpoint": "x",
            "average_score": 50.0, "detailed_scores": scores, "parameters": 7.0, "architecture": ARCH[name],
            "license": "x", "tags": [], "languages": ["en"], "router_enabled": True, "role": "primary"}


def test_row(task: str, query: str, i: int) -> dict:
    mp = {}
    for m in CANDIDATES:
        perf = 1.0 if m == WINNER[task] else 0.0
        mp[m] = {"response": "r", "prompt_tokens": 100, "completion_tokens": 10 + i, "input_token": 100,
                 "output_token": 10 + i, "success": True, "task_performance": perf}
    row = {"task_name": task, "query": query, "ground_truth": "g", "metric": "em_mc", "choices": None,
           "task_id": None, "model_performance": mp}
    if task != "t_qa":
        row["formatted_query"] = {"system": f"Solve the {task} problem.", "user": query}
    return row


def pairs(mode: str) -> list[dict]:
    out = []
    for task, qs in TRAIN_QUERIES.items():
        w = WINNER[task]
        for q in qs:
            for loser in CANDIDATES:
                if loser == w:
                    continue
                if mode == "newllm" and "m3" in (w, loser):
                    continue
                out.append({"task_name": task, "query": q, "ground_truth": "g", "metric": "em_mc", "choices": None,
                            "task_id": None, "better_model": w, "worse_model": loser})
    return out


def files() -> dict:
    """Relative path -> JSON-serialisable content (lists of dicts for .jsonl files)."""
    f = {
        "profile_data/model_family_feature.json": FAMILIES,
        "profile_data/task_feature.json": TASKS,
        "profile_data/domain_feature.json": DOMAINS,
        "profile_data/domain_task_map.json": DOMAIN_MAP,
        "profile_data/candidate_models.json": {m: {**model_record(m, "standard"), "input_price": CANDIDATE_PRICES.get(
            m, PRICES[m])[0], "output_price": CANDIDATE_PRICES.get(m, PRICES[m])[1]} for m in CANDIDATES},
        "route_data/routing_test_data.json": [test_row(t, q, i) for t, qs in TEST_QUERIES.items()
                                              for i, q in enumerate(qs)],
        "route_data/default_query_train.jsonl": [{"task_name": t, "query": q, "ground_truth": "g", "metric": "em_mc",
                                                  "choices": None, "task_id": None}
                                                 for t, qs in TRAIN_QUERIES.items() for q in qs],
    }
    for mode in ("standard", "newllm"):
        f[f"profile_data/model_feature_{mode}.json"] = {m: model_record(m, mode) for m in SCORES}
        f[f"route_data/pairwise_training_data_{mode}.json"] = {
            "task_data_count": {t: 2 * len(qs) for t, qs in TRAIN_QUERIES.items()}, "pairwise_data": pairs(mode)}
    return f


def write_tiny(root: str | Path, mutate=None) -> Path:
    """Write the tiny dataset under `root`. `mutate(files_dict)` may edit the contents first (error-path tests);
    a value of type str is written verbatim (e.g. malformed JSON)."""
    root = Path(root)
    f = copy.deepcopy(files())
    if mutate is not None:
        mutate(f)
    for rel, content in f.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        elif rel.endswith(".jsonl"):
            p.write_text("".join(json.dumps(r) + "\n" for r in content), encoding="utf-8")
        else:
            p.write_text(json.dumps(content, indent=2), encoding="utf-8")
    return root


def planted_signal(n=120, d=6, seed=0):
    """A planted query-level training signal (X [n, d], labels [n, 3], tasks, pairs [P, 3]): one task; model 0 wins
    where x[0] > 0, model 1 elsewhere; model 2 always loses (routers that read the query must find it)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    win = np.where(X[:, 0] > 0, 0, 1)
    L = np.zeros((n, 3))
    L[np.arange(n), win] = 1.0
    pairs = np.array([[q, win[q], 1 - win[q]] for q in range(n)] + [[q, win[q], 2] for q in range(n)])
    return X, L, ["t"] * n, pairs
