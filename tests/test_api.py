"""The Python API as docs/api.md shows it (its example block, run on the tiny data), the CLI's ids, the lazy
re-exports and a light `import rpcli`."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


def _example() -> str:
    text = DOC.read_text()
    m = re.search(r"<!-- api-example[^>]*-->\s*```python\n(.*?)```", text, re.S)
    assert m, "docs/api.md has no api-example block"
    return m.group(1)


def test_the_documented_example_runs(tiny_data, tmp_path, capsys):
    import torch

    torch.set_num_threads(1)
    code = _example().replace('"my-data"', repr(str(tiny_data))).replace('"my-workspace"', repr(str(tmp_path / "w")))
    code = code.replace('encoder="default"', 'encoder="hash:32"')
    ns: dict = {}
    exec(compile(code, str(DOC), "exec"), ns)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "12 test rows; candidates: ['m1', 'm2', 'm3']"
    run = ns["run"]
    assert out[1] == f"{run['id']} avg_performance {run['metrics']['avg_performance']}"
    # the run is on the leaderboard (its label names the test encoder: not the default)
    assert any(line.startswith("mlp(encoder=hash-32) / ") for line in out)
    router = ns["router"]
    assert router.route("Write a Python function that reverses a list") in out
    d = ns["d"]
    assert d.model == d.ranking[0] and set(d.scores) == {"m1", "m2", "m3"} and d.lam == 0.0
    assert out[-1].startswith(f"{router.route('What is 17 times 3?')} has the highest")

    # the CLI builds the same recipes: the same ids, reused
    from typer.testing import CliRunner

    from rpcli.cli.main import app

    base = ["-w", str(tmp_path / "w"), "-d", str(tiny_data), "--encoder", "hash:32"]
    r = CliRunner().invoke(app, [*base, "profile", "emb-gnn", "--graph", ns["graph"]["id"], "--json"])
    assert r.exit_code == 0 and '"reused": true' in r.stdout and ns["profile"]["id"] in r.stdout
    r = CliRunner().invoke(app, [*base, "route", "mlp", "--profile", ns["profile"]["id"]])
    assert r.exit_code == 0 and r.stdout.strip() == run["id"]


def test_api_errors_are_the_cli_errors(tmp_path, make_tiny):
    import rpcli

    def broken(files):
        files["route_data/routing_test_data.json"][2].pop("task_name")

    with pytest.raises(rpcli.DataFileError, match="task_name"):
        rpcli.load_dataset(make_tiny(broken))
    ws = rpcli.open_workspace(tmp_path / "w", data=make_tiny(), encoder="hash:32")
    with pytest.raises(rpcli.ConfigError, match="no option"):
        rpcli.build_profile(ws, "index", colour="red")
    with pytest.raises(rpcli.RpError, match="no run matches"):
        rpcli.load_run(ws, "run-nope")


def test_import_rpcli_is_light_and_reexports_lazily():
    code = ("import sys, rpcli; assert 'torch' not in sys.modules and 'rpcli.api' not in sys.modules; "
            "from rpcli import open_workspace, load_run; assert 'torch' not in sys.modules; "
            "import rpcli.api as a; print(rpcli.load_run is a.load_run)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "True"
    import rpcli

    with pytest.raises(AttributeError):
        rpcli.no_such_thing  # noqa: B018
    try:  # rp data import / rp model add: re-exported once their modules exist, never an import-time failure
        import rpcli.services.data.importer  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            from rpcli import import_dataset  # noqa: F401
    else:
        from rpcli import import_dataset  # noqa: F401


def test_profile_defaults_are_the_clis():
    """rpcli.api.profile_defaults() must equal the CLI's option defaults (else the API would build other recipes)."""
    import typer.main

    from rpcli.api import profile_defaults
    from rpcli.cli.main import app

    group = typer.main.get_command(app).commands["profile"]
    for method, defaults in profile_defaults().items():
        params = {p.name.removeprefix("o_"): p.default for p in group.commands[method].params}
        cli = {k: getattr(params[k], "value", params[k]) for k in defaults}
        assert cli == defaults, method
