"""Per-query training scores (route_data/routing_train_data.json, issue 24 target 4): the loader reads them (validated,
hashed, unmatched names reported), the "(train)" references and the per-task prior use the scores themselves, the
CV card rebuild takes a fold's queries out of cards measured on the training queries, and a card without any score
is flagged.

The dataset: the tiny one (tests/tiny.py) plus score rows whose t_math winner is m2 (mean 4/6 against m1's 2/6) while
the tiny pair sample, drawn only from the queries m1 wins, makes m1 the t_math winner by win rate.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tiny import CANDIDATES, TRAIN_QUERIES
from rpcli.core.data.load import load_dataset
from rpcli.errors import DataFileError

TRAIN_FILE = "route_data/routing_train_data.json"
EXTRA_MATH = [f"math extra {i}" for i in range(3)]
QA = {"m1": 0.4, "m2": 0.2, "m3": 0.9}


def score_rows() -> list[dict]:
    """t_math: m1 wins the tiny's 3 queries (the ones the pairs come from), m2 the 3 extra ones; t_code: m2; t_qa:
    m3 (held out in newllm), then m1."""
    rows = []

    def row(task, q, scores):
        rows.append({"task_name": task, "query": q, "ground_truth": "g", "metric": "em_mc",
                     "model_performance": {m: {"task_performance": v} for m, v in scores.items()}})

    for q in TRAIN_QUERIES["t_math"]:
        row("t_math", q, {"m1": 1.0, "m2": 0.0, "m3": 0.5})
    for q in EXTRA_MATH:
        row("t_math", q, {"m1": 0.0, "m2": 1.0, "m3": 0.5})
    for q in TRAIN_QUERIES["t_code"]:
        row("t_code", q, {"m1": 0.0, "m2": 1.0, "m3": 0.25})
    for q in TRAIN_QUERIES["t_qa"]:
        row("t_qa", q, dict(QA))
    return rows


def with_scores(rows=None):
    def mutate(f):
        f[TRAIN_FILE] = score_rows() if rows is None else rows
    return mutate


def ref(rows, name):
    return next(r for r in rows if r["name"] == name)


def test_the_reference_follows_the_scores_where_the_pair_sample_flips_the_winner(make_tiny):
    from rpcli.core.routers.evaluate import reference_rows

    plain = load_dataset(make_tiny())
    assert plain.train_scores is None
    before = ref(reference_rows(plain, "standard"), "per-task-best (train)")
    assert before["per_task_models"]["t_math"] == "m1"  # the pairs' winner
    assert "per-query" not in before["note"]

    ds = load_dataset(make_tiny(with_scores()))
    assert len(ds.train_scores) == 12
    rows = reference_rows(ds, "standard")
    ptb = ref(rows, "per-task-best (train)")
    # 12 rows minus "what is 2 plus 2" (a test query): m1 2/5 on t_math, m2 3/5
    assert ptb["per_task_models"] == {"t_math": "m2", "t_code": "m2", "t_qa": "m3"}
    assert ptb["note"].endswith("from per-query training scores (11 queries)")
    # overall means: m1 (2 + 0 + 1.2) / 11, m2 (3 + 3 + 0.6) / 11, m3 (2.5 + 0.75 + 2.7) / 11
    bs = ref(rows, "best-single (train)")
    assert bs["model"] == "m2" and "from per-query training scores (11 queries)" in bs["note"]
    # t_math's test rows are m1's: following the scores costs 4 of 12 rows there
    assert ptb["avg_performance"] == pytest.approx(8 / 12)
    assert before["avg_performance"] == pytest.approx(1.0)


def test_keep_overlap_counts_the_test_query(make_tiny):
    from rpcli.core.routers.training import score_signal

    root = make_tiny(with_scores())
    assert len(score_signal(load_dataset(root), "standard", CANDIDATES)) == 11
    sig = score_signal(load_dataset(root, keep_overlap=True), "standard", CANDIDATES)
    assert len(sig) == 12 and sig.stats["n_equal_scores_kept"] == 0


def test_newllm_never_picks_the_held_out_model_from_its_scores(make_tiny):
    from rpcli.core.routers.evaluate import reference_rows
    from rpcli.core.routers.training import score_signal

    ds = load_dataset(make_tiny(with_scores()))
    assert ds.held_out == ["m3"]
    std = ref(reference_rows(ds, "standard"), "per-task-best (train)")
    new = ref(reference_rows(ds, "newllm"), "per-task-best (train)")
    assert std["per_task_models"]["t_qa"] == "m3"
    assert new["per_task_models"]["t_qa"] == "m1"  # m3's 0.9 is not seen in newllm
    assert "m3" not in new["per_task_models"].values()
    sig = score_signal(ds, "newllm", CANDIDATES)
    assert np.isnan(sig.quality[:, 2]).all() and sig.stats["held_out_removed"] == ["m3"]


def test_the_data_hash_follows_the_score_file(make_tiny):
    plain = load_dataset(make_tiny())
    a = load_dataset(make_tiny(with_scores()))
    rows = score_rows()
    rows[-1]["model_performance"]["m1"]["task_performance"] = 0.41
    b = load_dataset(make_tiny(with_scores(rows)))
    assert TRAIN_FILE not in plain.files and TRAIN_FILE in a.files
    assert len({plain.data_hash, a.data_hash, b.data_hash}) == 3
    assert load_dataset(make_tiny(with_scores())).data_hash == a.data_hash


def _bad(field_path, value):
    def mutate(f):
        rows = score_rows()
        rec = rows[2]
        *parents, last = field_path
        for p in parents:
            rec = rec[p]
        if value is KeyError:
            del rec[last]
        else:
            rec[last] = value
        f[TRAIN_FILE] = rows
    return mutate


@pytest.mark.parametrize("mutate, field, message", [
    (_bad(["model_performance", "m2", "task_performance"], "high"), "model_performance.m2.task_performance",
     "expected a number"),
    (_bad(["model_performance", "m2", "task_performance"], 1.5), "model_performance.m2.task_performance",
     "outside [0, 1]"),
    (_bad(["model_performance", "m1", "task_performance"], -0.1), "model_performance.m1.task_performance",
     "at least 0"),
    (_bad(["model_performance", "m1"], True), "model_performance.m1", "expected a number"),
    (_bad(["query"], KeyError), "query", "missing field"),
    (_bad(["task_name"], 7), "task_name", "expected str"),
    (_bad(["model_performance"], []), "model_performance", "expected dict"),
    (_bad(["model_performance"], {}), "model_performance", "empty"),
])
def test_a_malformed_score_file_is_a_clean_error(make_tiny, mutate, field, message):
    with pytest.raises(DataFileError) as ei:
        load_dataset(make_tiny(mutate))
    e = ei.value
    assert TRAIN_FILE in str(e.path) and e.record == "#2" and e.field == field
    assert message in str(e)


def test_nan_duplicates_and_bad_json_are_clean_errors(make_tiny):
    text = json.dumps(score_rows()).replace('"task_performance": 0.25', '"task_performance": NaN', 1)
    with pytest.raises(DataFileError, match="finite") as ei:
        load_dataset(make_tiny(lambda f: f.__setitem__(TRAIN_FILE, text)))
    assert ei.value.field == "model_performance.m3.task_performance"
    dup = score_rows() + [score_rows()[0]]
    with pytest.raises(DataFileError, match="second row for the same task and query") as ei:
        load_dataset(make_tiny(with_scores(dup)))
    assert ei.value.record == "#12"
    with pytest.raises(DataFileError, match="malformed JSON"):
        load_dataset(make_tiny(lambda f: f.__setitem__(TRAIN_FILE, "[{")))
    with pytest.raises(DataFileError, match="expected a JSON list"):
        load_dataset(make_tiny(with_scores({"rows": []})))
    with pytest.raises(DataFileError, match="no rows"):
        load_dataset(make_tiny(with_scores([])))


def test_the_score_file_is_bounded_like_every_data_file(make_tiny, monkeypatch):
    pad = [{"task_name": "t_code", "query": f"padding query {i}", "model_performance": {"m1": 0.0, "m2": 1.0}}
           for i in range(300)]
    root = make_tiny(with_scores(score_rows() + pad))
    others = max(p.stat().st_size for p in root.rglob("*") if p.is_file() and p.name != "routing_train_data.json")
    assert (root / TRAIN_FILE).stat().st_size > others
    monkeypatch.setenv("RP_MAX_DATA_BYTES", str(others))  # every other file fits
    with pytest.raises(DataFileError, match="over the limit") as ei:
        load_dataset(root)
    assert str(ei.value.path).endswith("routing_train_data.json")


def test_unmatched_models_and_tasks_are_reported_and_left_out(make_tiny):
    rows = score_rows()
    rows[0]["model_performance"]["ghost"] = {"task_performance": 1.0}
    rows[1]["model_performance"]["ghost"] = {"task_performance": 1.0}
    rows.append({"task_name": "t_mathz", "query": "an undescribed task's query",
                 "model_performance": {"m1": {"task_performance": 1.0}}})
    ds = load_dataset(make_tiny(with_scores(rows)))
    got = {(u["kind"], u["name"]): u for u in ds.unmatched if u["file"] == TRAIN_FILE}
    assert set(got) == {("model", "ghost"), ("task", "t_mathz")}
    assert got["model", "ghost"]["records"] == 2 and got["task", "t_mathz"]["suggestion"] == "t_math"
    assert any("routing_train_data.json" in w and "ghost" in w for w in ds.warnings)
    assert len(ds.train_scores) == 12 and all("ghost" not in r.scores for r in ds.train_scores)


def test_the_prior_with_card_weight_0_picks_what_per_task_best_train_picks(make_tiny):
    from rpcli.core.routers.ability import task_prior_from_scores
    from rpcli.core.routers.evaluate import reference_rows
    from rpcli.core.routers.training import score_signal
    from rpcli.services.artifacts.routes import router_cards

    ds = load_dataset(make_tiny(with_scores()))
    tasks = ds.test_tasks
    for mode, use_cards in (("standard", True), ("newllm", False)):
        sig = score_signal(ds, mode, CANDIDATES)
        cards, card_models = router_cards(ds, mode) if use_cards else (None, [])
        prior = task_prior_from_scores(sig.quality, sig.tasks, CANDIDATES, tasks, cards, card_models, 0.0, 1.0)
        assert prior.source == "scores"
        picks = {t: CANDIDATES[int(np.argmax(row))] for t, row in zip(tasks, prior.rows(tasks))}
        want = ref(reference_rows(ds, mode), "per-task-best (train)")["per_task_models"]
        assert picks == want, mode
        # the prior is on the scores' scale: the t_math row is the plain means
        np.testing.assert_allclose(prior.rows(["t_math"])[0, :2], [2 / 5, 3 / 5])
    # the overall row is "best-single (train)"'s mean, and m3 has no signal in newllm
    assert CANDIDATES[int(np.argmax(prior.value[-1]))] == ref(reference_rows(ds, "newllm"),
                                                              "best-single (train)")["model"]
    assert list(prior.signal) == [True, True, False]


def test_the_prior_blends_the_card_and_reaches_a_model_without_scores():
    from rpcli.core.routers.ability import task_prior_from_scores

    q = np.array([[1.0, 0.0, np.nan], [1.0, 0.5, np.nan], [0.0, 1.0, np.nan], [np.nan, 1.0, np.nan]])
    tasks = ["a", "a", "b", "b"]
    cards = {"x": {"a": 90, "b": 10}, "y": {"a": 30, "b": 95}, "z": {"a": 60, "b": 50}}
    p = task_prior_from_scores(q, tasks, ["x", "y", "z"], ["a", "b"], cards, ["x", "y", "z"], 1.0, 1.0)
    # a: means x 1.0, y 0.25; the card line through (0.9, 1.0) and (0.3, 0.25) puts z (0.6) at 0.625
    assert p.value[0, 2] == pytest.approx(0.625) and not p.signal[2]
    p0 = task_prior_from_scores(q, tasks, ["x", "y", "z"], ["a", "b"], None, [], 0.0, 1.0)
    # no card: a model without scores gets the mean of the others; the overall row is the plain overall means
    assert p0.value[0, 2] == pytest.approx((1.0 + 0.25) / 2)
    np.testing.assert_allclose(p0.value[2, :2], [2 / 3, 2.5 / 4])
    # prior_of: the scores when given, else the pairs
    from rpcli.core.routers.ability import prior_of, task_prior

    via = prior_of(np.zeros((0, 3)), tasks, ["x", "y", "z"], ["a", "b"], cards, ["x", "y", "z"], 1.0, 1.0, quality=q)
    np.testing.assert_array_equal(via.value, p.value)
    pairs = np.array([[0, 0, 1], [2, 1, 0]])
    assert prior_of(pairs, tasks, ["x", "y", "z"], ["a", "b"], None, [], 0.0, 1.0).source == "pairs"
    np.testing.assert_array_equal(prior_of(pairs, tasks, ["x", "y", "z"], ["a", "b"], None, [], 0.0, 1.0).value,
                                  task_prior(pairs, tasks, ["x", "y", "z"], ["a", "b"], None, [], 0.0, 1.0).value)


def _quality():
    """4 rows of task a, 4 of task b, 2 of task c; models x, y (z has no scores)."""
    q = np.array([[1, 0], [1, 1], [0, 1], [1, 0.5],
                  [0, 1], [0, 1], [1, 1], [0, 0],
                  [1, 0], [0, 1]], dtype=float)
    tasks = ["a"] * 4 + ["b"] * 4 + ["c"] * 2
    return q, tasks


def test_the_card_rebuild_without_a_fold_equals_the_recomputed_means():
    from rpcli.core.routers.ability import card_train_tasks, fold_cards

    q, tasks = _quality()
    models = ["x", "y"]
    cards = {
        # a: 100 x the mean, rounded to two decimals (as rp data import writes them): rebuilt
        "x": {"a": 75.0, "b": 25.0, "c": 50.0, "mmlu": 61.0},
        "y": {"a": round(100 * 2.5 / 4, 2), "b": 75.0, "c": 33.3},
        "z": {"a": 40.0, "mmlu": 50.0},  # not a model of the rows: untouched
    }
    # b: on steps of 100/4 but not the means (x's mean is 0.25, y's 0.75: swapped to 75 / 25 below)
    cards["x"]["b"], cards["y"]["b"] = 75.0, 25.0
    kinds = card_train_tasks(cards, q, tasks, models)
    assert kinds == {"a": "train-mean", "b": "unrebuildable", "c": "independent"}
    fc = fold_cards(cards, q, tasks, models, held=[])
    assert fc.rebuilt == ["a"] and fc.unrebuildable == ["b"] and fc.independent == ["c"]
    assert fc.cards["x"]["a"] == pytest.approx(100 * q[:4, 0].mean())
    assert fc.cards["y"]["a"] == pytest.approx(100 * q[:4, 1].mean())
    assert fc.cards["x"]["b"] == 75.0 and fc.cards["y"]["c"] == 33.3 and fc.cards["z"] == cards["z"]
    assert fc.cards["x"]["mmlu"] == 61.0
    # a fold holding out rows 0 and 2 (task a): the means of rows 1 and 3
    f2 = fold_cards(cards, q, tasks, models, held=[0, 2])
    assert f2.cards["x"]["a"] == pytest.approx(100.0) and f2.cards["y"]["a"] == pytest.approx(75.0)
    mask = np.zeros(len(tasks), dtype=bool)
    mask[[0, 2]] = True
    assert fold_cards(cards, q, tasks, models, held=mask).cards == f2.cards
    # every row of the task held out: no score left (the router imputes it, like a null)
    assert fold_cards(cards, q, tasks, models, held=[0, 1, 2, 3]).cards["x"]["a"] is None
    assert cards["x"]["a"] == 75.0, "the input cards are not modified"


def test_imported_cards_are_detected_as_training_means(tmp_path):
    from rpcli.core.routers.ability import card_train_tasks, fold_cards
    from rpcli.core.routers.training import score_signal
    from rpcli.services.data.importer import import_dataset

    rng = np.random.default_rng(0)
    rows = [{"query": f"q-{t}-{i}", "task": t, "scores": {m: float(rng.integers(0, 2)) if m != "c" or i % 3
                                                         else None for m in "abc"}}
            for t in ("maths", "facts") for i in range(23)]
    src = tmp_path / "s.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    import_dataset(src, "scores", tmp_path / "ds", hold_out="c")
    ds = load_dataset(tmp_path / "ds")
    models = list(ds.candidates)
    for mode in ("standard", "newllm"):
        sig = score_signal(ds, mode, models)
        cards = {m.name: m.scores for m in ds.mode(mode).models}
        assert card_train_tasks(cards, sig.quality, sig.tasks, models) == {"maths": "train-mean", "facts": "train-mean"}
        fc = fold_cards(cards, sig.quality, sig.tasks, models, held=[])
        for m in models:
            for t in ("maths", "facts"):
                if cards[m][t] is None:
                    assert fc.cards[m][t] is None  # newllm's held-out model: null stays null
                else:
                    assert fc.cards[m][t] == pytest.approx(cards[m][t], abs=0.005)


def test_card_signal_flags_a_card_without_scores():
    from rpcli.core.routers.ability import card_signal

    cards = {"a": {"mmlu": 60, "bbh": 50, "t": 70}, "b": {"mmlu": 55, "t": 40}, "c": {"mmlu": 70, "bbh": None},
             "new": {"mmlu": None}, "odd": {"rare": 50}}
    assert card_signal(cards, "new", tasks=["t"]) == {"scores": 0, "routing_scores": 0, "imputable": False}
    assert card_signal(cards, "missing") == {"scores": 0, "routing_scores": 0, "imputable": False}
    assert card_signal(cards, "c", tasks=["t"]) == {"scores": 1, "routing_scores": 0, "imputable": True}
    assert card_signal(cards, "odd") == {"scores": 1, "routing_scores": 0, "imputable": False}
    assert card_signal(cards, "a", tasks=["t"])["routing_scores"] == 1


def test_graph_labels_scores_read_the_loaded_rows(make_tiny):
    from rpcli.core.routers.training import training_signal

    ds = load_dataset(make_tiny(with_scores()))
    sig = training_signal(ds, "standard", CANDIDATES, "raw", labels="scores")
    # flat rows dropped for pair-like labels (none here), the test query too
    assert sig.source == "scores" and len(sig) == 11 and sig.stats["n_dropped_test_overlap"] == 1
    assert math.isclose(float(np.nanmean(sig.quality[:, 0])), (2 + 0 + 1.2) / 11)


def test_model_add_warns_when_the_card_gives_no_score(sess, tmp_path):
    from rpcli.services.data.models import add_model

    card = tmp_path / "card.yaml"
    card.write_text('name: blank\ndescription: "A model whose card gives no benchmark score."\nfamily: FamA\n'
                    "input_price: 0.1\noutput_price: 0.1\n")
    s = add_model(sess, card, tmp_path / "plus")
    assert s["models"]["blank"]["card_signal"] == {"scores": 0, "routing_scores": 0, "imputable": False}
    assert any("blank" in w and "no benchmark score" in w and "cold-start bonus / description" in w
               for w in s["warnings"])
    card.write_text(card.read_text().replace("blank", "scored") + "scores: {t_math: 90, lb: 65}\n")
    s2 = add_model(sess, card, tmp_path / "plus2")
    assert s2["models"]["scored"]["card_signal"]["imputable"] is True
    assert not any("cold-start bonus" in w for w in s2["warnings"])
