"""rp data import: round trips of small hand-made files of each format, the hand-checked pairwise rule, the split
and per-task scores from the training split only, and bad input (named file, record and field; nothing written)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.core.data.importers import pairwise_rule, split_queries
from rpcli.core.data.load import load_dataset
from rpcli.errors import ConfigError, DataFileError
from rpcli.services.data.importer import import_dataset

runner = CliRunner()

# Hand-made per-query scores: 2 tasks x 6 queries, 3 models. "q-maths-3" has no score for c.
MODELS = ["a", "b", "c"]
QUERIES = {"maths": [f"q-maths-{i}" for i in range(6)], "facts": [f"q-facts-{i}" for i in range(6)]}


def _score(task, i, m):
    table = {"a": [1, 0, 1, 1, 0, 1], "b": [0, 0, 1, 0, 1, 1], "c": [0.5, 1, 0, None, 0.25, 1]}
    v = table[m][i]
    return v if task == "maths" or v is None else 1 - v


def _long_records():
    out = []
    for t, qs in QUERIES.items():
        for i, q in enumerate(qs):
            for m in MODELS:
                out.append({"query": q, "task": t, "model": m, "score": _score(t, i, m),
                            "prompt_tokens": 100 + i, "completion_tokens": 10 * (1 + MODELS.index(m))})
    return out


def _write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


CARDS = """
models:
  a: {description: "Model a is a small generalist.", family: F1, input_price: 1.0, output_price: 2.0,
      scores: {lb: 55.5}}
  b: {description: "Model b is good at facts.", family: F2, input_price: 0.5, output_price: 0.5}
  c: {description: "Model c is large.", family: F1, input_price: 3.0, output_price: 3.0}
  aux: {description: "An auxiliary model with a leaderboard score only.", family: F2, scores: {lb: 70}}
families: {F1: "Family one.", F2: "Family two."}
tasks: {maths: "Arithmetic.", facts: "Facts.", lb: "A leaderboard."}
domains: {reasoning: {description: "Reasoning.", tasks: [maths]}}
"""


def test_scores_round_trip_long_records(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    (tmp_path / "cards.yaml").write_text(CARDS)
    out = tmp_path / "ds"
    s = import_dataset(src, "scores", out, test_fraction=0.34, seed=3, hold_out="c", cards=tmp_path / "cards.yaml")
    ds = load_dataset(out)
    assert ds.candidates == MODELS and s["candidates"] == MODELS
    assert [m.name for m in ds.modes["standard"].models] == MODELS + ["aux"]  # card-only model: graph context
    assert len(ds.test_rows) == s["n_test_rows"] == 4  # round(0.34 * 6) = 2 per task
    assert len(ds.train_queries) == s["n_train_queries"] == 8
    assert s["placeholders"] == [] and not s["warnings"]
    # every test row carries every model's score exactly as given, and its cost from tokens x card prices
    for r in ds.test_rows:
        i = int(r.query.rsplit("-", 1)[1])
        for m in MODELS:
            assert r.scores[m] == _score(r.task_name, i, m)
        assert r.costs["a"] == pytest.approx(((100 + i) * 1.0 + 10 * 2.0) / 1e6)
    assert ds.held_out == ["c"] and ds.held_out_source == "route_data/held_out.json"
    newllm = {m.name: m for m in ds.modes["newllm"].models}
    assert newllm["c"].scores["maths"] is None and newllm["a"].scores["lb"] == 55.5
    assert all("c" not in (p.better, p.worse) for p in ds.modes["newllm"].pairs)
    assert any("c" in (p.better, p.worse) for p in ds.modes["standard"].pairs)
    assert ds.domain_task_map == {"reasoning": ["maths"]}
    assert s["data_hash"] == ds.data_hash


def test_scores_per_query_records_and_json_list(tmp_path):
    rows = []
    for t, qs in QUERIES.items():
        for i, q in enumerate(qs):
            rows.append({"prompt": q, "dataset": t, "scores": {m: _score(t, i, m) for m in MODELS},
                         "cost": {m: 0.001 * (1 + j) for j, m in enumerate(MODELS)}})
    src = tmp_path / "s.json"
    src.write_text(json.dumps(rows))
    s = import_dataset(src, "scores", tmp_path / "ds", seed=1)
    ds = load_dataset(tmp_path / "ds")
    assert ds.candidates == MODELS and ds.held_out == []
    assert all(r.costs == {"a": 0.001, "b": 0.002, "c": 0.003} for r in ds.test_rows)
    # no cards: every description is the neutral placeholder, reported by rp data check
    from rpcli.core.data.audit import placeholder, placeholder_descriptions

    ph = placeholder_descriptions(ds)
    assert ph["model"] == MODELS and ph["task"] == ["maths", "facts"] and ph["family"] == ["unspecified"]
    assert next(iter(ds.modes.values())).models[0].feature == placeholder("model", "a")
    assert any("has no description" in w for w in s["warnings"])


def test_wide_csv_round_trip(tmp_path):
    lines = ["sample_id,prompt,eval_name,a,b,c,a|total_cost,b|total_cost,c|total_cost,a|model_response,"
             "oracle_model_to_route_to"]
    for t, qs in QUERIES.items():
        for i, q in enumerate(qs):
            sc = ["" if _score(t, i, m) is None else str(_score(t, i, m)) for m in MODELS]
            lines.append(f"{t}.{i},\"{q}, with a comma\",{t},{','.join(sc)},0.0001,0.0002,0.0003,\"text, x\",a")
    src = tmp_path / "wide.csv"
    src.write_text("\n".join(lines) + "\n")
    s = import_dataset(src, "wide-csv", tmp_path / "ds", seed=0)
    ds = load_dataset(tmp_path / "ds")
    assert ds.candidates == MODELS and s["n_test_rows"] == 2 * 1  # round(0.2 * 6) = 1 per task
    for r in ds.test_rows:
        t, i = r.task_name, int(r.query.split(",")[0].rsplit("-", 1)[1])
        assert r.query.endswith(", with a comma")
        assert r.scores == {m: _score(t, i, m) for m in MODELS}
        assert r.costs == {"a": 0.0001, "b": 0.0002, "c": 0.0003}
        assert r.task_id == f"{t}.{i}"
    missing = sum(v is None for r in ds.test_rows for v in r.scores.values())
    assert s["missing_test_results"] == missing


def test_pairwise_rule_by_hand():
    scores = {("t", "q1"): {"a": 1.0, "b": 0.0, "c": 0.5},
              ("t", "q2"): {"a": 1.0, "b": 1.0, "c": 0.0},   # a = b: no a-b pair
              ("t", "q3"): {"a": None, "b": 0.0, "c": 1.0},  # a has no score: no pair with a
              ("u", "q4"): {"a": 0.2, "b": 0.2, "c": 0.2}}   # all equal: no pair at all

    def score(t, q, m):
        return scores[(t, q)][m]

    counts, pairs = pairwise_rule(list(scores), MODELS, score, seed=0, mode="standard", pairs_per_task=None)
    assert counts == {"t": 6, "u": 0}
    assert pairs == [("t", "q1", "a", "b"), ("t", "q1", "a", "c"), ("t", "q1", "c", "b"),
                     ("t", "q2", "a", "c"), ("t", "q2", "b", "c"),
                     ("t", "q3", "c", "b")]
    # the cap draws that many without replacement, seeded, kept in pool order
    counts2, capped = pairwise_rule(list(scores), MODELS, score, seed=0, mode="standard", pairs_per_task=4)
    assert counts2 == counts and len(capped) == 4 and set(capped) <= set(pairs)
    assert capped == sorted(capped, key=pairs.index)
    assert capped == pairwise_rule(list(scores), MODELS, score, seed=0, mode="standard", pairs_per_task=4)[1]
    draws = {tuple(pairwise_rule(list(scores), MODELS, score, seed=s, mode="standard", pairs_per_task=4)[1])
             for s in range(20)}
    assert len(draws) > 1  # the seed chooses


def test_split_is_seeded_stratified_and_scores_use_training_queries_only(tmp_path):
    keys = [(t, q) for t, qs in QUERIES.items() for q in qs]
    test = split_queries(keys, 0.5, seed=7)
    assert test == split_queries(keys, 0.5, seed=7)
    assert sum(t == "maths" for t, _ in test) == 3 and sum(t == "facts" for t, _ in test) == 3
    assert len({frozenset(split_queries(keys, 0.5, seed=s)) for s in range(10)}) > 1
    # a scores 1 on every training query and 0 on every test query: its card score must be 100 (never leaked)
    rows = [{"query": q, "task": t, "scores": {"a": 0.0 if (t, q) in test else 1.0, "b": 0.5}} for t, q in keys]
    src = _write_jsonl(tmp_path / "s.jsonl", rows)
    import_dataset(src, "scores", tmp_path / "ds", test_fraction=0.5, seed=7)
    ds = load_dataset(tmp_path / "ds")
    a = ds.modes["standard"].model("a")
    assert a.scores == {"maths": 100.0, "facts": 100.0}
    assert {(r.task_name, r.query) for r in ds.test_rows} == test
    assert all(r.scores["a"] == 0.0 for r in ds.test_rows)
    # the training pairs are exactly the rule on the training queries: a beats b on each of them
    pairs = ds.modes["standard"].pairs
    assert {(p.task_name, p.query) for p in pairs} == set(keys) - test
    assert all((p.better, p.worse) == ("a", "b") for p in pairs)
    assert {q.query for q in ds.train_queries}.isdisjoint({r.query for r in ds.test_rows})


def _cli(*args):
    return runner.invoke(app, ["data", "import", *map(str, args)])


@pytest.mark.parametrize("content,record,field", [
    ('[{"query": "x", "task": "t", "model": "a", "score": 1}\n  {"query"', None, None),
    ('{"query": "x", "task": "t", "model": "a", "score": 1}\n{"query": "y", "task": "t", "score": 0}\n',
     "line 2", "model"),
    ('{"query": "x", "task": "t", "model": "a", "score": 1}\n{"query": "y", "model": "b", "score": 0}\n',
     "line 2", "task or dataset or task_name"),
    ('{"query": "x", "task": "t", "model": "a", "score": NaN}\n', "line 1", "score"),
    ('[{"prompt": "x", "task": "t", "scores": {"a": 1, "b": 87}}]', "#0", "scores.b"),
])
def test_bad_scores_name_file_record_field_and_write_nothing(tmp_path, content, record, field):
    src = tmp_path / "bad.json"
    src.write_text(content)
    out = tmp_path / "out"
    with pytest.raises(DataFileError) as ei:
        import_dataset(src, "scores", out)
    msg = str(ei.value)
    assert str(src) in msg
    if record:
        assert f"record {record}" in msg
    if field:
        assert f"field '{field}'" in msg
    if "NaN" in content:
        assert "not a finite number" in msg
    if content.startswith("["):
        assert "malformed JSON" in msg or "outside [0, 1]" in msg
    assert not out.exists() and list(tmp_path.iterdir()) == [src]
    r = _cli(src, "--format", "scores", "--out", out)
    assert r.exit_code == 1 and "Traceback" not in r.output and str(src.name) in r.output
    assert not out.exists()


def test_unknown_hold_out_suggests_and_writes_nothing(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    out = tmp_path / "out"
    with pytest.raises(ConfigError) as ei:
        import_dataset(src, "scores", out, hold_out="cc")
    assert "did you mean 'c'" in str(ei.value)
    assert not out.exists()
    r = _cli(src, "--format", "scores", "--out", out, "--hold-out", "bb")
    assert r.exit_code == 1 and "did you mean 'b'" in r.output and not out.exists()


def test_bad_csv_and_options(tmp_path):
    src = tmp_path / "w.csv"
    src.write_text("prompt,task,a,b\nq1,t,1,0\nq2,t,1,oops\n")
    with pytest.raises(DataFileError) as ei:
        import_dataset(src, "wide-csv", tmp_path / "o")
    assert "record line 3" in str(ei.value) and "field 'b'" in str(ei.value)
    src.write_text("prompt,a,b\nq1,1,0\n")
    with pytest.raises(DataFileError, match="no task column"):
        import_dataset(src, "wide-csv", tmp_path / "o")
    assert not (tmp_path / "o").exists()
    r = _cli(src, "--format", "scores", "--out", tmp_path / "o", "--test-fraction", "1.5")
    assert r.exit_code == 2
    # an existing, non-empty --out is never overwritten
    good = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("x")
    with pytest.raises(ConfigError, match="already exists"):
        import_dataset(good, "scores", tmp_path / "full")
    assert [p.name for p in (tmp_path / "full").iterdir()] == ["keep.txt"]


def test_cli_import_then_data_check_reports_placeholders(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    out = tmp_path / "ds"
    r = _cli(src, "--format", "scores", "--out", out, "--seed", "2", "--hold-out", "b", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["hold_out"] == "b" and s["seed"] == 2 and Path(s["out_dir"]) == out.resolve()
    assert "warning" in r.stderr and "placeholder" in r.stderr
    c = runner.invoke(app, ["-d", str(out), "data", "check", "--json"])
    assert c.exit_code == 0, c.output
    doc = json.loads(c.stdout)
    assert doc["placeholder_descriptions"]["model"] == MODELS
    assert doc["held_out"] == ["b"]


def test_table_refuses_a_second_result_for_the_same_query_and_model(tmp_path):
    rows = _long_records()[:3] + [dict(_long_records()[0], score=0)]
    src = _write_jsonl(tmp_path / "s.jsonl", rows)
    with pytest.raises(DataFileError, match="a second result for model 'a'") as ei:
        import_dataset(src, "scores", tmp_path / "o")
    assert "record line 4" in str(ei.value)


def test_a_file_that_is_not_text_is_bad_input(tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_bytes(b"\xff\xfe\x00binary")
    for fmt in ("scores", "wide-csv"):
        with pytest.raises(DataFileError, match="not UTF-8 text"):
            import_dataset(src, fmt, tmp_path / "o")
    assert not (tmp_path / "o").exists()
