"""On the released dataset (skipped when ../shared/data/routeprofile is absent): loader facts and the reference
rows of ../shared/docs/metrics.md, through rp's own pipeline."""

from __future__ import annotations

import pytest

from conftest import REAL_DATA, requires_real_data

pytestmark = requires_real_data


@pytest.fixture(scope="module")
def ds():
    from rpcli.core.data import load_dataset

    return load_dataset(REAL_DATA)


def test_loader_facts(ds):
    assert len(ds.mode("standard").models) == 24 and len(ds.candidates) == 8 and len(ds.test_rows) == 600
    std, new = ds.mode("standard"), ds.mode("newllm")
    assert (std.pairs_released, new.pairs_released) == (4200, 4070)
    # 15 (standard) / 10 (newllm) distinct training queries are test queries (spec §7.2); their pairs are dropped.
    assert len({p.query for p in std.pairs}) == 1027 - 15
    assert len({p.query for p in new.pairs}) == 993 - 10
    assert std.held_out == [] and new.held_out == ["mistral-small-24b-instruct-2501-bf16"]
    # from the model cards (no held_out.json in the release); arc_challenge, commonsense_qa and openbook_qa are null
    # for mistral-small in both modes, its other 8 routing-task scores only in newllm
    from rpcli.core.data.held_out import CARD_SOURCE

    assert ds.held_out_source == CARD_SOURCE
    assert ds.prices["llama-3.3-70b-instruct"] == (0.88, 0.88)


def test_card_scores_measured_on_training_queries_that_are_test_queries(ds):
    """docs/fidelity.md: human_eval and mbpp card scores are in steps of 100/150 and 47 / 11 of those 150 training
    rows are test queries; no other routing task has such an overlap."""
    from rpcli.core.data.audit import card_score_overlap

    o = card_score_overlap(ds)
    flagged = {t: (v["n_train"], v["train_rows_in_test"]) for t, v in o.items() if v["carries_test_information"]}
    assert flagged == {"human_eval": (150, 47), "mbpp": (150, 11)}
    assert not o["commongen"]["scores_on_train_steps"]


def test_reference_rows_match_metrics_md(ds):
    from rpcli.core.routers.evaluate import reference_rows

    std = {r["name"]: r for r in reference_rows(ds, "standard")}
    assert round(std["oracle"]["avg_performance"], 4) == 0.7574
    assert round(std["oracle-cost-aware"]["avg_cost_micro"], 1) == 55.1
    assert round(std["random"]["avg_performance"], 4) == 0.5382
    assert round(std["random"]["avg_cost_micro"], 1) == 121.6
    bsm = std["best-single (test)"]
    assert round(bsm["avg_performance"], 4) == 0.6125 and bsm["model"] == "mistral-small-24b-instruct-2501-bf16"
    assert round(std["per-task-oracle (test)"]["avg_performance"], 4) == 0.6721
    assert abs(std["per-task-best (train)"]["avg_performance"] - 0.6521) < 0.005
    assert abs(std["per-task-best (profile scores)"]["avg_performance"] - 0.6554) < 0.005
    new = {r["name"]: r for r in reference_rows(ds, "newllm")}
    assert round(new["oracle-without-new"]["avg_performance"], 4) == 0.7424
    assert abs(new["per-task-best (profile scores)"]["avg_performance"] - 0.6388) < 0.005
    note = new["per-task-best (profile scores)"]["note"]
    assert "carries test information" in note and "47 of its 150" in note and "11 of its 150" in note


def test_compare_json_on_real_data(tmp_path):
    import json

    from typer.testing import CliRunner

    from rpcli.cli.main import app

    out = CliRunner().invoke(app, ["-w", str(tmp_path / "w"), "-d", str(REAL_DATA), "compare", "--json"])
    assert out.exit_code == 0, out.output
    rows = {(r["mode"], r["name"]): r for r in json.loads(out.stdout)}
    assert round(rows[("standard", "oracle")]["avg_performance"], 4) == 0.7574
    assert round(rows[("newllm", "best-single (test)")]["avg_performance"], 4) == 0.6125
