"""Third-party plugins (docs/plugins.md): examples/rp-plugin-example is pip-installed into a --target directory
that subprocesses get on PYTHONPATH (as a user's `pip install` would put it on sys.path), and its router is driven
through every surface: `rp plugins`, `rp route winrate`, a sweep naming it (the same id), `rp compare` and
`rp report`, `rp route query`, `rp serve` (fake upstreams) and the Python API. A second, broken distribution (a
module that raises on import, an object that is not a Router, a name that shadows a built-in) is reported by
`rp plugins`, makes only the commands naming it fail, and leaves `rp ls` and `rp route sim` alone. The root help,
cached or not, imports no torch and is not left stale by an installed plugin."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rp-plugin-example"
TEXT = "compute 17 times 3"
SHRINK_NOTE = "Pseudo-observations pulling a task's win rate"


def _pip_install(src: Path, target: Path) -> None:
    """pip install --no-deps --target (without build isolation when setuptools is importable here, so no index is
    needed; else with it)."""
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-input",
            "--disable-pip-version-check", "--target", str(target)]
    tries = [base + [str(src)]]
    try:
        import setuptools  # noqa: F401

        tries.insert(0, base + ["--no-build-isolation", str(src)])
    except ImportError:
        pass
    for cmd in tries:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if r.returncode == 0:
            return
        shutil.rmtree(target, ignore_errors=True)
    raise AssertionError(f"pip install {src} failed:\n{r.stdout}\n{r.stderr}")


def _write_broken_dist(target: Path) -> None:
    """A tiny installed distribution (what pip leaves: a package and its .dist-info) whose entry points are broken:
    a module that raises on import, an object that is not a Router, a name taken by a built-in, a Router whose
    option's default is not one of its choices (it could not become a command)."""
    pkg = target / "rp_broken_plugin"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "boom.py").write_text('raise RuntimeError("this plugin is broken on purpose")\n')
    (pkg / "thing.py").write_text('THING = {"name": "notarouter"}\n')
    (pkg / "odd.py").write_text(textwrap.dedent("""\
        from dataclasses import dataclass
        from rpcli.core.plugin import Router, option

        @dataclass
        class Config:
            norm: str = option("l1", "A norm.", choices=("sym", "rw"))

        class Odd(Router):
            name = "odd"
            Config = Config

        ROUTER = Odd()
        """))
    info = target / "rp_broken_plugin-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: rp-broken-plugin\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[rp.routers]\nbroken = rp_broken_plugin.boom:ROUTER\n"
                                           "notarouter = rp_broken_plugin.thing:THING\n"
                                           "sim = rp_broken_plugin.thing:THING\n"
                                           "odd = rp_broken_plugin.odd:ROUTER\n")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The example installed (and the broken distribution beside it), the tiny data, an index profile."""
    import torch
    from tiny import write_tiny

    from rpcli.services.base import Session
    from rpcli.services.artifacts.profiles import build_profile_entry
    from rpcli.workspace.layout import Workspace

    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("plugins")
    src = root / "rp-plugin-example"  # a copy: the build leaves build/ and *.egg-info beside the sources
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    _pip_install(src, root / "site")
    _write_broken_dist(root / "broken")
    data = write_tiny(root / "tiny")
    sess = Session(workspace=Workspace(root / "ws"), data_root=data, encoder_spec="hash:32")
    pid = build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
    return {"root": root, "site": root / "site", "broken": root / "broken", "src": src, "data": data,
            "ws": root / "ws", "profile": pid}


def _env(st, *paths, **extra) -> dict:
    """The environment of an rp process: `paths` first on PYTHONPATH (where pip put the plugins), the module's
    workspace and help cache, a wide terminal (error panels on few lines)."""
    env = {k: v for k, v in os.environ.items() if k not in ("RP_DATA", "RP_ENCODER", "RP_NO_HELP_CACHE")}
    pythonpath = [str(p) for p in paths] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    env.update(PYTHONPATH=os.pathsep.join(pythonpath), RP_WORKSPACE=str(st["ws"]),
               XDG_CACHE_HOME=str(st["root"] / "cache"), HF_HUB_OFFLINE="1", COLUMNS="200", OMP_NUM_THREADS="1")
    env.update(extra)
    return env


_RP = "import sys\nsys.argv[0] = 'rp'\nfrom rpcli.cli.entry import main\nmain()\n"  # the `rp` console script


def _argv(st, *args) -> list:
    return [sys.executable, "-c", _RP, "-d", str(st["data"]), "--encoder", "hash:32", *args]


def rp(st, *args, paths=None, timeout=120):
    """Run `rp -d TINY --encoder hash:32 ARGS` in a fresh process with the example installed (`paths`: what is
    on PYTHONPATH)."""
    paths = [st["site"]] if paths is None else paths
    return subprocess.run(_argv(st, *args), capture_output=True, text=True, cwd=st["root"], env=_env(st, *paths),
                          timeout=timeout)


def _concurrently(st, *argvs, timeout=120) -> list:
    """Run commands that only read the workspace (or reuse what it holds) at the same time."""
    procs = [subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=st["root"],
                              env=_env(st, st["site"])) for a in argvs]
    out = []
    for a, p in zip(argvs, procs):
        so, se = p.communicate(timeout=timeout)
        out.append(subprocess.CompletedProcess(a, p.returncode, so, se))
    return out


def _ok(r):
    assert r.returncode == 0, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    return r


def test_the_examples_own_tests_pass_against_the_install(stack):
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
                       capture_output=True, text=True, cwd=stack["src"], env=_env(stack, stack["site"]), timeout=120)
    assert r.returncode == 0 and "4 passed" in r.stdout, r.stdout + r.stderr


def test_rp_plugins_lists_the_example_with_its_source(stack):
    doc = json.loads(_ok(rp(stack, "plugins", "--json")).stdout)
    routers = {x["name"]: x for x in doc["routers"]}
    w = routers["winrate"]
    assert w["source"] == "rp-plugin-example 0.1.0" and w["target"] == "rp_plugin_example.winrate:ROUTER"
    assert w["summary"].startswith("Per-task win rates")
    assert w["capabilities"]["training"] is True and w["capabilities"]["checkpoint"] is False
    assert [(o["name"], o["type"], o["default"], o["flag"], o["min"]) for o in w["options"]] == \
        [("shrink", "float", 4.0, "--shrink", 0.0)]
    assert w["options"][0]["help"].startswith(SHRINK_NOTE)
    assert routers["sim"]["source"].startswith("rpcli ") and routers["sim"]["target"].endswith("sim:ROUTER")
    assert list(routers)[-1] == "winrate"  # after the built-ins (display order, then name)
    assert doc["problems"] == []
    plain = _ok(rp(stack, "plugins")).stdout
    assert "winrate" in plain and "rp-plugin-example 0.1.0" in plain and "--shrink 4.0" in plain
    assert "failed to load" not in plain


def test_the_example_router_on_every_surface(stack):
    pid = stack["profile"]
    # the command, its option read off the Config
    helped = _ok(rp(stack, "route", "winrate", "--help")).stdout
    assert "--shrink" in helped and "rp route winrate --profile" in helped
    run = json.loads(_ok(rp(stack, "route", "winrate", "--profile", pid, "--shrink", "8", "--json")).stdout)
    rid = run["id"]
    assert run["params"]["router"] == "winrate" and run["params"]["shrink"] == 8.0 and run["parents"] == [pid]
    assert run["metrics"]["avg_performance"] == 1.0  # the tiny data: every task has one winner, known by task
    assert run["metrics"]["train"]["tasks"] == 3
    bad = rp(stack, "route", "winrate", "--profile", pid, "--shrink", "-1")  # the option's min=0, a usage error
    assert bad.returncode == 2 and "--shrink" in bad.stderr and not bad.stdout
    # a sweep naming it: the same id as the command (reused); another shrink built by a sweep worker process
    sweep = stack["root"] / "winrate.yaml"
    sweep.write_text(textwrap.dedent("""\
        modes: [standard]
        profiles:
          - method: index
        routers:
          - router: winrate
            shrink: [8, 0]
        """))
    rows = json.loads(_ok(rp(stack, "sweep", str(sweep), "--json")).stdout)
    cells = {x["params"].get("shrink"): x for x in rows if x["kind"] == "run"}
    assert cells[8.0]["id"] == rid and cells[8.0]["status"] == "reused"
    assert cells[0.0]["status"] == "built" and cells[0.0]["id"] != rid
    # compare and report show its rows; rp route query and the Python API (docs/api.md) route with it: run_router
    # builds the same recipe (shrink=8, an int, is --shrink 8), load_run routes as the command does
    api_script = textwrap.dedent("""\
        import json, sys
        import rpcli
        ws = rpcli.open_workspace(sys.argv[1], data=sys.argv[2], encoder="hash:32")
        run = rpcli.run_router(ws, "winrate", profile=sys.argv[3], shrink=8)
        router = rpcli.load_run(ws, run["id"])
        d = router.decide([sys.argv[4]])[0]
        print(json.dumps({"id": run["id"], "model": router.route(sys.argv[4]), "ranking": d.ranking}))
        """)
    compare, report, query, explain, api = _concurrently(
        stack, _argv(stack, "compare", "--json"), _argv(stack, "report"),
        _argv(stack, "route", "query", TEXT, "--run", rid, "--json"),
        _argv(stack, "route", "query", TEXT, "--run", rid, "--explain"),
        [sys.executable, "-c", api_script, str(stack["ws"]), str(stack["data"]), pid, TEXT])
    board = json.loads(_ok(compare).stdout)
    runs = {r["id"]: r for r in board if r["kind"] == "run"}
    assert set(runs) == {rid, cells[0.0]["id"]} and {r["router"] for r in runs.values()} == {"winrate"}
    assert runs[rid]["avg_performance"] == 1.0 and runs[rid]["profile"] == pid
    assert rid in _ok(report).stdout and "winrate" in report.stdout and "shrink=8.0" in report.stdout
    q = json.loads(_ok(query).stdout)
    assert q["run"] == rid and q["model"] in ("m1", "m2", "m3") and q["model"] == q["ranking"][0]
    assert f"(run {rid}, winrate router, seed 0)" in _ok(explain).stdout
    got = json.loads(_ok(api).stdout)
    assert got == {"id": rid, "model": q["model"], "ranking": q["ranking"]}
    stack["run"], stack["query"] = rid, q


def test_rp_serve_routes_with_the_example(stack):
    """`rp serve --run RUN` in its own process, in front of three fake upstreams (tests/test_serve.py's)."""
    for mod in ("uvicorn", "starlette", "openai"):
        pytest.importorskip(mod)
    from test_serve import Upstream

    if "run" not in stack:
        pytest.skip("needs the run of test_the_example_router_on_every_surface")
    ups = {m: Upstream(m) for m in ("m1", "m2", "m3")}
    eps = stack["root"] / "endpoints.yaml"
    eps.write_text("models:\n" + "".join(f"  {m}:\n    base_url: {u.url}\n    model: served-{m}\n"
                                         for m, u in ups.items()))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-c", _RP, "-d", str(stack["data"]), "--encoder", "hash:32", "serve", "--run",
           stack["run"], "--endpoints", str(eps), "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=stack["root"],
                            env=_env(stack, stack["site"]))
    url = f"http://127.0.0.1:{port}"
    try:
        t0 = time.time()
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                with urllib.request.urlopen(url + "/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.time() - t0 < 60, "rp serve did not start"
            time.sleep(0.1)
        body = json.dumps({"model": "rp", "messages": [{"role": "user", "content": TEXT}]}).encode()
        req = urllib.request.Request(url + "/v1/chat/completions", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            chosen, answer = r.headers["x-rp-model"], json.loads(r.read())
        assert r.headers["x-rp-run"] == stack["run"]
        assert chosen == stack["query"]["model"]
        assert answer["choices"][0]["message"]["content"] == f"answer from served-{chosen}"
        assert [len(u.seen) for m, u in sorted(ups.items())] == [int(m == chosen) for m in sorted(ups)]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        for u in ups.values():
            u.close()


def test_a_broken_plugin_is_reported_and_breaks_nothing_else(stack):
    paths = [stack["broken"], stack["site"]]  # first on the path: its `sim` is seen before rp's own
    doc = json.loads(_ok(rp(stack, "plugins", "--json", paths=paths)).stdout)
    probs = {p["name"]: p for p in doc["problems"]}
    assert set(probs) == {"broken", "notarouter", "sim", "odd"}
    assert all(p["kind"] == "router" and p["source"] == "rp-broken-plugin 0.1.0" for p in probs.values())
    assert probs["broken"]["target"] == "rp_broken_plugin.boom:ROUTER"
    assert probs["broken"]["error"] == "RuntimeError: this plugin is broken on purpose"
    assert "is not a rpcli.core.plugin.Router" in probs["notarouter"]["error"]
    assert "the name is taken by rpcli.core.plugins.routers.sim:ROUTER" in probs["sim"]["error"]
    assert probs["odd"]["error"] == "ConfigError: option 'norm': its default 'l1' is not one of its choices " \
        "('sym', 'rw')"
    routers = {x["name"]: x for x in doc["routers"]}
    assert routers["sim"]["source"].startswith("rpcli ") and "winrate" in routers  # the built-in keeps its name
    plain = _ok(rp(stack, "plugins", paths=paths)).stdout
    assert "failed to load" in plain and "broken on purpose" in plain and "rp-broken-plugin 0.1.0" in plain
    # every other command works
    assert json.loads(_ok(rp(stack, "ls", "profiles", "--json", paths=paths)).stdout)[0]["id"] == stack["profile"]
    sim = json.loads(_ok(rp(stack, "route", "sim", "--profile", stack["profile"], "--json", paths=paths)).stdout)
    assert sim["params"]["router"] == "sim"
    # a command or a sweep naming a broken plugin fails with the registry's message, naming it
    for args in (["route", "broken", "--profile", stack["profile"], "--shrink", "2"], ["route", "notarouter"],
                 ["route", "odd", "--help"]):
        r = rp(stack, *args, paths=paths)
        assert r.returncode == 1 and not r.stdout, r.stderr
        flat = " ".join(r.stderr.replace("│", " ").split())
        assert f"the router plugin '{args[1]}'" in flat and "from rp-broken-plugin 0.1.0" in flat
        assert "cannot be loaded" in flat and "rp plugins" in flat and "Traceback" not in r.stderr
    sweep = stack["root"] / "broken.yaml"
    sweep.write_text("profiles:\n  - method: index\nrouters:\n  - router: sim\n  - router: broken\n")
    r = rp(stack, "sweep", str(sweep), "--dry-run", paths=paths)
    flat = " ".join(r.stderr.replace("│", " ").split())
    assert r.returncode == 1 and "broken.yaml:5: routers[1].router: the router plugin 'broken'" in flat, r.stderr
    assert "broken on purpose" in flat


_HELP = ("import sys\nsys.argv[0] = 'rp'\nfrom rpcli.cli.entry import main\n"
         "try:\n    main()\nexcept SystemExit:\n    pass\n"
         "print(f'<<{\"typer\" in sys.modules}|{\"torch\" in sys.modules}>>', file=sys.stderr)\n")


def test_help_with_the_plugin_installed(stack, tmp_path):
    """The root help lists command groups only, so an installed plugin cannot leave it stale: the text cached
    before the install is the text rendered live after it. Rendered live, it imports the plugin but no torch."""

    def root_help(paths, **extra):
        env = _env(stack, *paths, XDG_CACHE_HOME=str(tmp_path / "cache"), **extra)
        return subprocess.run([sys.executable, "-c", _HELP, "--help"], capture_output=True, text=True,
                              cwd=stack["root"], env=env, timeout=60)

    before = root_help([])  # rendered and cached without the plugin
    cached = root_help([stack["site"]])
    live = root_help([stack["site"]], RP_NO_HELP_CACHE="1")
    assert "<<True|False>>" in before.stderr and "<<False|False>>" in cached.stderr
    assert "<<True|False>>" in live.stderr  # no torch, though the plugin's module was imported
    assert before.stdout == cached.stdout == live.stdout and "plugins" in live.stdout
    sub = _ok(rp(stack, "route", "--help")).stdout
    assert "winrate" in sub and "Per-task win rates" in sub

    def route_help(paths):  # a subcommand's help is cached too, but its key follows the installed plugins
        env = _env(stack, *paths, XDG_CACHE_HOME=str(tmp_path / "cache"))
        return subprocess.run([sys.executable, "-c", _HELP, "route", "--help"], capture_output=True, text=True,
                              cwd=stack["root"], env=env, timeout=60)

    without = route_help([])
    assert "winrate" not in without.stdout
    assert "winrate" in route_help([stack["site"]]).stdout  # never the text cached before the install
    assert route_help([]).stdout == without.stdout and "<<False|False>>" in route_help([]).stderr


def test_a_root_help_rendering_that_crashes_is_not_cached(tmp_path, monkeypatch):
    """Were building the commands to raise (a plugin rp could not turn into one), the partial text must not become
    the cached `rp --help`."""
    import rpcli.cli.main
    from rpcli.cli import entry

    def crash():
        sys.stdout.write("Usage: rp [OPTIONS]")
        raise RuntimeError("a command could not be built")

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("RP_NO_HELP_CACHE", raising=False)
    monkeypatch.setattr(sys, "argv", ["rp", "--help"])
    monkeypatch.setattr(rpcli.cli.main, "main", crash)
    with pytest.raises(RuntimeError):
        entry.main()
    assert entry.help_cache_file(["--help"]) is not None and not list(tmp_path.rglob("help-*.txt"))
