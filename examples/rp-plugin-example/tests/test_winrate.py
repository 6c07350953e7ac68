"""The winrate router on a hand-made training signal: rates worked out by hand, shrinkage, the nearest task for a
query of unknown task, and the entry point rp reads."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from rp_plugin_example.winrate import ROUTER, Config

NAN = float("nan")


def context():
    """Two tasks, two candidates. maths: a wins 3 of 3, b 1 of 3; facts: a 0 of 2, b 2 of 2; c (no label) is new."""
    labels = np.array([[1, 0, NAN], [1, 1, NAN], [1, 0, NAN],   # maths
                       [0, 1, NAN], [0, 1, NAN]])               # facts
    vecs = np.array([[1.0, 0.0]] * 3 + [[0.0, 1.0]] * 2)
    train = SimpleNamespace(labels=labels, tasks=["maths"] * 3 + ["facts"] * 2)
    return SimpleNamespace(train=train, models=["a", "b", "c"], train_vecs=lambda: vecs)


def test_rates_by_hand():
    model = ROUTER.fit(context(), Config(shrink=2.0), seed=0)
    mean = 6 / 10                                     # every label: 6 wins in 10
    overall_a = (3 + 2 * mean) / (5 + 2)              # a: 3 wins in 5 labels
    overall_b = (3 + 2 * mean) / (5 + 2)              # b: 3 wins in 5 labels
    assert model.overall == pytest.approx([overall_a, overall_b, mean])
    maths = model.scores(np.zeros((1, 2)), tasks=["maths"])[0]
    assert maths == pytest.approx([(3 + 2 * overall_a) / 5, (1 + 2 * overall_b) / 5, mean])
    facts = model.scores(np.zeros((1, 2)), tasks=["facts"])[0]
    assert facts == pytest.approx([(0 + 2 * overall_a) / 4, (2 + 2 * overall_b) / 4, mean])
    assert model.info["tasks"] == 2 and model.info["mean_win_rate"] == 0.6


def test_shrink_zero_is_the_raw_rate_and_large_shrink_the_overall_rate():
    raw = ROUTER.fit(context(), Config(shrink=0.0), seed=0).scores(np.zeros((1, 2)), tasks=["maths"])[0]
    assert raw == pytest.approx([1.0, 1 / 3, 0.6])
    flat = ROUTER.fit(context(), Config(shrink=1e9), seed=0)
    assert flat.scores(np.zeros((1, 2)), tasks=["maths"])[0] == pytest.approx([0.6, 0.6, 0.6])


def test_a_query_without_task_takes_the_nearest_task():
    model = ROUTER.fit(context(), Config(), seed=0)
    q = np.array([[0.9, 0.1], [0.2, 3.0]])
    assert np.array_equal(model.scores(q), model.scores(q, tasks=["maths", "facts"]))
    assert np.array_equal(model.scores(q, tasks=["unseen", "facts"]), model.scores(q, tasks=["maths", "facts"]))
    assert model.scores(q).argmax(1).tolist() == [0, 1]  # a for maths, b for facts


def test_the_entry_point_names_the_router():
    from importlib.metadata import entry_points

    eps = [ep for ep in entry_points(group="rp.routers") if ep.name == "winrate"]
    if not eps:
        pytest.skip("rp-plugin-example is not installed (pip install .)")
    assert eps[0].load() is ROUTER and ROUTER.name == "winrate"
    assert [o.name for o in ROUTER.options()] == ["shrink"]
