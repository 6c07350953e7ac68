"""The data layer: the tiny dataset loads into the hand-counted records; every bad input names file/record/field."""

from __future__ import annotations

import pytest

from rpcli.core.data import load_dataset
from rpcli.errors import DataFileError


def test_tiny_loads_with_hand_counted_facts(tiny_data):
    ds = load_dataset(tiny_data)
    assert ds.candidates == ["m1", "m2", "m3"]
    assert len(ds.test_rows) == 12
    assert [m.name for m in ds.mode("standard").models] == ["m1", "m2", "m3", "aux1"]
    std, new = ds.mode("standard"), ds.mode("newllm")
    # standard: 9 training queries x 2 losers = 18 pairs; "what is 2 plus 2" (a test query) drops 2.
    assert (std.pairs_released, std.pairs_dropped_overlap, len(std.pairs)) == (18, 2, 16)
    # newllm: pairs with m3 removed: math and code keep one pair per query (6), qa none; overlap drops 1.
    assert (new.pairs_released, new.pairs_dropped_overlap, len(new.pairs)) == (6, 1, 5)
    assert std.held_out == [] and new.held_out == ["m3"]
    # m3's output price falls back to candidate_models.json; aux1 has none.
    assert ds.prices["m3"] == (0.5, 0.5) and ds.prices["aux1"] == (None, None)
    assert any("Ghost" in w for w in ds.warnings)
    assert ds.test_rows[0].formatted_query["system"].startswith("Solve")
    assert ds.test_rows[8].formatted_query is None  # t_qa rows carry none


def test_keep_overlap_reproduces_the_original(tiny_data):
    ds = load_dataset(tiny_data, keep_overlap=True)
    assert len(ds.mode("standard").pairs) == 18 and ds.mode("standard").pairs_dropped_overlap == 0


def test_data_hash_is_stable_and_content_based(tiny_data, make_tiny):
    a = load_dataset(tiny_data).data_hash
    assert load_dataset(tiny_data).data_hash == a
    other = make_tiny(lambda f: f["profile_data/task_feature.json"].update({"t_math": "changed"}))
    assert load_dataset(other).data_hash != a


def _set_score(f, value):
    f["profile_data/model_feature_standard.json"]["m1"]["detailed_scores"]["t_math"] = value


BAD_INPUTS = [
    ("malformed json", lambda f: f.update({"profile_data/task_feature.json": "{\"a\": "}),
     "task_feature.json", "malformed JSON"),
    ("empty file", lambda f: f.update({"route_data/routing_test_data.json": ""}), "routing_test_data.json", "empty"),
    ("nan score", lambda f: f.update({"profile_data/model_feature_standard.json":
                                      '{"m1": {"architecture": "FamA", "feature": "x", "detailed_scores": '
                                      '{"t_math": NaN}}}'}), "model_feature_standard.json", "finite"),
    ("string score", lambda f: _set_score(f, "high"), "model_feature_standard.json", "detailed_scores.t_math"),
    ("missing field", lambda f: f["profile_data/model_feature_standard.json"]["m2"].pop("feature"),
     "model_feature_standard.json", "'feature'"),
    ("unknown family", lambda f: f["profile_data/model_feature_standard.json"]["m2"].update(architecture="FamZ"),
     "model_feature_standard.json", "FamZ"),
    ("scored task without description", lambda f: f["profile_data/task_feature.json"].pop("lb"),
     "model_feature_standard.json", "detailed_scores.lb"),
    ("unknown model in a pair", lambda f: f["route_data/pairwise_training_data_standard.json"]["pairwise_data"][0]
     .update(better_model="m9"), "pairwise_training_data_standard.json", "better_model"),
    ("unknown task in a pair", lambda f: f["route_data/pairwise_training_data_newllm.json"]["pairwise_data"][0]
     .update(task_name="t_maths"), "pairwise_training_data_newllm.json", "did you mean 't_math'"),
    ("test row with other models", lambda f: f["route_data/routing_test_data.json"][3]["model_performance"]
     .pop("m2"), "routing_test_data.json", "record #3"),
    ("unknown test task", lambda f: f["route_data/routing_test_data.json"][0].update(task_name="t_zzz"),
     "routing_test_data.json", "t_zzz"),
    ("candidate missing from models", lambda f: f["profile_data/model_feature_newllm.json"].pop("m3"),
     "model_feature_newllm.json", "'m3'"),
    ("test row not an object", lambda f: f["route_data/routing_test_data.json"].__setitem__(0, "x"),
     "routing_test_data.json", "expected an object"),
    ("bad jsonl line", lambda f: f.update({"route_data/default_query_train.jsonl": '{"task_name": "t_qa"}\n{oops\n'}),
     "default_query_train.jsonl", "line 2"),
    ("top level of the wrong type", lambda f: f.update({"route_data/routing_test_data.json": {"a": 1}}),
     "routing_test_data.json", "JSON list"),
    ("domain without description", lambda f: f["profile_data/domain_task_map.json"].update(d_new=["t_qa"]),
     "domain_task_map.json", "d_new"),
]


@pytest.mark.parametrize("name,mutate,file,fragment", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_names_file_record_field(make_tiny, name, mutate, file, fragment):
    root = make_tiny(mutate)
    with pytest.raises(DataFileError) as err:
        load_dataset(root)
    msg = str(err.value)
    assert file in msg and fragment in msg, msg


def test_missing_folder_and_file(tmp_path, make_tiny):
    with pytest.raises(DataFileError, match="not found"):
        load_dataset(tmp_path / "nope")
    root = make_tiny()
    (root / "profile_data" / "model_family_feature.json").unlink()
    with pytest.raises(DataFileError, match="model_family_feature.json: file not found"):
        load_dataset(root)


def test_null_test_score_is_a_warning_not_an_error(make_tiny):
    root = make_tiny(lambda f: f["route_data/routing_test_data.json"][0]["model_performance"]["m1"]
                     .update(task_performance=None))
    ds = load_dataset(root)
    assert ds.test_rows[0].scores["m1"] is None
    assert any("null" in w for w in ds.warnings)


def test_empty_pairs_file_still_holds_m3_out_and_sim_still_runs(make_tiny, tmp_path):
    from rpcli.services.base import Session
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.services.artifacts.routes import run_router_entry
    from rpcli.workspace.layout import Workspace

    root = make_tiny(lambda f: f["route_data/pairwise_training_data_newllm.json"].update(pairwise_data=[]))
    ds = load_dataset(root)
    # the held-out model comes from the model cards, not from the (empty) pairs
    assert ds.mode("newllm").held_out == ["m3"] and any("no pairs" in w for w in ds.warnings)
    sess = Session(workspace=Workspace(tmp_path / "w"), data_root=root, encoder_spec="hash:32")
    p = build_profile_entry(sess, "index", "newllm", {"seed": 1}).entry
    run = run_router_entry(sess, "sim", p["id"], "newllm").entry
    assert run["metrics"]["n_rows"] == 12 and run["info"]["held_out"] == ["m3"]
