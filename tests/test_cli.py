"""The CLI contract: ids on stdout, diagnostics on stderr, exit codes, --json shapes, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app

runner = CliRunner()


def rp(tiny, *args, ws=None):
    base = ["-d", str(tiny), "--encoder", "hash:32"]
    if ws is not None:
        base = ["-w", str(ws), *base]
    return runner.invoke(app, [*base, *args])


def test_pipeline_ids_on_stdout_and_reuse(tiny_data):
    g = rp(tiny_data, "graph", "build", "task", "--mode", "standard")
    assert g.exit_code == 0, g.output
    gid = g.stdout.strip()
    assert gid.startswith("graph-") and "\n" not in gid
    assert "built" in g.stderr
    again = rp(tiny_data, "graph", "build", "task", "--mode", "standard")
    assert again.stdout.strip() == gid
    p = rp(tiny_data, "profile", "emb-gnn", "--mode", "standard", "--graph", gid[:10])
    pid = p.stdout.strip()
    assert p.exit_code == 0 and pid.startswith("profile-")
    r = rp(tiny_data, "route", "sim", "--profile", pid, "--mode", "standard", "--json")
    assert r.exit_code == 0, r.output
    rec = json.loads(r.stdout)
    assert rec["kind"] == "run" and rec["parents"] == [pid] and rec["status"] == "done"
    assert "avg_performance" in rec["metrics"] and rec["reused"] is False
    ls = rp(tiny_data, "ls", "runs", "--json")
    rows = json.loads(ls.stdout)
    assert [x["id"] for x in rows] == [rec["id"]]
    assert {"id", "kind", "params", "parents", "status"} <= set(rows[0])
    show = rp(tiny_data, "show", rec["id"][:8], "--json")
    assert json.loads(show.stdout)["id"] == rec["id"]


def test_compare_json_contract(tiny_data):
    out = rp(tiny_data, "compare", "--json")
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    refs = {(r["mode"], r["name"]) for r in rows}
    assert ("standard", "oracle") in refs and ("newllm", "random") in refs
    for r in rows:
        assert {"kind", "name", "mode", "avg_performance", "avg_cost"} <= set(r)
    pid = rp(tiny_data, "profile", "index", "--mode", "newllm").stdout.strip()
    rp(tiny_data, "route", "sim", "--profile", pid, "--mode", "newllm")
    rows = json.loads(rp(tiny_data, "compare", "--json").stdout)
    runs = [r for r in rows if r["kind"] == "run"]
    assert len(runs) == 1 and {"id", "graph", "profile", "router"} <= set(runs[0])
    assert runs[0]["profile"] == pid and runs[0]["router"] == "sim" and runs[0]["mode"] == "newllm"


def test_data_check_json(tiny_data):
    out = rp(tiny_data, "data", "check", "--json")
    s = json.loads(out.stdout)
    assert s["candidates"] == ["m1", "m2", "m3"] and s["test_rows"] == 12
    assert s["modes"]["newllm"]["held_out"] == ["m3"]
    assert s["modes"]["standard"]["pairs_dropped_overlap"] == 2


def test_bad_data_is_one_clear_error_and_changes_nothing(make_tiny, tmp_path):
    ws = tmp_path / "wsx"
    good = make_tiny()
    assert rp(good, "graph", "build", "task", ws=ws).exit_code == 0
    before = (ws / "manifest.json").read_bytes()
    bad = make_tiny(lambda f: f.update({"profile_data/task_feature.json": "{oops"}))
    out = rp(bad, "graph", "build", "task", ws=ws)
    assert out.exit_code == 1
    assert "task_feature.json" in out.stderr and "malformed JSON" in out.stderr
    assert "Traceback" not in out.output and out.stdout == ""
    assert (ws / "manifest.json").read_bytes() == before


def test_unknown_ids_and_usage_errors(tiny_data):
    out = rp(tiny_data, "route", "sim", "--profile", "profile-ffff", "--mode", "standard")
    assert out.exit_code == 1 and "no profile matches" in out.stderr
    assert rp(tiny_data, "graph", "build", "nonsense").exit_code == 2
    out = rp(tiny_data, "profile", "emb-gnn", "--keep", "m1,zz")
    assert out.exit_code == 1 and "zz" in out.stderr


def test_ws_commands(tmp_path, tiny_data):
    ws = tmp_path / "w2"
    assert runner.invoke(app, ["-w", str(ws), "ws", "path"]).stdout.strip() == str(ws.resolve())
    assert runner.invoke(app, ["-w", str(ws), "ws", "init"]).exit_code == 0
    st = json.loads(runner.invoke(app, ["-w", str(ws), "ws", "status", "--json"]).stdout)
    assert st["exists"] and st["counts"] == {}


@pytest.mark.parametrize("stmt", ["import rpcli.cli.main", "import rpcli.workspace.leaderboard",
                                  "import rpcli.workspace.manifest"])
def test_front_end_imports_no_torch(stmt):
    code = f"{stmt}; import sys; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False False"


def test_building_the_cli_loads_every_plugin_but_no_numpy():
    """Every rp command builds the app, which loads every registered router and profile method: their modules
    import their numerics on first use (numpy, torch), so a command's start-up stays light."""
    code = ("import sys\nimport rpcli.cli.main\nfrom rpcli.core.registry import problems, routers\n"
            "print(len(routers()) >= 10, problems() == [], 'numpy' in sys.modules, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "True True False False"


def test_rp_help_imports_no_torch():
    code = ("import sys\nfrom typer.testing import CliRunner\nfrom rpcli.cli.main import app\n"
            "r = CliRunner().invoke(app, ['--help'])\nassert r.exit_code == 0 and 'profile' in r.stdout\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_core_never_imports_ui_modules():
    code = ("import sys, rpcli.services.artifacts.routes, rpcli.services.artifacts.profiles, rpcli.services.artifacts.graphs, "
            "rpcli.core.routers.evaluate, rpcli.core.graph.build\n"
            "print(sorted(m for m in ('typer', 'rich', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


_ENTRY = ("import sys\nsys.argv = ['rp'] + sys.argv[1:]\nfrom rpcli.cli.entry import main\n"
          "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
          "print(f'<<{code}|{\"typer\" in sys.modules}|{\"torch\" in sys.modules}>>', file=sys.stderr)\n")


def _entry(args, env):
    return subprocess.run([sys.executable, "-c", _ENTRY, *args], capture_output=True, text=True, env=env)


@pytest.mark.parametrize("args,code", [(["--help"], 0), ([], 2)])
def test_root_help_is_served_from_the_cache_identically(tmp_path, args, code):
    """The first `rp --help` renders through Typer and keeps the text; the second prints the same bytes with the
    same exit code without importing Typer (or torch); RP_NO_HELP_CACHE=1 renders it live, identically."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "100"}
    env.pop("RP_NO_HELP_CACHE", None)
    first, second = _entry(args, env), _entry(args, env)
    live = _entry(args, {**env, "RP_NO_HELP_CACHE": "1"})
    assert "Usage: rp" in first.stdout and "profile" in first.stdout
    assert first.stdout == second.stdout == live.stdout
    assert f"<<{code}|True|False>>" in first.stderr and f"<<{code}|True|False>>" in live.stderr
    assert f"<<{code}|False|False>>" in second.stderr  # cached: no typer, no torch
    assert len(list((tmp_path / "cache" / "rp").glob("help-*.txt"))) == 1


@pytest.mark.parametrize("args", [["route", "--help"], ["route", "knn", "--help"], ["profile", "emb-gnn", "--help"]])
def test_subcommand_help_is_served_from_the_cache_identically(tmp_path, args):
    """A subcommand's help (its options read off the registry) is kept like the root help: the second call prints
    the same bytes without importing Typer, numpy or torch; rendered live it is identical."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "COLUMNS": "100"}
    env.pop("RP_NO_HELP_CACHE", None)
    first, second = _entry(args, env), _entry(args, env)
    live = _entry(args, {**env, "RP_NO_HELP_CACHE": "1"})
    assert "Usage: rp" in first.stdout and "--" in first.stdout
    assert first.stdout == second.stdout == live.stdout
    assert "<<0|True|False>>" in first.stderr and "<<0|False|False>>" in second.stderr


def test_subcommand_help_key_follows_the_registry(tmp_path, monkeypatch):
    """An installed or removed plugin (an entry point of rp.routers / rp.profiles) changes a subcommand's key."""
    from importlib import metadata

    from rpcli.cli import entry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("RP_NO_HELP_CACHE", raising=False)
    a = entry.help_cache_file(["route", "--help"])
    real = metadata.entry_points

    def more(**kw):
        eps = list(real(**kw))
        if kw.get("group") == "rp.routers":
            eps.append(metadata.EntryPoint("extra", "no_such_plugin_module:ROUTER", "rp.routers"))
        return eps

    monkeypatch.setattr(metadata, "entry_points", more)
    b = entry.help_cache_file(["route", "--help"])
    assert a is not None and b is not None and a != b


def test_help_cache_key_follows_width_and_code(tmp_path, monkeypatch):
    from rpcli.cli import entry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("RP_NO_HELP_CACHE", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    a = entry.help_cache_file(["--help"])
    monkeypatch.setenv("COLUMNS", "120")
    b = entry.help_cache_file(["--help"])
    assert a is not None and b is not None and a != b
    sub = entry.help_cache_file(["route", "knn", "--help"])
    assert sub is not None and sub != b  # subcommand help is cached too, under its own key
    assert entry.help_cache_file(["-d", "x", "route", "--help"]) is None  # options before it: rendered live
    assert entry.help_cache_file(["route", "knn"]) is None  # not a help call (it may run something)
    assert entry.help_cache_file(["a", "b", "c", "--help"]) is None
    monkeypatch.setenv("RP_NO_HELP_CACHE", "1")
    assert entry.help_cache_file(["--help"]) is None
