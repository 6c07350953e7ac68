"""bench/make_docs.py: every bench listed, a missing result "not run", targets judged from the measured fields,
statements computed from the numbers, and the committed results made by bench/run.py at a clean commit."""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = mod
    spec.loader.exec_module(mod)
    return mod


def target_rows(text: str) -> dict:
    """id -> (measured, status) of the Targets table."""
    part = text.split("## Targets", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in part.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 5 and cells[0] not in ("id", "---"):
            rows[cells[0]] = (cells[2], cells[3])
    return rows


def _ms(p50):
    return {"p50_ms": p50, "p95_ms": p50 * 1.5, "p99_ms": p50 * 2}


RUN = {"command": "python bench/run.py", "bench_command": "python bench/x.py --out bench/results/x.json",
       "commit": "0123456789ab", "clean": True, "quick": False, "load_avg_before": [0.1, 0.2, 0.3],
       "load_avg_after": [0.4, 0.5, 0.6], "machine": {"nproc": 2, "cpu": "CPU"}, "wall_s": 12.0}


def route_speed(encode_cpu=34.0, graph_rate=20000.0):
    rows = []
    for router in ("sim", "mlp", "graph"):
        rows.append({"router": router, "run": f"run-{router}", "models": 3, "n": 2000, "batch": 1024, "n_single": 20,
                     "batched_decisions_per_s": graph_rate if router == "graph" else 50000.0,
                     "single": {"encode": _ms(encode_cpu + 1), "decide": _ms(0.5), "total": _ms(encode_cpu + 1.5),
                                "cache": _ms(0.2), "encode_cpu": _ms(encode_cpu), "decide_cpu": _ms(0.4)}})
    return {"bench": "route_speed", "encoder": "e", "mode": "standard", "threads": 1, "loadavg_start": [0.5, 0, 0],
            "rows": rows, "run": RUN}


def encoder_speed(static_rate=9000.0, static_single=0.2, default_rate=20.0):
    def row(path, rate, cos):
        return {"path": path, "id": path + "-id", "texts": 1000, "tokens": 125000, "threads": 2, "wall_s": 1000 / rate,
                "cpu_s": 2000 / rate, "texts_per_s": rate, "texts_per_cpu_s": rate / 2, "speedup": rate / default_rate,
                "cos_min": cos, "cos_mean": cos, "max_abs_diff": 0.0}
    st = row("minilm-static", static_rate, None)
    st.update(sim_corr=0.74, knn10_overlap=0.41, dim=256)
    st["single"] = {"p50_ms": static_single, "p99_ms": static_single * 3, "n": 500}
    return {"bench": "encoder_speed", "reference": "minilm-torch", "repeats": 1,
            "rows": [row("minilm-torch", default_rate, 1.0), st], "run": RUN}


def test_missing_results_are_not_run_with_the_command_that_runs_them(tmp_path):
    md = load("make_docs")
    text = md.render(tmp_path)
    for name in md.BENCHES:
        assert f"## {name}\n\nnot run: `python bench/run.py --only {name}`" in text
    assert set(target_rows(text)) == set(md.TARGETS)
    assert all(status == "not run" for _, status in target_rows(text).values())


def test_targets_are_judged_from_the_measured_fields(tmp_path):
    md = load("make_docs")
    (tmp_path / "route_speed.json").write_text(json.dumps(route_speed(encode_cpu=34.0, graph_rate=900.0)))
    (tmp_path / "encoder_speed.json").write_text(json.dumps(encoder_speed(static_rate=9000.0, static_single=0.7)))
    rows = target_rows(md.render(tmp_path))
    assert rows["decisions_per_s_graph"][1] == "not met" and rows["decisions_per_s_graph"][0].startswith("900 /s")
    assert rows["decisions_per_s_sim"][1] == "met"
    assert rows["single_query_p50_ms"][1] == "not met"
    assert rows["static_texts_per_s"] == (rows["static_texts_per_s"][0], "met")
    assert rows["static_single_ms"][1] == "not met" and rows["static_single_ms"][0].startswith("0.7 ms")
    assert rows["encoder_texts_per_s"][1] == "not met"
    (tmp_path / "route_speed.json").write_text(json.dumps(route_speed(encode_cpu=5.0, graph_rate=5000.0)))
    (tmp_path / "encoder_speed.json").write_text(json.dumps(encoder_speed(static_single=0.3)))
    rows = target_rows(md.render(tmp_path))
    assert rows["decisions_per_s_graph"][1] == "met" and rows["single_query_p50_ms"][1] == "met"
    assert rows["static_single_ms"][1] == "met"


def test_what_bounds_a_target_is_computed_from_its_result(tmp_path):
    md = load("make_docs")
    texts = []
    for cpu in (34.5, 61.25):
        (tmp_path / "route_speed.json").write_text(json.dumps(route_speed(encode_cpu=cpu)))
        text = md.render(tmp_path)
        bound = text.split("### What bounds", 1)[1].split("\n## ", 1)[0]
        line = next(x for x in bound.splitlines() if x.startswith("- **single_query_p50_ms**"))
        assert f"{cpu:.1f} ms of CPU" in line
        texts.append(line)
    assert texts[0] != texts[1]


def test_a_result_not_made_by_bench_run_is_flagged(tmp_path):
    md = load("make_docs")
    r = route_speed()
    (tmp_path / "route_speed.json").write_text(json.dumps(r))
    text = md.render(tmp_path)
    assert "`python bench/run.py` ran `python bench/x.py --out bench/results/x.json`" in text
    assert "commit `0123456789ab`" in text and "load average 0.1 (1 min) before, 0.4 after" in text
    del r["run"]
    r["command"] = "python bench/route_speed.py --workspace /tmp/somewhere"
    (tmp_path / "route_speed.json").write_text(json.dumps(r))
    assert "**Not made by bench/run.py**" in md.render(tmp_path)


def test_static_quality_counts_cells_below_zero(tmp_path):
    md = load("make_docs")
    row = {"encoder": "minilm-static", "baseline": "default", "cell": {"sweep": "best", "mode": "standard"},
           "label": "knn", "run": "run-a", "baseline_run": "run-b", "mean": 0.6, "baseline_mean": 0.61, "diff": -0.01,
           "ci95": [-0.03, 0.01], "below_zero": False, "above_zero": False, "n": 100}
    doc = {"bench": "encoder_quality", "encoders": ["default", "minilm-static"], "sweeps": ["sweeps/best.yaml"],
           "datasets": [{"name": "demo", "data": "d", "rows": [row]}], "run": RUN}
    (tmp_path / "encoder_quality.json").write_text(json.dumps(doc))
    assert target_rows(md.render(tmp_path))["static_quality"][1] == "met"
    bad = copy.deepcopy(doc)
    bad["datasets"][0]["rows"][0].update(ci95=[-0.05, -0.01], below_zero=True)
    (tmp_path / "encoder_quality.json").write_text(json.dumps(bad))
    assert target_rows(md.render(tmp_path))["static_quality"][1] == "not met"


def test_every_bench_of_bench_run_exists_and_writes_where_it_is_told():
    run = load("run")
    for b in run.BENCHES:
        src = (REPO / "bench" / f"{b.script}.py").read_text()
        assert 'add_argument("--out"' in src, b.script
    md = load("make_docs")
    assert {b.name for b in run.BENCHES} <= set(md.BENCHES) | set(md.COMPANIONS)


def test_committed_results_come_from_bench_run_at_a_clean_commit_and_the_doc_is_current():
    md = load("make_docs")
    for p in sorted(RESULTS.glob("*.json")):
        run = json.loads(p.read_text()).get("run")
        assert run, f"{p.name} was not written by bench/run.py"
        assert run["command"].startswith("python bench/run.py") and run["clean"] is True, p.name
        assert len(run["commit"]) == 12 and "+" not in run["commit"], p.name
        assert len(run["load_avg_before"]) == 3 and run["machine"].get("nproc"), p.name
    text = md.render(RESULTS)
    rows = target_rows(text)
    assert set(rows) == set(md.TARGETS)
    for tid, (measured, status) in rows.items():
        assert status in ("met", "not met", "not run"), (tid, status)
        if status != "not run":
            assert measured != "–", tid
    assert (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8") == text


def test_the_page_names_no_absolute_path_of_the_machine(tmp_path):
    md = load("make_docs")
    r = route_speed()
    r["run"] = {**RUN, "command": "python bench/run.py --results /tmp/x/res",
                "bench_command": f"python bench/route_speed.py --data /elsewhere/shared/data/routeprofile "
                                 f"--workspace /tmp/rp-bench-1/route_speed --out {REPO}/bench/results/route_speed.json"}
    (tmp_path / "route_speed.json").write_text(json.dumps(r))
    text = md.render(tmp_path)
    assert "/tmp/" not in text and "/elsewhere" not in text and str(REPO) not in text
    assert "--data ../shared/data/routeprofile --workspace $TMP/rp-bench-1/route_speed" in text
    assert "--out bench/results/route_speed.json" in text
