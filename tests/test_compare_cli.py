"""rp compare: --json and --csv golden files, the plain default off a terminal, the dashboard on one.

The golden workspace is the dashboard's fixture manifest (tests/tui/fixture_ws.py) re-stamped with the tiny
dataset's hash, so the reference rows are computed from tests/tiny.py and the runs are fixed. Regenerate after an
intended change with RP_UPDATE_GOLDEN=1 and read the diff: it is a change to the user contract.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent / "tui"))

from fixture_ws import TRANSFORMERS_LLM, manifest, text_gnn_manifest, write_workspace  # noqa: E402

from rpcli.cli.main import app  # noqa: E402

GOLDEN = Path(__file__).resolve().parent / "tui" / "golden"
runner = CliRunner()


def rp(tiny, ws, *args):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", *args])


def on_tiny_data(root: Path, doc: dict, tiny) -> Path:
    """Write ``doc`` as a workspace whose records are stamped with the tiny dataset's hash."""
    from rpcli.core.data import load_dataset

    h = load_dataset(tiny).data_hash
    for e in doc["entries"].values():
        e["data_hash"] = h
        if "data" in e:
            e["data"]["hash"] = h
    return write_workspace(root, doc)


@pytest.fixture
def golden_ws(tmp_path, tiny_data):
    return on_tiny_data(tmp_path / "golden-ws", manifest(), tiny_data)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("RP_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path}: run with RP_UPDATE_GOLDEN=1 once and read it"
    assert text == path.read_text(encoding="utf-8")


def test_json_golden(tiny_data, golden_ws):
    out = rp(tiny_data, golden_ws, "compare", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    for r in rows:
        assert {"kind", "name", "mode", "avg_performance", "avg_cost"} <= set(r)
        if r["kind"] == "run":
            assert {"id", "graph", "profile", "router"} <= set(r)
    check_golden("compare.json", out.stdout)


def test_csv_golden(tiny_data, golden_ws):
    out = rp(tiny_data, golden_ws, "compare", "--csv")
    assert out.exit_code == 0, out.output
    check_golden("compare.csv", out.stdout)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    as_json = json.loads(rp(tiny_data, golden_ws, "compare", "--json").stdout)
    assert [(r["mode"], r["name"]) for r in rows] == [(r["mode"], r["name"]) for r in as_json]
    assert [float(r["avg_performance"]) for r in rows] == [r["avg_performance"] for r in as_json]


def test_mode_and_singles_filter_the_rows(tiny_data, golden_ws):
    rows = json.loads(rp(tiny_data, golden_ws, "compare", "--json", "--mode", "newllm", "--singles").stdout)
    assert {r["mode"] for r in rows} == {"newllm"}
    assert {r["name"] for r in rows if r["kind"] == "single"} == {"m1", "m2", "m3"}


def test_plain_is_the_default_off_a_terminal(tiny_data, golden_ws, monkeypatch):
    import rpcli.tui.app

    monkeypatch.setattr(rpcli.tui.app.Dashboard, "run", lambda self: pytest.fail("the dashboard opened"))
    out = rp(tiny_data, golden_ws, "compare")
    assert out.exit_code == 0, out.output
    assert "leaderboard: standard" in out.stdout and "run-a000000001" in out.stdout
    assert "does not beat the per-task-best (train)" in out.stdout


def test_a_terminal_gets_the_dashboard(tiny_data, golden_ws, monkeypatch):
    import rpcli.cli.compare
    import rpcli.tui.app

    seen = {}

    def fake_run(self):
        seen.update(refs=self.references, dataset=self.dataset, root=self.workspace.root, modes=self.modes)

    monkeypatch.setattr(rpcli.cli.compare, "_stdout_is_terminal", lambda: True)
    monkeypatch.setattr(rpcli.tui.app.Dashboard, "run", fake_run)
    out = rp(tiny_data, golden_ws, "compare")
    assert out.exit_code == 0, out.output
    assert seen["root"] == golden_ws and seen["modes"] == ("standard", "newllm")
    assert seen["dataset"]["name"] == "tiny" and seen["dataset"]["candidates"] == ["m1", "m2", "m3"]
    assert not any(r["kind"] == "run" for r in seen["refs"])  # the app reads runs from the manifest itself
    assert {r["name"] for r in seen["refs"] if r["kind"] == "single"} == {"m1", "m2", "m3"}  # for the plot
    assert out.stdout == ""


def test_one_output_format_at_a_time(tiny_data, golden_ws):
    out = rp(tiny_data, golden_ws, "compare", "--json", "--csv")
    assert out.exit_code == 2 and "choose one of" in out.output


def test_runs_built_by_the_pipeline_show_up_in_every_format(tiny_data, tmp_path):
    ws = tmp_path / "pipeline-ws"
    gid = rp(tiny_data, ws, "graph", "build", "task").stdout.strip()
    pid = rp(tiny_data, ws, "profile", "emb-gnn", "--graph", gid).stdout.strip()
    run = json.loads(rp(tiny_data, ws, "route", "sim", "--profile", pid, "--json").stdout)
    rows = json.loads(rp(tiny_data, ws, "compare", "--json").stdout)
    mine = [r for r in rows if r["kind"] == "run"]
    assert [r["id"] for r in mine] == [run["id"]]
    assert mine[0]["avg_performance"] == run["metrics"]["avg_performance"]
    assert (mine[0]["graph"], mine[0]["profile"], mine[0]["hops"]) == (gid, pid, 2)
    assert isinstance(mine[0]["beats_per_task_best"], bool)
    table = list(csv.DictReader(io.StringIO(rp(tiny_data, ws, "compare", "--csv").stdout)))
    assert [r["id"] for r in table if r["kind"] == "run"] == [run["id"]]
    assert run["id"] in rp(tiny_data, ws, "compare", "--plain").stdout


def test_every_text_gnn_row_names_its_backend(tiny_data, tmp_path):
    ws = on_tiny_data(tmp_path / "text-gnn-ws", text_gnn_manifest(), tiny_data)
    qwen = TRANSFORMERS_LLM["model"]
    expected = {"run-d000000001": ("extractive", None), "run-d000000002": ("transformers", qwen),
                "run-d000000003": ("extractive", None)}
    rows = json.loads(rp(tiny_data, ws, "compare", "--json").stdout)
    tg = {r["id"]: r for r in rows if r["kind"] == "run" and r["profile_method"] == "text-gnn"}
    assert {i: (r["backend"], r["llm_model"]) for i, r in tg.items()} == expected
    assert tg["run-d000000001"]["profile_label"] == "text-gnn(K=2, backend=extractive)"
    assert tg["run-d000000002"]["profile_label"] == f"text-gnn(K=2, backend=transformers, model={qwen})"
    assert all(f"/ {r['profile_label']} /" in r["name"] for r in tg.values())
    table = list(csv.DictReader(io.StringIO(rp(tiny_data, ws, "compare", "--csv").stdout)))
    assert {r["id"]: (r["backend"], r["llm_model"] or None) for r in table if r["profile_method"] == "text-gnn"} \
        == expected
    assert {r["id"]: r["profile_label"] for r in table if r["id"] in tg} == {i: r["profile_label"]
                                                                             for i, r in tg.items()}
    # --plain: every text-gnn run's profile cell (wrapped over lines as the table needs) names the backend,
    # and the LLM model in full; no other run mentions a backend
    cells = plain_cells(rp(tiny_data, ws, "compare", "--plain").stdout, "profile")
    for rid, (backend, model) in expected.items():
        assert cells[rid].replace(" ", "") == tg[rid]["profile_label"].replace(" ", ""), cells[rid]
        assert f"backend={backend}" in cells[rid] and (model is None or f"model={model}" in cells[rid].replace(" ", ""))
    assert not any("backend" in c for k, c in cells.items() if k.startswith("run-") and k not in expected)


def plain_cells(text: str, column: str) -> dict[str, str]:
    """{first column (run id or reference name): the text of ``column``} for every row of the --plain tables;
    a cell wrapped over several lines is joined with spaces."""
    out: dict[str, list[str]] = {}
    header, key = [], None
    for line in text.splitlines():
        if line.startswith("┃"):
            header = [c.strip() for c in line.strip("┃").split("┃")]
        elif line.startswith("│"):
            cells = [c.strip() for c in line.strip("│").split("│")]
            key = cells[1] or key
            out.setdefault(key, []).append(cells[header.index(column)])
    return {k: " ".join(x for x in v if x) for k, v in out.items()}


def test_runs_on_other_data_are_held_back_with_one_notice(tiny_data, tmp_path):
    ws = write_workspace(tmp_path / "other-data-ws")  # the fixture's runs carry another dataset's hash
    out = rp(tiny_data, ws, "compare", "--json")
    assert out.exit_code == 0 and not [r for r in json.loads(out.stdout) if r["kind"] == "run"]
    err = " ".join(out.stderr.split())  # the console wraps long lines
    assert "7 recorded run(s) were evaluated on other data than" in err and "none is shown" in err
    out = rp(tiny_data, ws, "compare", "--json", "--allow-mixed")
    assert len([r for r in json.loads(out.stdout) if r["kind"] == "run"]) == 7
    assert "ranking runs from 2 datasets together" in " ".join(out.stderr.split())  # theirs and the tiny data


def test_the_dataset_view_is_cached_and_follows_the_data(tiny_data, golden_ws, monkeypatch):
    """The second `rp compare` reads the reference rows from the workspace's cache (the dataset is not loaded
    again) and prints the same rows; changing a data file recomputes them."""
    import rpcli.core.data as data_pkg

    first = rp(tiny_data, golden_ws, "compare", "--json")
    assert first.exit_code == 0, first.output
    assert len(list((golden_ws / "cache" / "view").glob("*.json"))) == 1

    def no_load(*a, **k):
        raise AssertionError("the dataset was loaded although its view is cached")

    with monkeypatch.context() as m:
        m.setattr(data_pkg, "load_dataset", no_load)
        second = rp(tiny_data, golden_ws, "compare", "--json")
    assert second.exit_code == 0, second.output
    assert second.stdout == first.stdout

    # a changed test score changes the reference rows: the cache key follows the files
    f = tiny_data / "route_data" / "routing_test_data.json"
    rows = json.loads(f.read_text())
    for r in rows:
        for m in r["model_performance"].values():
            m["task_performance"] = 1.0 - m["task_performance"]
    f.write_text(json.dumps(rows))
    third = rp(tiny_data, golden_ws, "compare", "--json", "--allow-mixed")
    assert third.exit_code == 0, third.output
    refs = lambda out: [r for r in json.loads(out) if r["kind"] != "run"]  # noqa: E731
    assert refs(third.stdout) != refs(first.stdout)
    assert len(list((golden_ws / "cache" / "view").glob("*.json"))) == 2
