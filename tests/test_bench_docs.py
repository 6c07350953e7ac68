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
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if "| route_speed |" in line}
    assert rows["sim at least 10,000 decisions/s (cached embeddings)"].endswith("| met |")
    assert rows["graph at least 1,000 decisions/s (cached embeddings)"].endswith("| not met |")
    assert rows["mlp at least 10,000 decisions/s (cached embeddings)"].endswith("| not run |")
