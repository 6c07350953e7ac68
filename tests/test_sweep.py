"""rp sweep (issue 12): validation with file:line:key, expansion, ids equal to the single commands', dependency
order, reuse, resume after a killed worker, --dry-run / --json shapes."""

from __future__ import annotations

import inspect
import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpcli.cli.main import app

runner = CliRunner()

# Fast settings for the tiny data: a trained router / profile in well under a second.
TINY = textwrap.dedent("""\
    name: tiny
    modes: [standard]
    graph: task
    profiles:
      - method: index
      - method: emb-gnn
        K: [1, 2]
      - method: trainable
        epochs: 2
        hidden: 16
        heads: 2
    routers:
      - router: sim
      - router: mlp
        epochs: 2
        hidden: 16
        out: 8
        seeds: [0, 1]
        profiles: [emb-gnn]
    """)


def rp(tiny, *args, ws=None):
    base = ["-d", str(tiny), "--encoder", "hash:32"]
    if ws is not None:
        base = ["-w", str(ws), *base]
    return runner.invoke(app, [*base, *args])


def squash(text: str) -> str:
    """The error panel's text without its frame and line wrapping (a long path may wrap anywhere)."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│╭╮╰╯─")


def write(tmp_path, text: str, name: str = "grid.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ----------------------------------------------------------------------------------------------------------------
# validation and expansion (no build)
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, line, key, words", [
    ("profiles:\n  - method: index\nmodez: [standard]\n", 3, "modez", "unknown key"),
    ("profiles:\n  - method: index\n  - method: emb-gnm\n    K: 2\n", 3, "profiles[1].method", "unknown profile method"),
    ("profiles:\n  - method: emb-gnn\n    K: 2\n    hops: 3\n", 4, "profiles[0].hops", "unknown option"),
    ("profiles:\n  - method: emb-gnn\n    K: two\n", 3, "profiles[0].K", "expected an integer"),
    ("profiles:\n  - method: emb-gnn\n    K: [1, 2.5]\n", 3, "profiles[0].K[1]", "expected an integer"),
    ("profiles:\n  - method: index\nrouters:\n  - router: mlp\n    epochs: 2\n    dropout: high\n", 6,
     "routers[0].dropout", "expected a number"),
    ("profiles:\n  - method: index\nrouters:\n  - router: svm\n", 4, "routers[0].router", "unknown router"),
    ("profiles:\n  - method: emb-gnn\n    graph: [task, tsak]\n", 3, "profiles[0].graph[1]", "unknown value"),
    ("modes: [standard, oldllm]\nprofiles:\n  - method: index\n", 1, "modes[1]", "unknown value"),
    ("profiles:\n  - method: index\n    graph: task\n", 3, "profiles[0].graph", "uses no graph"),
    ("profiles:\n  - method: flat\n    context: nearest\n", 3, "profiles[0].context", "unknown value"),
    ("profiles:\n  - method: index\n  - method: index\n    seed: 1\n    seed: 2\n", 5, "profiles[1].seed",
     "duplicate key"),
    ("profiles:\n  - method: index\nrouters:\n  - router: sim\n    profiles: [embgnn]\n", 5,
     "routers[0].profiles[0]", "no profile entry"),
    ("profiles:\n  - method: index\nrouters:\n  - router: sim\n    seeds: [0, 1]\n", 5, "routers[0].seeds",
     "unknown option"),
])
def test_bad_sweep_files_fail_before_building(tiny_data, tmp_path, text, line, key, words):
    f = write(tmp_path, text)
    ws = tmp_path / "ws-bad"
    r = rp(tiny_data, "sweep", str(f), ws=ws)
    assert r.exit_code == 1, r.output
    msg = squash(r.stderr)
    assert squash(f"{f}:{line}: {key}:") in msg, r.stderr
    assert squash(words) in msg
    assert "Traceback" not in r.output
    assert not ws.exists(), "nothing may be built or created for a bad sweep file"


def test_not_yaml_names_the_line(tiny_data, tmp_path):
    f = write(tmp_path, "profiles:\n  - method: index\n   bad: [\n")
    r = rp(tiny_data, "sweep", str(f), ws=tmp_path / "w")
    assert r.exit_code == 1 and squash("not valid YAML") in squash(r.stderr)
    assert squash(f"{f}:3:") in squash(r.stderr)


def test_expansion_axes_dedup_and_order(tmp_path):
    from rpcli.core.sweep.expand import expand, summary
    from rpcli.core.sweep.spec import parse_sweep
    from rpcli.services.sweep.cells import option_catalog

    cat = option_catalog()
    text = TINY.replace("modes: [standard]", "modes: [standard, newllm]") + (
        "  - router: graph\n    epochs: 1\n    seeds: [[0], [1]]\n    profiles: [trainable]\n")
    text = text.replace("  - method: index\n", "  - method: index\n  - method: emb-gnn\n    K: 1\n", 1)
    spec = parse_sweep(text, "grid.yaml", cat)
    cells = expand(spec, cat)
    # per mode: 1 graph (task, shared); profiles: index, emb-gnn K=1 (named twice: one cell), K=2, trainable;
    # runs: sim x4, mlp x2 (emb-gnn), graph x2 (seed axis on trainable)
    assert summary(cells) == {"graph": 2, "profile": 8, "run": 16}
    pos = {id(c): i for i, c in enumerate(cells)}
    for c in cells:
        if c.parent is not None:
            assert pos[id(c.parent)] < pos[id(c)], "a parent comes before its children"
    emb = [c for c in cells if c.kind == "profile" and c.what == "emb-gnn" and c.mode == "standard"]
    assert sorted(c.options["K"] for c in emb) == [1, 2]
    assert all(c.options["norm"] == "sym" for c in emb), "defaults are filled in"
    graph_runs = [c for c in cells if c.kind == "run" and c.what == "graph"]
    assert sorted(tuple(c.options["seeds"]) for c in graph_runs) == [(0,), (0,), (1,), (1,)]
    mlp = [c for c in cells if c.what == "mlp"]
    assert all(c.options["seeds"] == [0, 1] for c in mlp) and {c.parent.what for c in mlp} == {"emb-gnn"}


def test_catalog_matches_the_single_commands():
    """The sweep accepts exactly the options of `rp profile METHOD` / `rp route ROUTER`, with their defaults."""
    from rpcli.cli import profile as P
    from rpcli.cli import route as R
    from rpcli.services.sweep.cells import option_catalog

    cat = option_catalog()
    skip = {"ctx", "mode", "graph", "force", "as_json", "profile"}
    from rpcli.core.registry import profile_methods

    assert set(cat.methods) == set(profile_methods())
    for method, plugin in profile_methods().items():
        fn = P._method_command(plugin)
        params = {n.removeprefix("o_"): p.default for n, p in inspect.signature(fn).parameters.items()
                  if n not in skip}
        hidden = {o.name for o in plugin.options() if not o.cli}  # in the recipe, fixed by the method
        assert set(params) | hidden == set(cat.methods[method]), method
        assert cat.needs_graph[method] == ("keep" in params) == (plugin.default_graph is not None), method
        for n, d in params.items():
            d = getattr(d, "value", d)
            d = None if isinstance(d, Path) else d
            assert cat.methods[method][n].default == d, (method, n)
    from rpcli.core.registry import routers

    for router, plugin in routers().items():
        fn = R._router_command(plugin)
        params = {n.removeprefix("o_"): p.default for n, p in inspect.signature(fn).parameters.items()
                  if n not in skip}
        hidden = {o.name for o in plugin.options() if not o.cli}  # in the recipe, fixed by the router
        assert set(params) | hidden == set(cat.routers[router]), router
        for n, d in params.items():
            d = getattr(d, "value", d)
            want = cat.routers[router][n].default
            if n == "seeds":
                assert R.parse_seeds(d) == want
            else:
                assert want == d, (router, n)


# ----------------------------------------------------------------------------------------------------------------
# building
# ----------------------------------------------------------------------------------------------------------------


def test_sweep_cells_get_the_ids_of_the_single_commands(tiny_data, tmp_path):
    ws = tmp_path / "ws-ids"
    g = rp(tiny_data, "graph", "build", "task", ws=ws).stdout.strip()
    gq = rp(tiny_data, "graph", "build", "query-task-domain", ws=ws).stdout.strip()
    ids = {
        "index": rp(tiny_data, "profile", "index", ws=ws).stdout.strip(),
        "emb": rp(tiny_data, "profile", "emb-gnn", "--graph", g, "--K", "1", ws=ws).stdout.strip(),
        "flat": rp(tiny_data, "profile", "flat", "--graph", gq, "--context", "neighbours", ws=ws).stdout.strip(),
        "tr": rp(tiny_data, "profile", "trainable", "--graph", g, "--epochs", "2", "--hidden", "16", "--heads", "2",
                 ws=ws).stdout.strip(),
        "text": rp(tiny_data, "profile", "text-gnn", "--graph", gq, "--K", "1", "--backend", "extractive",
                   ws=ws).stdout.strip(),
    }
    ids["sim"] = rp(tiny_data, "route", "sim", "--profile", ids["text"], ws=ws).stdout.strip()
    ids["mlp"] = rp(tiny_data, "route", "mlp", "--profile", ids["emb"], "--epochs", "2", "--seeds", "0,1",
                    ws=ws).stdout.strip()
    ids["graph"] = rp(tiny_data, "route", "graph", "--profile", ids["tr"], "--epochs", "1", "--query-text", "raw",
                      ws=ws).stdout.strip()
    assert all(v.split("-")[0] in ("profile", "run") for v in ids.values()), ids
    f = write(tmp_path, textwrap.dedent("""\
        profiles:
          - method: index
          - method: emb-gnn
            graph: task
            K: 1
          - method: flat
            graph: query-task-domain
            context: neighbours
          - method: trainable
            graph: task
            epochs: 2
            hidden: 16
            heads: 2
          - method: text-gnn
            graph: query-task-domain
            K: 1
        routers:
          - router: sim
            profiles: [text-gnn]
          - router: mlp
            epochs: 2
            seeds: [0, 1]
            profiles: [emb-gnn]
          - router: graph
            epochs: 1
            query_text: raw
            profiles: [trainable]
        """))
    r = rp(tiny_data, "sweep", str(f), "--json", ws=ws)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert {x["status"] for x in rows} == {"reused"}, [(x["label"], x["status"]) for x in rows]
    assert {x["id"] for x in rows} == set(ids.values()) | {g, gq}


class _Recorder:
    def __init__(self):
        self.events = []

    def start(self, states):
        pass

    def cell_started(self, st):
        self.events.append(("start", st))

    def cell_note(self, st, message):
        pass

    def cell_finished(self, st):
        self.events.append(("end", st))

    def message(self, text):
        pass


@pytest.fixture(scope="module")
def tiny_sweep(tmp_path_factory):
    """The TINY grid built once for the module (jobs 2), with the order in which cells started and finished."""
    from tiny import write_tiny

    from rpcli.services.base import Session
    from rpcli.services.sweep.driver import SweepRunner, load
    from rpcli.workspace.layout import Workspace

    base = tmp_path_factory.mktemp("tiny-sweep")
    data = write_tiny(base / "tiny")
    f = base / "tiny.yaml"
    f.write_text(TINY)
    ws = Workspace(base / "ws")
    spec, cells = load(f)
    rec = _Recorder()
    out = SweepRunner(Session(workspace=ws, data_root=data, encoder_spec="hash:32"), spec, cells, jobs=2,
                      events=rec).run()
    return {"data": data, "file": f, "ws": ws, "out": out, "events": rec.events, "n": len(cells)}


def test_dependency_order_reuse_and_record(tiny_sweep):
    from rpcli.services.base import Session
    from rpcli.services.sweep.driver import SweepRunner, load
    from rpcli.workspace.manifest import load_manifest

    ws, out = tiny_sweep["ws"], tiny_sweep["out"]
    assert out.failed == 0 and out.counts() == {"built": tiny_sweep["n"]}
    finished = []
    for what, st in tiny_sweep["events"]:
        if what == "start" and st.parent is not None:
            assert st.parent in finished, f"{st.cell.label()} started before its parent was registered"
        if what == "end":
            finished.append(st)
    entries = load_manifest(ws)["entries"]
    assert {st.id for st in out.states} == set(entries)
    assert not (ws.root / "tmp").exists(), "no staging directory is left behind"
    doc = json.loads((ws.root / "sweeps" / "tiny.json").read_text())
    assert {"name", "file", "yaml_sha256", "started", "finished", "wall_s", "commit", "jobs", "executor", "data",
            "artifacts"} <= set(doc)
    assert doc["finished"] is not None and doc["jobs"] == 2 and doc["executor"] == "local"
    assert set(doc["data"]) >= {"root", "hash"}
    assert [a["id"] for a in doc["artifacts"]] == [st.id for st in out.states]
    assert all({"id", "kind", "status", "wall_s", "params"} <= set(a) for a in doc["artifacts"])
    # a second run does no work: everything reused, no worker started, the manifest unchanged
    before = ws.manifest_path.read_text()
    spec, cells = load(tiny_sweep["file"])
    again = SweepRunner(Session(workspace=ws, data_root=tiny_sweep["data"], encoder_spec="hash:32"), spec, cells,
                        jobs=2)
    out2 = again.run()
    assert out2.counts() == {"reused": len(cells)}
    assert [st.id for st in out2.states] == [st.id for st in out.states]
    assert ws.manifest_path.read_text() == before
    doc2 = json.loads((ws.root / "sweeps" / "tiny.json").read_text())
    assert [h["counts"] for h in doc2["history"]] == [{"built": len(cells)}], "the cold run stays on record"
    assert doc2["history"][0]["wall_s"] == doc["wall_s"]
    assert all(a["status"] == "reused" and a["duration_s"] is not None for a in doc2["artifacts"])


def test_dry_run_and_json_shapes(tiny_sweep, tmp_path):
    import shutil

    data = tiny_sweep["data"]
    ws = tmp_path / "ws-dry"
    f = write(tmp_path, TINY)
    r = rp(data, "sweep", str(f), "--dry-run", "--json", ws=ws)
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert not ws.exists(), "--dry-run writes nothing"
    assert {x["status"] for x in rows} == {"to-build"}
    for x in rows:
        assert {"id", "kind", "status", "params", "estimate_s"} <= set(x)
        assert x["kind"] in ("graph", "profile", "run")
        # ids are known where nothing unbuilt is upstream: graphs and graph-free profiles
        known = x["kind"] == "graph" or (x["kind"] == "profile" and x["params"]["method"] == "index")
        assert (x["id"] is not None) == known, x
    shutil.copytree(tiny_sweep["ws"].root, ws)
    built = rp(data, "sweep", str(f), "--json", ws=ws)
    assert built.exit_code == 0, built.output
    brows = json.loads(built.stdout)
    assert {x["status"] for x in brows} == {"reused"} and all(x["id"] for x in brows)
    assert [x["id"] for x in brows if x["id"] in {y["id"] for y in rows}] == [x["id"] for x in rows if x["id"]]
    # one more K: the new cells are to-build with an estimate from the recorded emb-gnn, sim and mlp durations
    f2 = write(tmp_path, TINY.replace("K: [1, 2]", "K: [1, 2, 3]"), "grid2.yaml")
    d = rp(data, "sweep", str(f2), "--dry-run", "--json", ws=ws)
    drows = json.loads(d.stdout)
    todo = [x for x in drows if x["status"] == "to-build"]
    assert {(x["kind"], x["params"].get("method") or x["params"].get("router")) for x in todo} == \
        {("profile", "emb-gnn"), ("run", "sim"), ("run", "mlp")}
    assert all(x["estimate_s"] is not None for x in todo)
    assert sum(x["status"] == "reused" for x in drows) == len(brows)
    plain = rp(data, "sweep", str(f2), "--dry-run", ws=ws)
    assert plain.exit_code == 0 and "to-build" in plain.stdout and "estimated build time" in plain.stderr


PLUGIN = '''
import os
from rpcli.core.plugin import Capabilities, Router
from rpcli.core.registry import register_router, router, routers


class Crashy(Router):
    name = "crashy"
    caps = Capabilities(training=False)

    def run(self, ctx, opts, seed):
        if os.path.exists(os.environ["RP_TEST_CRASH_MARKER"]):
            os._exit(7)  # the worker dies mid-build, as if killed
        return router("sim").run(ctx, opts, seed)


if "crashy" not in routers():
    register_router(Crashy())
'''


def test_resume_after_a_worker_is_killed(tiny_data, tmp_path, monkeypatch):
    from rpcli.core.registry import unregister
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import load_manifest

    (tmp_path / "plug").mkdir()
    (tmp_path / "plug" / "rp_crashy_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path / "plug"))
    marker = tmp_path / "crash-now"
    marker.write_text("1")
    monkeypatch.setenv("RP_TEST_CRASH_MARKER", str(marker))
    f = write(tmp_path, textwrap.dedent("""\
        plugins: [rp_crashy_plugin]
        profiles:
          - method: index
          - method: emb-gnn
            graph: task
            K: 1
        routers:
          - router: sim
          - router: crashy
            profiles: [emb-gnn]
        """))
    ws = tmp_path / "ws-kill"
    try:
        r = rp(tiny_data, "sweep", str(f), "--json", ws=ws)
        assert r.exit_code == 1, r.output
        rows = {x["label"]: x for x in json.loads(r.stdout)}
        crash = next(x for k, x in rows.items() if k.startswith("crashy"))
        assert crash["status"] == "failed" and "worker process died" in crash["error"]
        entries = load_manifest(Workspace(ws))["entries"]
        assert crash["id"] not in entries, "nothing half-built is registered"
        assert not (ws / "runs" / crash["id"]).exists()
        assert not (ws / "tmp").exists() or not any((ws / "tmp").iterdir()), "staging of the dead worker removed"
        done_before = {x["id"] for x in rows.values() if x["status"] == "built"}
        assert done_before and done_before <= set(entries)
        record = json.loads((ws / "sweeps" / "grid.json").read_text())
        assert {a["status"] for a in record["artifacts"]} >= {"built", "failed"}
        marker.unlink()
        again = rp(tiny_data, "sweep", str(f), "--json", ws=ws)
        assert again.exit_code == 0, again.output
        rows2 = {x["id"]: x["status"] for x in json.loads(again.stdout)}
        assert rows2[crash["id"]] == "built"
        assert all(rows2[i] == "reused" for i in done_before)
    finally:
        unregister("router", "crashy")


@pytest.mark.slow
def test_ray_executor_matches_local(tiny_sweep, tmp_path, monkeypatch):
    """A local Ray instance builds the same ids and metrics as the local process pool, with the files travelling
    as tar bytes as on a cluster without a shared disk (RP_RAY_SHIP_FILES=1 forces that path here)."""
    pytest.importorskip("ray")  # the test command installs the `ray` extra (scripts/setup.sh), so CI runs this
    from rpcli.workspace.layout import Workspace
    from rpcli.workspace.manifest import load_manifest

    monkeypatch.setenv("RP_RAY_SHIP_FILES", "1")
    data = tiny_sweep["data"]
    # a part of the TINY grid (every kind of cell, a trained router included), to keep the test short
    sub = TINY.replace("K: [1, 2]", "K: 1").replace("  - method: trainable\n    epochs: 2\n    hidden: 16\n"
                                                       "    heads: 2\n", "")
    assert sub.count("method:") == 2
    f = write(tmp_path, sub, "tiny.yaml")
    viaray = rp(data, "sweep", str(f), "--json", "--executor", "ray", "--jobs", "2", ws=tmp_path / "ws-ray")
    assert viaray.exit_code == 0, viaray.output
    b = json.loads(viaray.stdout)
    assert len(b) == 6 and {x["status"] for x in b} == {"built"}
    assert {x["id"] for x in b} <= {st.id for st in tiny_sweep["out"].states}
    ea = load_manifest(tiny_sweep["ws"])["entries"]
    eb = load_manifest(Workspace(tmp_path / "ws-ray"))["entries"]

    def hashes(entry, suffix):
        return {o["path"]: o["sha256"] for o in entry["outputs"] if o["path"].endswith(suffix)}

    for i, e in ((i, e) for i, e in ea.items() if i in eb):
        if e["kind"] == "profile":
            assert hashes(eb[i], "profile.npz") == hashes(e, "profile.npz"), i
        if e["kind"] == "graph":
            assert hashes(eb[i], "") == hashes(e, ""), i
        if e["kind"] == "run":
            assert eb[i]["metrics"]["avg_performance"] == e["metrics"]["avg_performance"], i
    rec = json.loads((tmp_path / "ws-ray" / "sweeps" / "tiny.json").read_text())
    assert rec["executor"] == "ray" and rec["data"]["root"] == str(data.resolve())
    assert not (tmp_path / "ws-ray" / "tmp").exists()


def test_estimate_uses_similar_recorded_artifacts():
    from rpcli.core.sweep.estimate import estimate_seconds
    from rpcli.core.sweep.expand import expand
    from rpcli.core.sweep.spec import parse_sweep
    from rpcli.services.sweep.cells import option_catalog

    cat = option_catalog()
    spec = parse_sweep("graph: task\nprofiles:\n  - method: text-gnn\n    K: [2, 4]\nrouters:\n  - router: mlp\n"
                       "    seeds: [0, 1, 2]\n", "e.yaml", cat)
    cells = expand(spec, cat)
    g = {"id": "graph-1", "kind": "graph", "status": "done", "duration_s": 7.0,
         "params": {"kind": "task", "mode": "standard"}}
    entries = {"graph-1": g,
               "profile-1": {"id": "profile-1", "kind": "profile", "status": "done", "duration_s": 10.0,
                             "parents": ["graph-1"], "params": {"method": "text-gnn", "mode": "standard", "K": 1}},
               "run-1": {"id": "run-1", "kind": "run", "status": "done", "duration_s": 8.0, "parents": ["profile-1"],
                         "params": {"router": "mlp", "mode": "standard", "seeds": [0, 1]}}}
    by = {(c.kind, c.options.get("K") if c.kind == "profile" else (c.parent.options.get("K") if c.parent else None)):
          c for c in cells}
    assert estimate_seconds(by[("graph", None)], entries) == (7.0, 1)
    assert estimate_seconds(by[("profile", 4)], entries) == (40.0, 1)  # K=4 scales the K=1 duration by 4
    assert estimate_seconds(by[("run", 2)], entries) == (12.0, 1)  # 4 s per seed, 3 seeds
    assert estimate_seconds(by[("graph", None)], {}) == (None, 0)


def test_graph_options_give_the_id_of_graph_build(tiny_data, tmp_path):
    ws = tmp_path / "ws-gopt"
    g = rp(tiny_data, "graph", "build", "query-task-domain", "--mode", "newllm", "--max-queries-per-task", "2",
           ws=ws).stdout.strip()
    f = write(tmp_path, "modes: newllm\ngraph: query-task-domain\ngraph_options:\n  max_queries_per_task: [2, 3]\n"
                        "profiles:\n  - method: emb-gnn\n")
    r = rp(tiny_data, "sweep", str(f), "--dry-run", "--json", ws=ws)
    assert r.exit_code == 0, r.output
    graphs = [x for x in json.loads(r.stdout) if x["kind"] == "graph"]
    assert [(x["params"]["max_queries_per_task"], x["status"]) for x in graphs] == [(2, "reused"), (3, "to-build")]
    assert graphs[0]["id"] == g and graphs[1]["id"] not in (None, g)
