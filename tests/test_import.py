"""rp data import: round trips of small hand-made files of each format, the hand-checked pairwise rule, the split
and per-task scores from the training split only, bad input (named file, record and field; nothing written), repeated
results (--duplicates), the pairs kept of those available, and the import record read by rp data check."""

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


# --- repeated (query, model) results: --duplicates error | first | mean (issue 23) ---------------------------------

def _rows_of(out: Path) -> dict:
    """{(task, query): model_performance} over the test and training rows as written in route_data/."""
    rows = json.loads((out / "route_data/routing_test_data.json").read_text())
    rows += json.loads((out / "route_data/routing_train_data.json").read_text())
    return {(r["task_name"], r["query"]): r["model_performance"] for r in rows}


def _repeated_records():
    """Every (query, model) result twice: first as in _long_records, then score 0.5 and doubled token counts."""
    later = [dict(r, score=0.5, prompt_tokens=2 * r["prompt_tokens"], completion_tokens=2 * r["completion_tokens"])
             for r in _long_records()]
    return _long_records() + later


def test_duplicates_error_names_file_record_query_model_and_the_option(tmp_path):
    rows = _long_records() + [dict(_long_records()[0], score=0), dict(_long_records()[4], score=1)]
    src = _write_jsonl(tmp_path / "s.jsonl", rows)
    out = tmp_path / "out"
    with pytest.raises(DataFileError) as ei:
        import_dataset(src, "scores", out)
    msg = str(ei.value)
    assert str(src) in msg and "record line 37" in msg and "the first is line 1" in msg
    assert "model 'a'" in msg and "query 'q-maths-0'" in msg and "task 'maths'" in msg
    assert "2 repeated (query, model) results in all (also line 38)" in msg
    assert "--duplicates first" in msg and "--duplicates mean" in msg
    assert list(tmp_path.iterdir()) == [src]  # no output folder, no staging folder left behind
    r = _cli(src, "--format", "scores", "--out", out)
    assert r.exit_code == 1 and "--duplicates first" in r.output and "line 37" in r.output
    assert not out.exists()
    r = _cli(src, "--format", "scores", "--out", out, "--duplicates", "last")
    assert r.exit_code == 2 and not out.exists()


def test_duplicates_first_and_mean_values_in_route_data(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _repeated_records())
    once = _write_jsonl(tmp_path / "once.jsonl", _long_records())
    base = import_dataset(once, "scores", tmp_path / "once", seed=1)
    assert base["duplicates"]["found"] == 0 and not (tmp_path / "once-mean").exists()
    # no repeats: the policy changes nothing, not even the data hash
    assert import_dataset(once, "scores", tmp_path / "once-mean", seed=1, duplicates="mean")["data_hash"] == \
        base["data_hash"]

    first = import_dataset(src, "scores", tmp_path / "first", seed=1, duplicates="first")
    n = 2 * 6 * 3
    assert first["duplicates"] | {"examples": None} == {"policy": "first", "found": n, "records": n, "keys": n,
                                                         "merged": n, "examples": None}
    assert any("kept the first of each (--duplicates first)" in w for w in first["warnings"])
    assert first["data_hash"] == base["data_hash"]  # the first records are exactly the file without repeats
    for (t, q), perf in _rows_of(tmp_path / "first").items():
        i = int(q.rsplit("-", 1)[1])
        for j, m in enumerate(MODELS):
            assert perf[m]["task_performance"] == _score(t, i, m)
            assert (perf[m]["prompt_tokens"], perf[m]["completion_tokens"]) == (100 + i, 10 * (1 + j))

    mean = import_dataset(src, "scores", tmp_path / "mean", seed=1, duplicates="mean")
    assert mean["duplicates"]["merged"] == n and any("averaged each" in w for w in mean["warnings"])
    assert mean["data_hash"] != base["data_hash"]
    rows = _rows_of(tmp_path / "mean")
    assert len(rows) == 12
    for (t, q), perf in rows.items():
        i = int(q.rsplit("-", 1)[1])
        for j, m in enumerate(MODELS):
            s = _score(t, i, m)
            # a null (not run) score is left out of the mean: c on q-maths-3 is 0.5, the later record's score
            assert perf[m]["task_performance"] == pytest.approx(0.5 if s is None else (s + 0.5) / 2)
            assert perf[m]["success"] is True
            assert (perf[m]["prompt_tokens"], perf[m]["completion_tokens"]) == \
                (round(1.5 * (100 + i)), 15 * (1 + j))
    rec = json.loads((tmp_path / "mean" / "import.json").read_text())
    assert rec["options"]["duplicates"] == "mean" and rec["duplicates"]["merged"] == n
    assert rec["duplicates"]["examples"][0] == {"record": "line 37", "first": "line 1", "task": "maths",
                                                "query": "q-maths-0", "model": "a"}


def test_wide_csv_repeated_rows(tmp_path):
    head = "prompt,task,a,b,c,a|cost,b|cost,c|cost"
    lines = [head] + [f"{q},{t},{','.join('' if _score(t, i, m) is None else str(_score(t, i, m)) for m in MODELS)},"
                      "0.0001,0.0001,0.0001" for t, qs in QUERIES.items() for i, q in enumerate(qs)]
    lines.append("q-maths-0,maths,0,1,0,0.0003,0.0003,0.0003")  # line 14 repeats line 2 (a=1, b=0, c=0.5)
    lines.append("q-maths-0,facts,0,1,0,0.0003,0.0003,0.0003")  # the same text under another task: another query
    src = tmp_path / "w.csv"
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    with pytest.raises(DataFileError) as ei:
        import_dataset(src, "wide-csv", out)
    msg = str(ei.value)
    assert "record line 14" in msg and "the first is line 2" in msg and "model 'a'" in msg
    assert "3 repeated (query, model) results in all" in msg and "--duplicates mean" in msg
    assert list(tmp_path.iterdir()) == [src]

    s = import_dataset(src, "wide-csv", tmp_path / "first", duplicates="first")
    assert (s["duplicates"]["found"], s["duplicates"]["records"], s["duplicates"]["keys"]) == (3, 1, 3)
    rows = _rows_of(tmp_path / "first")
    assert {m: e["task_performance"] for m, e in rows[("maths", "q-maths-0")].items()} == {"a": 1, "b": 0, "c": 0.5}
    assert rows[("facts", "q-maths-0")]["b"]["task_performance"] == 1.0
    s = import_dataset(src, "wide-csv", tmp_path / "mean", duplicates="mean")
    e = _rows_of(tmp_path / "mean")[("maths", "q-maths-0")]
    assert {m: v["task_performance"] for m, v in e.items()} == {"a": 0.5, "b": 0.5, "c": 0.25}
    assert all(v["cost"] == pytest.approx(0.0002) for v in e.values())
    assert s["n_queries"] == 13


# --- pairs kept vs available, the import record and rp data check (issue 23) ---------------------------------------

def _brute_force_pairs(out: Path, models) -> dict:
    """{task: number of (query, two models) with both scores known and different} over the training queries."""
    train = [json.loads(line) for line in (out / "route_data/default_query_train.jsonl").read_text().splitlines()]
    counts: dict = {}
    for r in train:
        t, i = r["task_name"], int(r["query"].rsplit("-", 1)[1])
        sc = [_score(t, i, m) for m in models]
        counts[t] = counts.get(t, 0) + sum(1 for x in range(len(sc)) for y in range(x + 1, len(sc))
                                           if None not in (sc[x], sc[y]) and sc[x] != sc[y])
    return counts


def test_pairs_available_and_kept_match_a_brute_force_count(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    out = tmp_path / "ds"
    r = _cli(src, "--format", "scores", "--out", out, "--pairs-per-task", "2", "--hold-out", "c", "--json")
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    rec = json.loads((out / "import.json").read_text())
    kept_of, avail_of = {}, {}
    for mode, models in (("standard", MODELS), ("newllm", ["a", "b"])):
        avail = _brute_force_pairs(out, models)
        written = json.loads((out / f"route_data/pairwise_training_data_{mode}.json").read_text())["pairwise_data"]
        kept = {t: sum(p["task_name"] == t for p in written) for t in avail}
        assert kept == {t: min(2, n) for t, n in avail.items()} and kept != avail  # the cap bites
        assert s["pairs"][mode]["by_task"] == {t: {"available": avail[t], "kept": kept[t]} for t in avail}
        assert s["pairs"][mode]["available"] == sum(avail.values())
        assert s["pairs"][mode]["pairs"] == sum(kept.values())
        assert rec["pairs"][mode] == {"available": sum(avail.values()), "kept": sum(kept.values()),
                                      "by_task": s["pairs"][mode]["by_task"]}
        kept_of[mode], avail_of[mode] = sum(kept.values()) / 2, sum(avail.values()) / 2
    assert avail_of["standard"] != avail_of["newllm"]
    line = (f"kept {kept_of['standard']:,.0f} of {avail_of['standard']:,.0f} possible pairs per task on average "
            f"(standard; newllm: {kept_of['newllm']:,.0f} of {avail_of['newllm']:,.0f}) (--pairs-per-task 2; "
            "--pairs-per-task 0 keeps all)")
    assert s["pairs_kept"] == line and line in " ".join(r.stderr.split())
    assert rec["options"] == {"test_fraction": 0.2, "seed": 0, "hold_out": "c", "pairs_per_task": 2,
                              "duplicates": "error"}
    import hashlib

    assert rec["source"] == {"path": str(src.resolve()), "sha256": hashlib.sha256(src.read_bytes()).hexdigest(),
                             "bytes": src.stat().st_size, "format": "scores"}
    assert rec["data_hash"] == s["data_hash"] == load_dataset(out).data_hash
    # --pairs-per-task 0 keeps every pair the rule makes
    s0 = import_dataset(src, "scores", tmp_path / "all", pairs_per_task=0)
    assert all(v["kept"] == v["available"] for v in s0["pairs"]["standard"]["by_task"].values())
    assert s0["pairs_kept"].endswith("(--pairs-per-task 0: all kept)")


def test_import_record_is_no_part_of_the_data_hash_and_data_check_reads_it(tmp_path):
    src = _write_jsonl(tmp_path / "s.jsonl", _long_records())
    out = tmp_path / "ds"
    s = import_dataset(src, "scores", out, pairs_per_task=4)
    assert load_dataset(out).data_hash == s["data_hash"]
    c = runner.invoke(app, ["-d", str(out), "data", "check", "--json"])
    assert c.exit_code == 0, c.output
    doc = json.loads(c.stdout)
    assert doc["import"] == json.loads((out / "import.json").read_text())
    assert doc["import"]["pairs"]["standard"]["kept"] == s["pairs"]["standard"]["pairs"] == 8
    assert doc["import"]["options"]["duplicates"] == "error"
    avail = s["pairs"]["standard"]["available"]
    c = runner.invoke(app, ["-d", str(out), "data", "check"])
    assert c.exit_code == 0, c.output
    assert f"8 of {avail} possible (--pairs-per-task 4; rp data import --pairs-per-task 0 keeps" in \
        " ".join(c.stdout.split())
    # a malformed or oversized record is a warning, never a crash; the data hash does not move
    for content, why in (("{not json", "is not valid JSON"), ("[1, 2]", "holds a list, not an object"),
                         ('{"pad": "' + "x" * (1 << 20) + '"}', "is larger than 1 MiB")):
        (out / "import.json").write_text(content)
        c = runner.invoke(app, ["-d", str(out), "data", "check", "--json"])
        assert c.exit_code == 0, c.output
        doc = json.loads(c.stdout)
        assert doc["import"] is None and any("import.json" in w and why in w for w in doc["warnings"])
        assert doc["data_hash"] == s["data_hash"]
    (out / "import.json").write_text('{"pairs": {"standard": "x"}, "source": 3}')  # valid JSON, odd shape
    c = runner.invoke(app, ["-d", str(out), "data", "check"])
    assert c.exit_code == 0 and "Traceback" not in c.output
    (out / "import.json").unlink()
    doc = json.loads(runner.invoke(app, ["-d", str(out), "data", "check", "--json"]).stdout)
    assert doc["import"] is None and doc["data_hash"] == s["data_hash"]


def test_default_pairs_cap_is_the_measured_choice():
    """The default cap (issue 24) is the one docs/pairs-cap.json chose, in the CLI, the service and the converter."""
    import inspect

    from rpcli.cli.data import import_
    from rpcli.core.data.importers import DEFAULT_PAIRS_PER_TASK

    chosen = json.loads((Path(__file__).resolve().parents[1] / "docs" / "pairs-cap.json").read_text())["chosen"]
    assert DEFAULT_PAIRS_PER_TASK == chosen["cap"] == 5000
    assert inspect.signature(import_dataset).parameters["pairs_per_task"].default == DEFAULT_PAIRS_PER_TASK
    assert inspect.signature(import_).parameters["pairs_per_task"].default == DEFAULT_PAIRS_PER_TASK
    help_text = " ".join(CliRunner().invoke(app, ["data", "import", "--help"], terminal_width=200).output.split())
    assert "docs/pairs-cap.md" in help_text and "[default: 5000]" in help_text
