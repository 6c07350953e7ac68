"""bench/make_docs.py: every bench listed, a missing result said to be "not run", targets marked from results."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_docs():
    spec = importlib.util.spec_from_file_location("make_docs", REPO / "bench" / "make_docs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_missing_results_are_not_run_and_given_targets_are_marked(tmp_path):
    md = make_docs()
    text = md.render(tmp_path)
    for name in md.BENCHES:
        assert f"## {name}\n\nnot run" in text
    assert text.count("| not run |") == len(md.TARGETS)
    (tmp_path / "route_speed.json").write_text(json.dumps({
        "bench": "route_speed", "commit": "abc", "command": "python bench/route_speed.py",
        "machine": {"nproc": 2, "load_avg": [1.5, 1, 1]},
        "tables": [{"title": "decisions/s", "columns": ["router", "per s"], "rows": [["sim", 12345.0]]}],
        "targets": [{"id": "decisions_per_s_sim", "value": 12345, "unit": "/s", "met": True},
                    {"id": "decisions_per_s_graph", "value": 900, "unit": "/s", "met": False}]}))
    text = md.render(tmp_path)
    assert "| sim | 12,345 |" in text and "`python bench/route_speed.py`" in text and "load average 1.5" in text
    # a result without route_speed's own fields falls back to its "tables" and "targets"
    rows = target_rows(text)
    assert rows["decisions_per_s_sim"] == ("12345 /s", "met")
    assert rows["decisions_per_s_graph"] == ("900 /s", "not met")
    assert rows["decisions_per_s_mlp"][1] == "not run"


RESULTS = REPO / "bench" / "results"


def target_rows(text: str) -> dict:
    """id -> (measured, status) of the Targets table."""
    part = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 5 and cells[0] not in ("id", "---"):
            rows[cells[0]] = (cells[2], cells[3])
    return rows


def test_committed_results_list_every_target_and_the_doc_is_current():
    md = make_docs()
    text = md.render(RESULTS)
    rows = target_rows(text)
    assert set(rows) == set(md.TARGETS)
    assert all(status in ("met", "not met", "not run") for _, status in rows.values()), rows
    for tid, (measured, status) in rows.items():
        if status != "not run":
            assert measured != "–", tid
    # every target not met says what bounds it
    bounded = text.split("### What bounds the targets not met (or not run)", 1)[-1].split("\n## ", 1)[0]
    for tid, (_, status) in rows.items():
        if status == "not met":
            assert f"- **{tid}**" in bounded, tid
    for name in md.BENCHES:
        assert f"\n## {name}\n" in text
    # docs/benchmarks.md is what make_docs writes from the committed results
    assert (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8") == text


def copy_results(tmp_path):
    for p in RESULTS.glob("*.json"):
        (tmp_path / p.name).write_text(p.read_text())
    return tmp_path


def test_targets_are_judged_from_the_measured_fields(tmp_path):
    md = make_docs()
    res = copy_results(tmp_path)
    rs = json.loads((res / "route_speed.json").read_text())
    for row in rs["rows"]:
        if row["router"] == "graph":
            row["batched_decisions_per_s"] = 900.0
        for part in ("encode", "decide", "total"):
            row["single"][part]["p50_ms"] = 5.0
    (res / "route_speed.json").write_text(json.dumps(rs))
    gr = json.loads((res / "graph_router.json").read_text())
    gr["summary"]["fast"]["cpu_seconds_per_seed"] = 15.0
    (res / "graph_router.json").write_text(json.dumps(gr))
    enc = json.loads((res / "encoder_speed.json").read_text())
    ref = next(x for x in enc["rows"] if x["path"] == enc["reference"])
    ref["texts_per_s"] = 300.0
    ref["cos_min"] = 0.99
    (res / "encoder_speed.json").write_text(json.dumps(enc))
    (res / "sweep_time.json").write_text(json.dumps({
        "bench": "sweep_time", "command": "python bench/sweep_time.py --configs local:2",
        "sweep": "sweeps/paper-table1.yaml", "data": "d", "encoder": "default", "commit": "abc", "cpus": 2,
        "machine": "Linux", "results": [{"executor": "local", "jobs": 2, "workspace": None,
                                         "cold": {"wall_s": 1700.0, "rc": 0, "counts": {"built": 3}},
                                         "warm": {"wall_s": 12.0, "rc": 0, "counts": {"reused": 3}}}]}))
    rows = target_rows(md.render(res))
    assert rows["decisions_per_s_graph"][1] == "not met" and rows["decisions_per_s_graph"][0].startswith("900 /s")
    assert rows["single_query_p50_ms"][1] == "met"
    assert rows["graph_router_s_per_seed"][1] == "met" and rows["graph_router_s_per_seed"][0].startswith("15.0 CPU s")
    assert rows["encoder_texts_per_s"][1] == "met" and rows["encoder_cosine"][1] == "not met"
    assert rows["sweep_cold_min"] == ("28.3 min (local executor, --jobs 2)", "met")
    assert rows["sweep_rerun_s"][1] == "not met"
    # a GraphRouter result outside one sd of the faithful reference does not meet the target however fast
    gr["summary"]["fast"]["mean"] = gr["summary"]["reference_faithful_3_seeds"]["mean"] - 0.1
    (res / "graph_router.json").write_text(json.dumps(gr))
    assert target_rows(md.render(res))["graph_router_s_per_seed"][1] == "not met"


def test_the_sweep_target_without_a_result_is_not_run_with_a_lower_bound_from_graph_router(tmp_path):
    md = make_docs()
    res = copy_results(tmp_path)
    (res / "sweep_time.json").unlink(missing_ok=True)
    gr = json.loads((res / "graph_router.json").read_text())
    text = md.render(res)
    measured, status = target_rows(text)["sweep_cold_min"]
    assert status == "not run" and measured.startswith("≥ ")
    runs, seeds = md._sweep_graph_seeds(REPO / "sweeps" / "paper-table1.yaml")
    expect = round(runs * seeds * gr["summary"]["fast"]["cpu_seconds_per_seed"] / 2 / 60)
    assert measured.startswith(f"≥ {expect} min")


def test_every_bench_script_writes_into_bench_results_by_default():
    for name in ("route_speed", "graph_router", "encoder_speed", "pipeline", "sweep_time", "serve_overhead",
                 "graphs_build", "scaling", "startup", "manifest_speed"):
        src = (REPO / "bench" / f"{name}.py").read_text()
        out = src.split('add_argument("--out"', 1)[1].split("\n", 2)[:2]
        assert "results" in " ".join(out) and f"{name}.json" in " ".join(out), (name, out)
