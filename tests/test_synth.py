"""The synthetic dataset generator: determinism, the RouteProfile layout, newllm hold-out, scale flags, leakage,
and the within-task structure of --query-structure (its ground truth, texts and room for a query-level router)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rpcli.core.data.synth import generate_dataset

MODEL_KEYS = ["size", "feature", "input_price", "output_price", "model", "service", "api_endpoint", "average_score",
              "detailed_scores", "parameters", "architecture", "license", "tags", "languages", "router_enabled",
              "role"]
CANDIDATE_KEYS = MODEL_KEYS[:-2]
QUERY_KEYS = ["task_name", "query", "ground_truth", "metric", "choices", "task_id"]
PERF_KEYS = ["response", "prompt_tokens", "completion_tokens", "input_token", "output_token", "success",
             "task_performance"]
PROFILE_FILES = ["candidate_models.json", "domain_feature.json", "domain_task_map.json", "model_family_feature.json",
                 "model_feature_newllm.json", "model_feature_standard.json", "task_feature.json",
                 "task_queries_newllm.json", "task_queries_standard.json"]
ROUTE_FILES = ["default_query_test.jsonl", "default_query_train.jsonl", "pairwise_training_data_newllm.json",
               "pairwise_training_data_standard.json", "routing_test_data.json"]


def _json(root: Path, rel: str):
    return json.loads((root / rel).read_text(encoding="utf-8"))


def _jsonl(root: Path, rel: str) -> list:
    return [json.loads(line) for line in (root / rel).read_text(encoding="utf-8").splitlines()]


class _Notes:
    def __init__(self):
        self.lines = []

    def note(self, msg):
        self.lines.append(msg)


@pytest.fixture(scope="module")
def default_ds(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_default")
    notes = _Notes()
    summary = generate_dataset(root, seed=0, progress=notes)
    return root, summary, notes


def test_same_seed_gives_byte_identical_files(tmp_path):
    kw = dict(seed=3, n_models=8, n_candidates=4, n_tasks=6, train_queries_per_task=12, test_queries_per_task=6,
              pairs_per_task=10)
    generate_dataset(tmp_path / "a", **kw)
    generate_dataset(tmp_path / "b", **kw)
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert files_a == files_b and len(files_a) == len(PROFILE_FILES) + len(ROUTE_FILES)
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    generate_dataset(tmp_path / "c", **{**kw, "seed": 4})
    assert (tmp_path / "c/route_data/routing_test_data.json").read_bytes() != \
        (tmp_path / "a/route_data/routing_test_data.json").read_bytes()


def test_layout_and_keys(default_ds):
    root, summary, notes = default_ds
    for f in PROFILE_FILES:
        assert (root / "profile_data" / f).is_file(), f
    for f in ROUTE_FILES:
        assert (root / "route_data" / f).is_file(), f
    assert notes.lines and "done" in notes.lines[-1]
    # JSON files are indent=2 with a trailing newline
    text = (root / "profile_data/domain_feature.json").read_text(encoding="utf-8")
    assert text.endswith("}\n") and text.startswith('{\n  "')

    families = _json(root, "profile_data/model_family_feature.json")
    tasks = _json(root, "profile_data/task_feature.json")
    domains = _json(root, "profile_data/domain_feature.json")
    dmap = _json(root, "profile_data/domain_task_map.json")
    assert list(dmap) == list(domains) == summary["domains"]
    assert 4 <= len(families) <= 5 and all(len(d) > 100 for d in families.values())
    for mode in ("standard", "newllm"):
        mf = _json(root, f"profile_data/model_feature_{mode}.json")
        assert len(mf) == summary["n_models"] == 12
        for name, rec in mf.items():
            assert list(rec) == MODEL_KEYS, name
            assert rec["architecture"] in families
            for t, v in rec["detailed_scores"].items():
                assert v is None or (t in tasks and 0.0 <= v <= 100.0)
    cm = _json(root, "profile_data/candidate_models.json")
    assert list(cm) == summary["candidates"]
    for rec in cm.values():
        assert list(rec) == CANDIDATE_KEYS
        assert rec["input_price"] is not None and rec["output_price"] is not None
        assert set(rec["detailed_scores"]) == set(summary["leaderboard_tasks"])
    # every routing task and leaderboard task is described; some described tasks are never scored
    for t in summary["routing_tasks"] + summary["leaderboard_tasks"]:
        assert t in tasks
    assert len(tasks) > len(summary["routing_tasks"]) + len(summary["leaderboard_tasks"])

    test_rows = _json(root, "route_data/routing_test_data.json")
    assert len(test_rows) == summary["n_test_rows"] == 8 * 30
    with_fq = set()
    for r in test_rows:
        assert list(r)[:6] == QUERY_KEYS and list(r)[-1] == "model_performance"
        if "formatted_query" in r:
            assert set(r["formatted_query"]) == {"system", "user"}
            with_fq.add(r["task_name"])
        for perf in r["model_performance"].values():
            assert list(perf) == PERF_KEYS and perf["success"] is True
            assert isinstance(perf["prompt_tokens"], int) and perf["prompt_tokens"] == perf["input_token"]
            if r["metric"] == "commongen_coverage":
                assert 0.2 < perf["task_performance"] <= 1.0
            else:
                assert perf["task_performance"] in (0.0, 1.0)
        if r["choices"] is not None:
            ast.literal_eval(r["choices"])
    assert len(set(summary["routing_tasks"]) - with_fq) == 2  # two tasks carry no formatted_query

    for rel in ("route_data/default_query_train.jsonl", "route_data/default_query_test.jsonl"):
        rows = _jsonl(root, rel)
        assert all(list(r) == QUERY_KEYS for r in rows)
        metrics = {r["metric"] for r in rows}
        assert "math" not in metrics and "gsm8k" not in metrics  # upper case in the jsonl files, like the real data
        assert {"MATH", "GSM8K"} <= metrics
    for mode in ("standard", "newllm"):
        doc = _json(root, f"route_data/pairwise_training_data_{mode}.json")
        assert list(doc) == ["task_data_count", "pairwise_data"]
        assert list(doc["task_data_count"]) == summary["routing_tasks"]
        for r in doc["pairwise_data"]:
            assert list(r) == QUERY_KEYS + ["better_model", "worse_model"]
            assert r["better_model"] != r["worse_model"]
        tq = _json(root, f"profile_data/task_queries_{mode}.json")
        assert list(tq) == summary["routing_tasks"] and all(len(v) == 60 for v in tq.values())


def test_candidates_are_the_model_performance_keys(default_ds):
    root, summary, _ = default_ds
    cands = summary["candidates"]
    assert len(cands) == 6
    for r in _json(root, "route_data/routing_test_data.json"):
        assert list(r["model_performance"]) == cands
    mf = _json(root, "profile_data/model_feature_standard.json")
    assert list(mf)[:6] == cands
    priced = [n for n, rec in mf.items() if rec["input_price"] is not None]
    assert set(priced) <= set(cands) and len(priced) >= len(cands) - 1  # one candidate keeps the real data's quirk


def test_held_out_model_in_newllm(default_ds):
    root, summary, _ = default_ds
    held, kept = summary["held_out"], summary["held_out_kept_task"]
    assert held in summary["candidates"]
    std = _json(root, "profile_data/model_feature_standard.json")
    new = _json(root, "profile_data/model_feature_newllm.json")
    for t in summary["routing_tasks"]:
        if t == kept:
            assert new[held]["detailed_scores"][t] is not None
            assert new[held]["detailed_scores"][t] == std[held]["detailed_scores"][t]
        else:
            assert new[held]["detailed_scores"][t] is None
    for t in summary["leaderboard_tasks"]:
        assert new[held]["detailed_scores"][t] == std[held]["detailed_scores"][t]
    assert sum(v is not None for t, v in std[held]["detailed_scores"].items()
               if t in summary["routing_tasks"]) >= len(summary["routing_tasks"]) - 1
    for name in std:  # nothing else differs between the two model files
        if name != held:
            assert std[name] == new[name]
    std_pairs = _json(root, "route_data/pairwise_training_data_standard.json")["pairwise_data"]
    new_pairs = _json(root, "route_data/pairwise_training_data_newllm.json")["pairwise_data"]
    assert any(held in (p["better_model"], p["worse_model"]) for p in std_pairs)
    assert not any(held in (p["better_model"], p["worse_model"]) for p in new_pairs)
    tq_std = _json(root, "profile_data/task_queries_standard.json")
    assert tq_std == _json(root, "profile_data/task_queries_newllm.json")


def test_leakage_is_as_designed(default_ds):
    root, summary, _ = default_ds
    test_rows = _json(root, "route_data/routing_test_data.json")
    test_q = [r["query"] for r in test_rows]
    train_q = [r["query"] for r in _jsonl(root, "route_data/default_query_train.jsonl")]
    assert len(set(test_q)) == len(test_q) and len(set(train_q)) == len(train_q)
    leaked = set(train_q) & set(test_q)
    assert len(leaked) == summary["leaked_queries"] == 3
    jtest = {r["query"] for r in _jsonl(root, "route_data/default_query_test.jsonl")}
    assert set(test_q) <= jtest  # the test jsonl holds every routing-test query
    for mode in ("standard", "newllm"):
        pair_q = {p["query"] for p in _json(root, f"route_data/pairwise_training_data_{mode}.json")["pairwise_data"]}
        assert pair_q <= set(train_q)
        assert pair_q & set(test_q) == leaked  # every leaked query reaches the pairwise data, nothing else does


def test_pairs_follow_the_scores_and_the_cap(tmp_path):
    s = generate_dataset(tmp_path, seed=1, n_models=6, n_candidates=4, n_tasks=3, train_queries_per_task=20,
                         test_queries_per_task=5, pairs_per_task=15)
    doc = _json(tmp_path, "route_data/pairwise_training_data_standard.json")
    per_task = {}
    for p in doc["pairwise_data"]:
        per_task[p["task_name"]] = per_task.get(p["task_name"], 0) + 1
    for t, pool in doc["task_data_count"].items():
        assert per_task.get(t, 0) == min(15, pool)
    # a pool holds every differing candidate pair of every training query, so it never exceeds Q * C(C-1)/2
    assert all(pool <= 20 * 6 for pool in doc["task_data_count"].values())
    new = _json(tmp_path, "route_data/pairwise_training_data_newllm.json")
    assert all(new["task_data_count"][t] <= doc["task_data_count"][t] for t in doc["task_data_count"])
    assert s["pairs"]["standard"] == len(doc["pairwise_data"])


def test_scale_flags_change_counts(tmp_path):
    s = generate_dataset(tmp_path, seed=2, n_models=20, n_candidates=5, n_tasks=10, n_domains=6,
                         train_queries_per_task=15, test_queries_per_task=4, pairs_per_task=7,
                         with_task_queries=False)
    assert (s["n_models"], s["n_candidates"], s["n_auxiliary"]) == (20, 5, 15)
    assert len(s["routing_tasks"]) == 10 and len(s["domains"]) == 6
    assert len(_json(tmp_path, "profile_data/model_feature_standard.json")) == 20
    assert len(_json(tmp_path, "profile_data/candidate_models.json")) == 5
    rows = _json(tmp_path, "route_data/routing_test_data.json")
    assert len(rows) == 40 and len(rows[0]["model_performance"]) == 5
    train = _jsonl(tmp_path, "route_data/default_query_train.jsonl")
    assert sum(r["task_name"] in s["routing_tasks"] for r in train) == 150 == s["n_train_queries"]
    assert len(_json(tmp_path, "route_data/pairwise_training_data_standard.json")["pairwise_data"]) == 70
    assert list(_json(tmp_path, "profile_data/domain_task_map.json")) == s["domains"]
    assert not (tmp_path / "profile_data/task_queries_standard.json").exists()
    # 1 continuous task only from 6 tasks on
    small = generate_dataset(tmp_path / "small", n_models=3, n_candidates=2, n_tasks=5, train_queries_per_task=3,
                             test_queries_per_task=2)
    metrics = {r["metric"] for r in _json(tmp_path / "small", "route_data/routing_test_data.json")}
    assert "commongen_coverage" not in metrics and len(small["routing_tasks"]) == 5


def test_signal_sanity_with_defaults(default_ds):
    _, summary, _ = default_ds
    san = summary["sanity"]
    best = san["best_single"]["score"]
    assert san["oracle"] >= best + 0.1
    assert san["per_task_best"]["score"] > best
    assert san["held_out_best_rows"] >= 0.2 * summary["n_test_rows"]


@pytest.mark.parametrize("kw", [dict(n_candidates=1), dict(n_models=3, n_candidates=4), dict(n_tasks=0),
                                dict(n_tasks=99), dict(n_domains=7), dict(train_queries_per_task=0),
                                dict(noise=-1.0)])
def test_bad_arguments_raise(tmp_path, kw):
    with pytest.raises(ValueError):
        generate_dataset(tmp_path, **kw)


def test_bad_arguments_are_config_errors_naming_the_option(tmp_path):
    from rpcli.errors import ConfigError

    with pytest.raises(ConfigError, match=r"n_candidates \(--candidates\) must be at least 2 \(got 1\)"):
        generate_dataset(tmp_path / "out", n_candidates=1)
    with pytest.raises(ConfigError, match=r"n_models \(--models\) must be at least the number of candidates \(6\)"):
        generate_dataset(tmp_path / "out", n_models=5)
    with pytest.raises(ConfigError, match=r"must be an integer"):
        generate_dataset(tmp_path / "out", n_tasks=2.5)
    assert not (tmp_path / "out").exists()  # nothing written before the parameters are checked


def _squeeze(panel: str) -> str:
    """A rich panel's text without borders or whitespace (long paths wrap inside the panel)."""
    return "".join(ch for ch in panel if not ch.isspace() and ch not in "│╭╮╰╯─")


@pytest.mark.parametrize("args, option", [
    (["--candidates", "1"], "--candidates"), (["--candidates", "0"], "--candidates"),
    (["--candidates", "-3"], "--candidates"), (["--models", "0"], "--models"),
    (["--models", "3", "--candidates", "4"], "--models"), (["--tasks", "0"], "--tasks"),
    (["--tasks", "99"], "--tasks"), (["--tasks", "-1"], "--tasks"), (["--domains", "0"], "--domains"),
    (["--domains", "7"], "--domains"), (["--train-queries-per-task", "0"], "--train-queries-per-task"),
    (["--test-queries-per-task", "0"], "--test-queries-per-task"),
    (["--test-queries-per-task", "-5"], "--test-queries-per-task"), (["--pairs-per-task", "-1"], "--pairs-per-task"),
    (["--noise", "-0.5"], "--noise"), (["--noise", "nan"], "--noise"), (["--noise", "inf"], "--noise"),
    (["--seed", "-1"], "--seed"), (["--query-structure", "-1"], "--query-structure"),
    (["--query-structure", "nan"], "--query-structure"), (["--query-structure", "21"], "--query-structure"),
    (["--subtopics", "0"], "--subtopics"), (["--subtopics", "13"], "--subtopics"),
])
def test_cli_bad_synth_argument_is_one_panel_exit_1(tmp_path, args, option):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["data", "synth", "--out", str(out), *args])
    assert res.exit_code == 1, res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert "Traceback" not in res.output and "Invalid options" in res.stderr
    assert f"({option})" in _squeeze(res.stderr) and res.stdout == ""
    assert not out.exists()


def test_cli_synth_into_a_file_is_one_panel_exit_1(tmp_path):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    target = tmp_path / "a_file"
    target.write_text("x")
    res = CliRunner().invoke(app, ["data", "synth", "--out", str(target), "--models", "3", "--candidates", "2",
                                   "--tasks", "1", "--train-queries-per-task", "2", "--test-queries-per-task", "1"])
    assert res.exit_code == 1, res.output
    assert "Traceback" not in res.output and f"cannotwriteadatasetinto{target}" in _squeeze(res.stderr)
    assert target.read_text() == "x"


def test_committed_demo_is_what_seed_0_generates(default_ds):
    """profile_data/ and route_data/ in the repo are `rp data synth --out . --seed 0`, byte for byte."""
    root, _, _ = default_ds
    repo = Path(__file__).resolve().parents[1]
    for sub, names in (("profile_data", PROFILE_FILES), ("route_data", ROUTE_FILES)):
        committed = sorted(p.name for p in (repo / sub).iterdir() if p.name != "README.md")
        assert committed == names
        for name in names:
            assert (repo / sub / name).read_bytes() == (root / sub / name).read_bytes(), f"{sub}/{name}"


# --- within-task structure (--query-structure S, --subtopics N) ---------------------------------------------------

IMPORT_ROW_KEYS = ["task_name", "query", "ground_truth", "metric", "choices", "task_id", "model_performance"]


@pytest.fixture(scope="module")
def structured_ds(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth_structured")
    summary = generate_dataset(root, seed=0, query_structure=2.0, n_subtopics=3)
    return root, summary


def _truth_rows(root: Path):
    """(synth_truth.json, the test rows, the training score rows)."""
    truth = _json(root, "route_data/synth_truth.json")
    test = _json(root, "route_data/routing_test_data.json")
    train = _json(root, "route_data/routing_train_data.json")
    return truth, test, train


def test_structure_zero_is_the_default_output_byte_for_byte(tmp_path, default_ds):
    root, _, _ = default_ds
    generate_dataset(tmp_path / "s0", seed=0, query_structure=0.0, n_subtopics=7)  # --subtopics unused at S = 0
    for sub, names in (("profile_data", PROFILE_FILES), ("route_data", ROUTE_FILES)):
        assert sorted(p.name for p in (tmp_path / "s0" / sub).iterdir()) == names
        for name in names:
            assert (tmp_path / "s0" / sub / name).read_bytes() == (root / sub / name).read_bytes(), f"{sub}/{name}"


def test_train_scores_flag_adds_only_the_score_rows(tmp_path):
    kw = dict(seed=1, n_models=6, n_candidates=4, n_tasks=4, train_queries_per_task=8, test_queries_per_task=4,
              pairs_per_task=10)
    generate_dataset(tmp_path / "a", **kw)
    generate_dataset(tmp_path / "b", train_scores=True, **kw)
    a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    assert sorted(set(b) - set(a)) == [Path("route_data/routing_train_data.json")]
    for rel in a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    rows = _json(tmp_path / "b", "route_data/routing_train_data.json")
    jsonl = [r for r in _jsonl(tmp_path / "b", "route_data/default_query_train.jsonl")
             if r["task_name"] != "grad_science"]
    assert [(r["task_name"], r["query"]) for r in rows] == [(r["task_name"], r["query"]) for r in jsonl]


def test_structured_files_load_and_match_the_import_format(structured_ds):
    from rpcli.core.data import load_dataset
    from rpcli.core.routers.training import read_score_rows

    root, summary = structured_ds
    assert "route_data/synth_truth.json" in summary["files"]
    assert "route_data/routing_train_data.json" in summary["files"]
    ds = load_dataset(root)
    assert len(ds.test_rows) == summary["n_test_rows"]
    train = _json(root, "route_data/routing_train_data.json")
    assert ds.train_scores is not None and len(ds.train_scores) == len(train) == summary["n_train_queries"]
    for r in train:  # the rows rp data import writes (plus the test rows' formatted_query where they carry one)
        assert [k for k in r if k != "formatted_query"] == IMPORT_ROW_KEYS
        assert list(r["model_performance"]) == summary["candidates"]
        for e in r["model_performance"].values():
            assert list(e) == ["task_performance", "success", "cost"] and e["success"] is True
            assert 0.0 <= e["task_performance"] <= 1.0
    assert len(read_score_rows(root)) == len(train)
    # the score rows agree with the pairwise file (better model, higher score)
    score = {(r["task_name"], r["query"]): r["model_performance"] for r in train}
    pairs = _json(root, "route_data/pairwise_training_data_standard.json")["pairwise_data"]
    assert pairs and all(score[(p["task_name"], p["query"])][p["better_model"]]["task_performance"]
                         > score[(p["task_name"], p["query"])][p["worse_model"]]["task_performance"] for p in pairs)


def test_truth_lists_every_query_in_file_order(structured_ds):
    root, summary = structured_ds
    truth, test, train = _truth_rows(root)
    assert [(r["task_name"], r["query"]) for r in truth["test"]] == [(r["task_name"], r["query"]) for r in test]
    assert [(r["task_name"], r["query"]) for r in truth["train"]] == [(r["task_name"], r["query"]) for r in train]
    assert truth["params"]["query_structure"] == 2.0 and truth["params"]["n_subtopics"] == 3
    for t, info in truth["tasks"].items():
        subs = info["subtopics"]
        assert [s["subtopic"] for s in subs] == [0, 1, 2]
        assert len({s["theme"] for s in subs}) == 3
        for c in truth["candidates"]:  # a model's offsets are centred over the task's sub-topics
            assert abs(sum(s["offset"][c] for s in subs)) < 1e-3
        assert len({s["specialist"] for s in subs}) == 3
        for s in subs:
            assert s["best"] == max(s["expected_score"], key=s["expected_score"].get)
            assert s["n_test"] == sum(r["task_name"] == t and r["subtopic"] == s["subtopic"] for r in truth["test"])
        assert sorted(s["n_test"] for s in subs)[-1] - sorted(s["n_test"] for s in subs)[0] <= 1  # equal shares


def test_subtopic_best_beats_the_task_best_on_its_test_queries(structured_ds):
    root, summary = structured_ds
    truth, test, _ = _truth_rows(root)
    won_sub = won_task = n_differ = 0
    for row, tr in zip(test, truth["test"]):
        info = truth["tasks"][row["task_name"]]
        sub_best = info["subtopics"][tr["subtopic"]]["best"]
        if sub_best == info["best"]:
            continue
        n_differ += 1
        mp = row["model_performance"]
        won_sub += mp[sub_best]["task_performance"] > mp[info["best"]]["task_performance"]
        won_task += mp[info["best"]]["task_performance"] > mp[sub_best]["task_performance"]
    assert n_differ >= 0.25 * len(test)  # the sub-topics move the winner on a good share of the queries
    assert won_sub > 1.5 * won_task
    # different sub-topics of one task have different best candidates somewhere
    assert any(len({s["best"] for s in info["subtopics"]}) > 1 for info in truth["tasks"].values())
    ql = summary["sanity"]["query_level"]
    assert ql["subtopic_oracle"] >= ql["per_task_best"] + 0.05
    assert ql["room_subtopic_expected"] >= 0.05


def _within_across(sim, topics):
    """The mean similarity of two different queries of one sub-topic, and of two queries of different sub-topics."""
    import numpy as np

    sim = np.asarray(sim, dtype=float)
    k = np.asarray(topics)
    same = k[:, None] == k[None, :]
    np.fill_diagonal(same, False)
    return sim[same].mean(), sim[k[:, None] != k[None, :]].mean()


def test_queries_of_one_subtopic_are_closer(structured_ds):
    import re

    import numpy as np

    from rpcli.core.encoder import HashEncoder

    root, _ = structured_ds
    truth, _, _ = _truth_rows(root)
    rows = truth["test"] + truth["train"]
    enc = HashEncoder(32)
    for t in truth["tasks"]:
        mine = [r for r in rows if r["task_name"] == t]
        topics = [r["subtopic"] for r in mine]
        x = enc.encode([r["query"] for r in mine])
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        within, across = _within_across(x @ x.T, topics)
        assert within > across + 0.015, (t, within, across)
        words = [set(re.findall(r"\w+", r["query"].lower())) for r in mine]
        within, across = _within_across([[len(a & b) / len(a | b) for b in words] for a in words], topics)
        assert within > across + 0.02, (t, within, across)


def test_structure_is_deterministic_and_only_adds_framing(tmp_path):
    kw = dict(seed=5, n_models=8, n_candidates=4, n_tasks=8, train_queries_per_task=10, test_queries_per_task=6,
              pairs_per_task=10, query_structure=1.5, n_subtopics=4)
    generate_dataset(tmp_path / "a", **kw)
    generate_dataset(tmp_path / "b", **kw)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert len(files) == len(PROFILE_FILES) + len(ROUTE_FILES) + 2
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    # the framed queries keep the unstructured dataset's queries (same seed): the framing adds words only
    generate_dataset(tmp_path / "plain", **{**kw, "query_structure": 0.0})
    plain = _json(tmp_path / "plain", "route_data/routing_test_data.json")
    framed = _json(tmp_path / "a", "route_data/routing_test_data.json")
    for p, f in zip(plain, framed):
        assert p["task_name"] == f["task_name"] and p["ground_truth"] in (f["ground_truth"], p["query"])
        if p["task_name"] == "concept_gen":
            assert set(p["query"].split(", ")) < set(f["query"].split(", "))
        else:
            assert f["query"].endswith(p["query"]) and len(f["query"]) > len(p["query"])
        if "formatted_query" in p:
            assert f["formatted_query"]["user"] == p["formatted_query"]["user"].replace(p["query"], f["query"], 1)


def test_the_room_of_a_query_level_router_grows_with_the_structure(tmp_path):
    rooms = {}
    for S in (0.0, 0.5, 2.0):
        ql = generate_dataset(tmp_path / str(S), seed=0, query_structure=S)["sanity"]["query_level"]
        rooms[S] = ql
    assert rooms[0.0]["subtopic_oracle"] is None and rooms[0.0]["room_subtopic_expected"] is None
    assert rooms[2.0]["room_oracle"] > rooms[0.0]["room_oracle"] + 0.03
    assert rooms[2.0]["room_subtopic_expected"] > rooms[0.5]["room_subtopic_expected"] + 0.04
    assert rooms[2.0]["room_subtopic_oracle"] > rooms[0.5]["room_subtopic_oracle"]


@pytest.mark.parametrize("kw, msg", [
    (dict(query_structure=-1.0), r"query_structure \(--query-structure\) must be a number between 0 and 20"),
    (dict(query_structure=float("nan")), r"\(--query-structure\)"),
    (dict(query_structure=True), r"\(--query-structure\)"),
    (dict(query_structure=25), r"\(--query-structure\) must be a number between 0 and 20 \(got 25\)"),
    (dict(n_subtopics=0), r"n_subtopics \(--subtopics\) must be between 1 and 12 \(got 0\)"),
    (dict(n_subtopics=13), r"n_subtopics \(--subtopics\) must be between 1 and 12"),
    (dict(n_subtopics=2.5), r"n_subtopics \(--subtopics\) must be an integer"),
])
def test_bad_structure_arguments_name_the_option(tmp_path, kw, msg):
    from rpcli.core.data.synth.stages import SynthParamError

    with pytest.raises(SynthParamError, match=msg):
        generate_dataset(tmp_path / "out", **kw)
    assert not (tmp_path / "out").exists()


def test_cli_synth_with_structure_reports_the_room(tmp_path):
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    out = tmp_path / "ds"
    res = CliRunner().invoke(app, ["data", "synth", "--out", str(out), "--models", "6", "--candidates", "4",
                                   "--tasks", "3", "--train-queries-per-task", "9", "--test-queries-per-task", "6",
                                   "--query-structure", "2", "--subtopics", "2", "--json"])
    assert res.exit_code == 0, res.output
    summary = json.loads(res.stdout)
    assert summary["params"]["query_structure"] == 2.0 and summary["params"]["n_subtopics"] == 2
    assert set(summary["sanity"]["query_level"]) >= {"per_task_best", "per_task_oracle", "oracle", "subtopic_oracle",
                                                      "room_subtopic_expected"}
    truth = _json(out, "route_data/synth_truth.json")
    assert all(len(info["subtopics"]) == 2 for info in truth["tasks"].values())


def test_more_subtopics_than_queries_leaves_empty_subtopics_null(tmp_path):
    from rpcli.core.data import load_dataset

    summary = generate_dataset(tmp_path, n_models=3, n_candidates=2, n_tasks=2, train_queries_per_task=2,
                               test_queries_per_task=1, query_structure=1.0, n_subtopics=6)
    truth = _json(tmp_path, "route_data/synth_truth.json")
    for info in truth["tasks"].values():
        empty = [s for s in info["subtopics"] if s["n_test"] + s["n_train"] == 0]
        assert len(empty) >= 3 and all(s["best"] is None and s["expected_score"] is None for s in empty)
        assert info["best"] in summary["candidates"]
    assert summary["sanity"]["query_level"]["subtopic_oracle"] is not None
    load_dataset(tmp_path)
