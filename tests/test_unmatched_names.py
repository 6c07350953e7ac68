"""Names that match nothing, and candidates without a price (issue 23).

A name a file uses that no defining file holds (a price entry naming no model, a domain naming an undescribed task,
a family no description has...) is reported by the loader as a warning and a structured `unmatched` record (file,
record, field, kind, name, suggestion), and shown by `rp data check`. A candidate whose cost is unknown on some test
row is `unpriced`: `rp data check` lists it, and the leaderboard marks the cost cells computed without it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.core.data import default_data_root, load_dataset
from rpcli.errors import DataFileError

runner = CliRunner()
DEMO = default_data_root()
REAL_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "routeprofile"
requires_real_data = pytest.mark.skipif(not REAL_DATA.is_dir(), reason=f"the released dataset is absent ({REAL_DATA})")
LATE_PRICED = "dune-3-8b-chat"  # the demo candidate whose prices are only in candidate_models.json


def rp(data: Path | None, *args, ws: Path | None = None):
    base = ["--encoder", "hash:32"] + (["-d", str(data)] if data is not None else [])
    if ws is not None:
        base = ["-w", str(ws), *base]
    return runner.invoke(app, [*base, *args])


def demo_copy(tmp_path: Path, edit=None) -> Path:
    """The embedded demo's profile_data/ and route_data/ under tmp_path/demo; `edit(root)` changes files first."""
    root = tmp_path / "demo"
    for sub in ("profile_data", "route_data"):
        shutil.copytree(DEMO / sub, root / sub)
    if edit is not None:
        edit(root)
    return root


def edit_json(path: Path, change) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc = change(doc) or doc
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")


def rename_key(doc: dict, old: str, new: str) -> dict:
    return {(new if k == old else k): v for k, v in doc.items()}


def check_json(root: Path) -> dict:
    out = rp(root, "data", "check", "--json")
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


# ------------------------------------------------------------------------------------------ rp data check


def test_a_misspelled_price_entry_is_reported_with_the_candidate_it_leaves_unpriced(tmp_path):
    root = demo_copy(tmp_path, lambda r: edit_json(r / "profile_data/candidate_models.json",
                                                   lambda d: rename_key(d, LATE_PRICED, "dune-3-8b-chta")))
    s = check_json(root)
    assert s["unmatched_names"] == [{
        "file": "profile_data/candidate_models.json", "record": "'dune-3-8b-chta'", "field": None, "kind": "model",
        "name": "dune-3-8b-chta", "suggestion": LATE_PRICED, "records": 1, "effect": "its prices are not used",
        "defined_in": "profile_data/model_feature_standard.json or profile_data/model_feature_newllm.json"}]
    assert s["unpriced_candidates"] == [LATE_PRICED]
    assert any("'dune-3-8b-chta' is not in" in w and f"did you mean {LATE_PRICED!r}" in w for w in s["warnings"])
    assert any(w.startswith(f"candidate {LATE_PRICED!r} has no price") and "240 of 240 test rows" in w
               for w in s["warnings"])
    plain = rp(root, "data", "check")
    assert plain.exit_code == 0, plain.output
    assert "candidates without a price" in plain.stdout and LATE_PRICED in plain.stdout
    assert "names that match nothing" in plain.stdout and "dune-3-8b-chta" in plain.stdout
    assert "warning:" in plain.stderr and "has no price" in plain.stderr


def test_a_misspelled_task_in_the_domain_map_is_reported(tmp_path):
    def edit(r):
        edit_json(r / "profile_data/domain_task_map.json",
                  lambda d: d["math"].__setitem__(d["math"].index("word_math"), "word-maths"))

    s = check_json(demo_copy(tmp_path, edit))
    (u,) = s["unmatched_names"]
    assert (u["file"], u["record"], u["kind"], u["name"], u["suggestion"]) == (
        "profile_data/domain_task_map.json", "'math'", "task", "word-maths", "word_math")
    assert u["effect"] == "no edge is made" and s["unpriced_candidates"] == []


def test_a_misspelled_family(tmp_path):
    # In candidate_models.json (read for prices only) it is a warning...
    root = demo_copy(tmp_path, lambda r: edit_json(
        r / "profile_data/candidate_models.json",
        lambda d: d[LATE_PRICED].__setitem__("architecture", "DuneForCasualLM")))
    (u,) = check_json(root)["unmatched_names"]
    assert (u["file"], u["record"], u["field"], u["kind"], u["name"], u["suggestion"]) == (
        "profile_data/candidate_models.json", repr(LATE_PRICED), "architecture", "family", "DuneForCasualLM",
        "DuneForCausalLM")
    # ...in a model_feature file, whose families make graph nodes, it stays an error naming record and field.
    root2 = demo_copy(tmp_path / "2", lambda r: edit_json(
        r / "profile_data/model_feature_standard.json",
        lambda d: d[LATE_PRICED].__setitem__("architecture", "DuneForCasualLM")))
    out = rp(root2, "data", "check", "--json")
    assert out.exit_code == 1
    assert all(x in out.output for x in ("model_feature_standard.json", LATE_PRICED, "architecture",
                                         "DuneForCausalLM"))


def test_the_demo_reports_nothing():
    s = check_json(None)  # no -d: the embedded demo
    assert s["unmatched_names"] == [] and s["unpriced_candidates"] == [] and s["warnings"] == []


@requires_real_data
def test_the_released_data_reports_its_three_dangling_names():
    ds = load_dataset(REAL_DATA)
    got = sorted((u["file"], u["record"], u["field"], u["name"], u["suggestion"]) for u in ds.unmatched)
    assert got == [
        ("profile_data/domain_task_map.json", "'reasoning'", None, "OpenBookQA", "openbook_qa"),
        ("profile_data/model_feature_newllm.json", "'gemma-2-2b-it'", "detailed_scores.mgsm", "mgsm", "gsm8k"),
        ("profile_data/model_feature_standard.json", "'gemma-2-2b-it'", "detailed_scores.mgsm", "mgsm", "gsm8k")]
    assert ds.unpriced == []  # llama-3.3-70b-instruct is priced by candidate_models.json


# ------------------------------------------------------------------------------------------ the loader


def test_every_naming_file_is_checked(make_tiny):
    def edit(f):
        f["profile_data/candidate_models.json"]["m1"]["detailed_scores"]["t_mth"] = 1.0
        f["profile_data/model_feature_standard.json"]["aux1"]["detailed_scores"]["t_cod"] = None
        f["route_data/pairwise_training_data_standard.json"]["task_data_count"]["t_qaa"] = 3
        f["route_data/default_query_train.jsonl"][0]["task_name"] = "t_maths"
        f["route_data/default_query_train.jsonl"][1]["task_name"] = "t_maths"
        f["profile_data/task_queries_newllm.json"] = {"t_code": ["write a sort"], "t_kode": ["x"]}

    ds = load_dataset(make_tiny(edit))
    got = {(u["file"], u["field"], u["name"]): (u["record"], u["suggestion"], u["records"]) for u in ds.unmatched}
    assert got == {
        ("profile_data/candidate_models.json", "detailed_scores.t_mth", "t_mth"): ("'m1'", "t_math", 1),
        ("profile_data/model_feature_standard.json", "detailed_scores.t_cod", "t_cod"): ("'aux1'", "t_code", 1),
        ("route_data/pairwise_training_data_standard.json", "task_data_count.t_qaa", "t_qaa"):
            ("task_data_count", "t_qa", 1),
        ("route_data/default_query_train.jsonl", "task_name", "t_maths"): ("line 1", "t_math", 2),
        ("profile_data/task_queries_newllm.json", None, "t_kode"): ("'t_kode'", "t_code", 1),
        ("profile_data/domain_task_map.json", None, "Ghost"): ("'d_know'", None, 1),  # the tiny set's dangling name
    }
    assert len([w for w in ds.warnings if " is not in profile_data/" in w]) == len(got)
    assert any("line 1 (and 1 more), field 'task_name': task 't_maths'" in w for w in ds.warnings)
    assert ds.unpriced == []


def test_hard_errors_stay_errors(make_tiny):
    bad = make_tiny(lambda f: f["route_data/pairwise_training_data_standard.json"]["pairwise_data"][0].update(
        better_model="m11"))
    with pytest.raises(DataFileError, match="unknown model 'm11'"):
        load_dataset(bad)
    bad = make_tiny(lambda f: f["profile_data/model_feature_standard.json"]["aux1"]["detailed_scores"].update(
        t_cod=3.0))
    with pytest.raises(DataFileError, match="a scored task has no description"):
        load_dataset(bad)


def test_a_null_cost_given_by_the_rows_makes_a_candidate_unpriced(make_tiny):
    def edit(f):
        for row in f["route_data/routing_test_data.json"][:3]:
            row["model_performance"]["m2"]["cost"] = None

    ds = load_dataset(make_tiny(edit))
    assert ds.unpriced == ["m2"]
    assert any("'m2' has no known cost (its test rows give a null cost): its cost is unknown on 3 of 12" in w
               for w in ds.warnings)


def test_missing_prices_make_a_candidate_unpriced(make_tiny):
    def edit(f):
        f["profile_data/candidate_models.json"]["m3"]["output_price"] = None

    ds = load_dataset(make_tiny(edit))
    assert ds.unpriced == ["m3"] and ds.unmatched[0]["name"] == "Ghost"


# ------------------------------------------------------------------------------------------ the leaderboard


def test_the_leaderboard_says_a_run_used_a_dataset_with_unpriced_candidates(tmp_path):
    root = demo_copy(tmp_path, lambda r: edit_json(r / "profile_data/candidate_models.json",
                                                   lambda d: rename_key(d, LATE_PRICED, "dune-3-8b-chta")))
    ws = tmp_path / "ws-unpriced"
    pid = rp(root, "profile", "index", "--mode", "standard", ws=ws).stdout.strip()
    run = rp(root, "route", "sim", "--profile", pid, "--mode", "standard", "--json", ws=ws)
    assert run.exit_code == 0, run.output
    rec = json.loads(run.stdout)
    assert rec["info"]["unpriced"] == [LATE_PRICED]  # recorded at run time
    out = rp(root, "compare", "--json", "--mode", "standard", ws=ws)
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    (mine,) = [r for r in rows if r["kind"] == "run"]
    assert mine["id"] == rec["id"] and mine["unpriced_candidates"] == [LATE_PRICED]
    assert all(r["unpriced_candidates"] == [LATE_PRICED] for r in rows)
    assert "candidates without a price: dune-3-8b-chat" in out.stderr
    plain = rp(root, "compare", "--plain", "--mode", "standard", ws=ws)
    assert plain.exit_code == 0, plain.output
    assert f"* µ$/query computed without the cost of candidates that have no price ({LATE_PRICED})" in plain.stdout
    cost = f"{mine['avg_cost_micro']:.1f}*"
    assert cost in plain.stdout
    csv_out = rp(root, "compare", "--csv", "--mode", "standard", ws=ws).stdout
    assert csv_out.splitlines()[0].endswith(",unpriced_candidates") and f",{LATE_PRICED}\n" in csv_out

    # The unchanged demo: nothing is marked, no note.
    ws2 = tmp_path / "ws-demo"
    pid = rp(None, "profile", "index", "--mode", "standard", ws=ws2).stdout.strip()
    assert rp(None, "route", "sim", "--profile", pid, "--mode", "standard", ws=ws2).exit_code == 0
    plain = rp(None, "compare", "--plain", "--mode", "standard", ws=ws2)
    assert "no price" not in plain.stdout and "*" not in plain.stdout
    rows = json.loads(rp(None, "compare", "--json", "--mode", "standard", ws=ws2).stdout)
    assert all(r["unpriced_candidates"] == [] for r in rows)


def test_runs_recorded_before_the_field_get_the_current_datasets_list():
    from rpcli.workspace.leaderboard import UNPRICED_MARK, board, cell_text, unpriced_note

    doc = {"entries": {"run-1": {"id": "run-1", "kind": "run", "status": "done", "data_hash": "h",
                                 "params": {"mode": "standard", "router": "sim"}, "info": {},
                                 "metrics": {"avg_performance": 0.5, "avg_cost_micro": 12.0}},
                       "run-2": {"id": "run-2", "kind": "run", "status": "done", "data_hash": "other",
                                 "params": {"mode": "standard", "router": "sim"}, "info": {},
                                 "metrics": {"avg_performance": 0.4, "avg_cost_micro": 10.0}}}}
    rows, _ = board([], doc, data_hash="h", allow_mixed=True, unpriced=["x"])
    by_id = {r["id"]: r for r in rows}
    assert by_id["run-1"]["unpriced_candidates"] == ["x"]  # on the current data: the dataset's list
    assert by_id["run-2"]["unpriced_candidates"] is None  # other data, not recorded: unknown, unmarked
    assert cell_text(by_id["run-1"], "avg_cost_micro") == "12.0" + UNPRICED_MARK
    assert cell_text(by_id["run-2"], "avg_cost_micro") == "10.0"
    assert "(x)" in unpriced_note(rows)
    assert unpriced_note([by_id["run-2"]]) is None


def test_the_dashboard_marks_costs_and_names_the_unpriced_candidates(tmp_path):
    import asyncio
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent / "tui"))
    from fixture_ws import DATASET, LABEL_DEFAULTS, MODELS, references, write_workspace

    from rpcli.tui.app import Dashboard
    from rpcli.tui.widgets.leaderboard import LeaderboardTable
    from rpcli.workspace.layout import Workspace

    async def go():
        app = Dashboard(Workspace(write_workspace(tmp_path / "fixture-ws")), references(),
                        dataset={**DATASET, "unpriced": [MODELS[-1]]}, reload_interval=None, defaults=LABEL_DEFAULTS)
        async with app.run_test(size=(150, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert f"* no price: {MODELS[-1]}" in str(app.query_one("#status").render())
            assert f"without the cost of {MODELS[-1]}" in str(app.query_one("#plot-caption").render())
            board = app.query_one("#board-standard", LeaderboardTable)
            cost_col = next(i for i, c in enumerate(board.ordered_columns) if "µ$" in str(c.label))
            rows = [board.get_row_at(i) for i in range(board.row_count)]
            runs = [r for r in rows if str(r[1]).startswith("run-")]
            assert runs and all(str(r[cost_col]).endswith("*") for r in runs)

    asyncio.run(go())
