"""bench/run.py: every result it writes records its commands, commit, load and machine; a dirty tree is refused."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", REPO / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[f"bench_{name}"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


FAKE = '''
import argparse, json
ap = argparse.ArgumentParser(); ap.add_argument("--n", type=int); ap.add_argument("--out")
a = ap.parse_args()
json.dump({"bench": "fake", "command": "fake", "tables": [{"title": "t", "columns": ["n"], "rows": [[a.n]]}],
           "targets": [{"id": "help_s", "value": a.n / 100, "unit": "s", "met": a.n / 100 < 0.3}]}, open(a.out, "w"))
'''


def test_run_records_command_commit_load_and_machine(tmp_path, monkeypatch):
    run = load("run")
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    monkeypatch.setattr(run, "BENCHES", (run.Bench("fake", str(script), ["--n", "50"], ["--n", "7"]),))
    monkeypatch.setattr(run, "tree_state", lambda: ("a" * 40, []))
    results = tmp_path / "res"
    assert run.main(["--quick", "--results", str(results)]) == 0
    doc = json.loads((results / "fake.json").read_text())
    r = doc["run"]
    assert r["command"] == f"python bench/run.py --quick --results {results}"
    assert r["bench_command"].endswith(f"--n 7 --out {results / 'fake.json'}")
    assert r["commit"] == "a" * 12 and r["clean"] is True and r["quick"] is True
    assert len(r["load_avg_before"]) == 3 and len(r["load_avg_after"]) == 3
    assert r["machine"]["nproc"] >= 1 and "cpu" in r["machine"]
    text = (results / "benchmarks.md").read_text()
    assert "| 7 |" in text  # the table the bench wrote, rendered
    assert "python bench/run.py --quick" in text  # the command that reruns it is shown


def test_a_dirty_tree_is_refused_unless_allowed(tmp_path, monkeypatch, capsys):
    run = load("run")
    script = tmp_path / "fake.py"
    script.write_text(FAKE)
    monkeypatch.setattr(run, "BENCHES", (run.Bench("fake", str(script), ["--n", "1"], ["--n", "1"]),))
    monkeypatch.setattr(run, "tree_state", lambda: ("b" * 40, ["rpcli/x.py"]))
    assert run.main(["--quick", "--results", str(tmp_path / "r1")]) == 2
    assert "rpcli/x.py" in capsys.readouterr().err
    assert not (tmp_path / "r1" / "fake.json").exists()
    assert run.main(["--quick", "--results", str(tmp_path / "r2"), "--allow-dirty"]) == 0
    r = json.loads((tmp_path / "r2" / "fake.json").read_text())["run"]
    assert r["commit"] == "b" * 12 + "+dirty" and r["clean"] is False


def test_unknown_bench_names_are_refused():
    run = load("run")
    try:
        run.main(["--only", "nope"])
    except SystemExit as e:
        assert "nope" in str(e)
    else:
        raise AssertionError("an unknown bench name was accepted")
