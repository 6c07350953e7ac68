"""The five graphs x two modes on the tiny dataset, with every count, edge and score written out by hand from
tests/tiny.py; query nodes; determinism; storage; import; error paths; the CLI; and the released data.

Tiny indices used below (node order = the builder's order, spec §3.1):
  architecture: 0 FamA (first seen on m1), 1 FamB (m2)
  model:        0 m1, 1 m2, 2 m3, 3 aux1 (JSON order)
  dataset:      0 t_math, 1 t_code, 2 t_qa, 3 lb (first appearance: all four come from m1)
  domain:       0 d_reason (t_math, t_code), 1 d_know (t_qa, lb; "Ghost" dangles)
  query:        the 9 training queries minus "what is 2 plus 2" (a test query), by task then list order:
                0-1 t_math, 2-4 t_code, 5-7 t_qa
Every edge list is sorted by (src, dst).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from rpcli.cli.main import app
from rpcli.core.graph.spec import GRAPH_SPECS
from rpcli.errors import ConfigError, DataFileError, RpError
from rpcli.services.base import Session
from rpcli.services.artifacts.graphs import build_graph_entry, import_graph_entry, load_graph_entry
from rpcli.workspace.layout import Workspace

import tiny

KINDS = list(GRAPH_SPECS)
MODES = ("standard", "newllm")
runner = CliRunner()

ARCH = ("architecture", "arch_to_model", "model")
ARCH_R = ("model", "model_to_arch", "architecture")
SCORE = ("model", "model_to_dataset", "dataset")
SCORE_R = ("dataset", "dataset_to_model", "model")
DOM = ("domain", "domain_to_dataset", "dataset")
DOM_R = ("dataset", "dataset_to_domain", "domain")
QT = ("query", "query_to_dataset", "dataset")
QT_R = ("dataset", "dataset_to_query", "query")
QM = ("query", "query_to_model", "model")
QM_R = ("model", "model_to_query", "query")

# ---- hand-computed expectations (edge_index rows as [src], [dst]; scores in the same sorted order) ----
EDGES = {
    "standard": {
        ARCH: ([0, 0, 1, 1], [0, 2, 1, 3]),
        ARCH_R: ([0, 1, 2, 3], [0, 1, 0, 1]),
        # m1: t_math 80, t_code 20, t_qa 50, lb 60 | m2: 30, 90, -, 40 | m3: 50, 50, 70, - | aux1: lb 70
        SCORE: ([0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 3], [0, 1, 2, 3, 0, 1, 3, 0, 1, 2, 3]),
        SCORE_R: ([0, 0, 0, 1, 1, 1, 2, 2, 3, 3, 3], [0, 1, 2, 0, 1, 2, 0, 2, 0, 1, 3]),
        DOM: ([0, 0, 1, 1], [0, 1, 2, 3]),
        DOM_R: ([0, 1, 2, 3], [0, 0, 1, 1]),
        QT: ([0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 1, 1, 1, 2, 2, 2]),
        QT_R: ([0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]),
        # math and code queries -> m1, m2, m3; qa queries -> m1, m3 (m2's t_qa is null)
        QM: ([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 7],
             [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 2, 0, 2, 0, 2]),
        QM_R: ([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2],
               [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 5, 6, 7]),
    },
    "newllm": {
        ARCH: ([0, 0, 1, 1], [0, 2, 1, 3]),
        ARCH_R: ([0, 1, 2, 3], [0, 1, 0, 1]),
        # m3 loses t_math and t_code; keeps t_qa
        SCORE: ([0, 0, 0, 0, 1, 1, 1, 2, 3], [0, 1, 2, 3, 0, 1, 3, 2, 3]),
        SCORE_R: ([0, 0, 1, 1, 2, 2, 3, 3, 3], [0, 1, 0, 1, 0, 2, 0, 1, 3]),
        DOM: ([0, 0, 1, 1], [0, 1, 2, 3]),
        DOM_R: ([0, 1, 2, 3], [0, 0, 1, 1]),
        QT: ([0, 1, 2, 3, 4, 5, 6, 7], [0, 0, 1, 1, 1, 2, 2, 2]),
        QT_R: ([0, 0, 1, 1, 1, 2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]),
        QM: ([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7],
             [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 2, 0, 2, 0, 2]),
        QM_R: ([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2],
               [0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7]),
    },
}
SCORES = {
    "standard": {SCORE: [80, 20, 50, 60, 30, 90, 40, 50, 50, 70, 70],
                 SCORE_R: [80, 30, 50, 20, 90, 50, 50, 70, 60, 40, 70]},
    "newllm": {SCORE: [80, 20, 50, 60, 30, 90, 40, 70, 70],
               SCORE_R: [80, 30, 20, 90, 50, 70, 60, 40, 70]},
}
NODE_COUNTS = {"architecture": 2, "model": 4, "dataset": 4, "domain": 2, "query": 8}
EDGE_TYPES = {
    "task": [ARCH, ARCH_R, SCORE, SCORE_R],
    "query": [ARCH, ARCH_R, QM, QM_R],
    "query-task": [ARCH, ARCH_R, SCORE, SCORE_R, QT, QT_R],
    "task-domain": [ARCH, ARCH_R, SCORE, SCORE_R, DOM, DOM_R],
    "query-task-domain": [ARCH, ARCH_R, SCORE, SCORE_R, DOM, DOM_R, QT, QT_R],
}
NODE_TYPES = {
    "task": ["architecture", "model", "dataset"],
    "query": ["architecture", "model", "query"],
    "query-task": ["architecture", "model", "dataset", "query"],
    "task-domain": ["architecture", "model", "dataset", "domain"],
    "query-task-domain": ["architecture", "model", "dataset", "domain", "query"],
}
QUERY_TEXTS = ["multiply 12 by 12", "divide 100 by 4 and add 3", "write a python function to sort a dict",
               "implement a stack class", "write a regex for emails", "who painted the mona lisa",
               "what is the largest ocean", "who discovered penicillin"]


def build(sess, kind, mode="standard", **kw):
    res = build_graph_entry(sess, kind, mode, **kw)
    entry, g = load_graph_entry(sess, res.entry["id"])
    return entry, g


def session_on(root, ws) -> Session:
    return Session(workspace=Workspace(Path(ws)), data_root=Path(root), encoder_spec="hash:32")


def snapshot(root: Path) -> dict:
    """Every file under a workspace with its sha256 (a missing workspace is the empty dict)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def pairs(g, et) -> set:
    src, dst = g.names[et[0]], g.names[et[2]]
    return {(src[a], dst[b]) for a, b in g.edge_index[et].t().tolist()}


# ---------------------------------------------------------------------------------------------- exact graphs


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_exact_nodes_edges_and_scores(sess, kind, mode):
    entry, g = build(sess, kind, mode)
    assert g.node_types == NODE_TYPES[kind]
    assert {nt: g.num_nodes(nt) for nt in g.node_types} == {nt: NODE_COUNTS[nt] for nt in NODE_TYPES[kind]}
    for nt in g.node_types:
        assert g.x[nt].dtype == torch.float32 and tuple(g.x[nt].shape) == (NODE_COUNTS[nt], 32)
    assert g.edge_types == EDGE_TYPES[kind]
    for et in g.edge_types:
        ei = g.edge_index[et]
        assert ei.dtype == torch.long and ei.shape[0] == 2
        assert (ei[0].tolist(), ei[1].tolist()) == EDGES[mode][et], et
    # Only model<->dataset carries an attribute: the raw score, [E, 1], in both directions.
    assert set(g.edge_attr) == ({SCORE, SCORE_R} & set(g.edge_types))
    for et, ea in g.edge_attr.items():
        assert ea.dtype == torch.float32 and tuple(ea.shape) == (len(SCORES[mode][et]), 1)
        assert ea[:, 0].tolist() == SCORES[mode][et]
    # The manifest summary agrees.
    info = entry["info"]
    assert info["nodes"] == {nt: NODE_COUNTS[nt] for nt in NODE_TYPES[kind]}
    assert info["node_types"] == NODE_TYPES[kind]
    assert info["edge_types"] == ["__".join(et) for et in EDGE_TYPES[kind]]
    assert {k: v["edges"] for k, v in info["edges"].items()} == {
        "__".join(et): len(EDGES[mode][et][0]) for et in EDGE_TYPES[kind]}
    assert info["dim"] == 32 and entry["encoder"]["id"] == "hash-32"


def test_tiny_counts_in_words(sess):
    """The docstring's facts: 11 (standard) / 9 (newllm) model->dataset edges; 4 domain->dataset edges."""
    assert build(sess, "task", "standard")[0]["info"]["edges"]["model__model_to_dataset__dataset"]["edges"] == 11
    assert build(sess, "task", "newllm")[0]["info"]["edges"]["model__model_to_dataset__dataset"]["edges"] == 9
    info = build(sess, "task-domain")[0]["info"]
    assert info["edges"]["domain__domain_to_dataset__dataset"]["edges"] == 4
    assert info["edges"]["dataset__dataset_to_model__model"]["src_degree"] == [2, 3]  # t_qa 2 .. t_math 3
    assert info["edges"]["model__model_to_dataset__dataset"]["src_degree"] == [1, 4]  # aux1 1 .. m1 4


@pytest.mark.parametrize("kind", KINDS)
def test_newllm_masks_exactly_the_held_out_scores(sess, kind):
    _, std = build(sess, kind, "standard")
    _, new = build(sess, kind, "newllm")
    # No node is removed or changed.
    for nt in std.node_types:
        assert std.names[nt] == new.names[nt] and std.texts[nt] == new.texts[nt]
        assert torch.equal(std.x[nt], new.x[nt])
    if "dataset" in std.node_types:
        assert pairs(std, SCORE) - pairs(new, SCORE) == {("m3", "t_math"), ("m3", "t_code")}
        assert pairs(new, SCORE) <= pairs(std, SCORE)
        assert {(b, a) for a, b in pairs(std, SCORE_R)} - {(b, a) for a, b in pairs(new, SCORE_R)} == {
            ("m3", "t_math"), ("m3", "t_code")}
    if kind == "query":
        # The dataset bridge: m3 loses exactly the math and code queries (0-4), nothing else.
        s = set(map(tuple, std.edge_index[QM].t().tolist()))
        n = set(map(tuple, new.edge_index[QM].t().tolist()))
        assert s - n == {(q, 2) for q in range(5)} and n <= s
    for et in std.edge_types:
        if et not in (SCORE, SCORE_R, QM, QM_R):
            assert torch.equal(std.edge_index[et], new.edge_index[et])


def test_node_text_sources(sess):
    _, g = build(sess, "query-task-domain")
    assert g.names["architecture"] == ["FamA", "FamB"]
    assert g.texts["architecture"] == [tiny.FAMILIES["FamA"], tiny.FAMILIES["FamB"]]  # descriptions, not names
    assert g.names["model"] == ["m1", "m2", "m3", "aux1"]
    assert g.texts["model"] == [tiny.model_record(m, "standard")["feature"] for m in g.names["model"]]
    assert g.names["dataset"] == ["t_math", "t_code", "t_qa", "lb"]
    assert g.texts["dataset"] == [tiny.TASKS[t] for t in g.names["dataset"]]
    assert g.names["domain"] == ["d_reason", "d_know"]
    assert g.texts["domain"] == [tiny.DOMAINS[d] for d in g.names["domain"]]
    assert g.names["query"] is None  # query nodes have no names, as in the original
    assert g.texts["query"] == QUERY_TEXTS
    # Features are the encoder's raw vectors of exactly these texts.
    for nt in g.node_types:
        assert torch.equal(g.x[nt], torch.from_numpy(sess.encoder.encode(g.texts[nt])))
    hd = g.to_heterodata()
    assert "node_names" not in hd["query"] and hd["query"].node_feature_text == QUERY_TEXTS
    assert hd["architecture"].node_names == ["FamA", "FamB"]


# -------------------------------------------------------------------------------------------- determinism


def _graph_hashes(ws: Path) -> dict:
    return {p.relative_to(ws / "graphs").as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ws / "graphs").rglob("*")) if p.is_file()}


def test_two_fresh_workspaces_give_identical_files(tiny_data, tmp_path):
    hashes = []
    for name in ("wa", "wb"):
        s = session_on(tiny_data, tmp_path / name)
        for kind in KINDS:
            for mode in MODES:
                build_graph_entry(s, kind, mode)
        hashes.append(_graph_hashes(tmp_path / name))
    assert len(hashes[0]) == 20 and hashes[0] == hashes[1]


def test_identical_across_processes_and_hash_seeds(tiny_data, tmp_path):
    script = ("import sys\nfrom pathlib import Path\nfrom rpcli.services.base import Session\n"
              "from rpcli.services.artifacts.graphs import build_graph_entry\nfrom rpcli.workspace.layout import Workspace\n"
              "s = Session(workspace=Workspace(Path(sys.argv[1])), data_root=Path(sys.argv[2]), encoder_spec='hash:32')\n"
              "for k in ('query', 'query-task-domain'):\n"
              "    for m in ('standard', 'newllm'):\n"
              "        build_graph_entry(s, k, m)\n")
    results = []
    for seed in ("1", "2"):
        ws = tmp_path / f"proc{seed}"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(ws), str(tiny_data)], check=True, env=env,
                       capture_output=True, timeout=300)
        results.append(_graph_hashes(ws))
    assert len(results[0]) == 8 and results[0] == results[1]
    # ... and the same as this process.
    s = session_on(tiny_data, tmp_path / "here")
    for k in ("query", "query-task-domain"):
        for m in MODES:
            build_graph_entry(s, k, m)
    assert _graph_hashes(tmp_path / "here") == results[0]


# --------------------------------------------------------------------------------------------- query nodes


def test_query_nodes_from_training_queries(sess):
    entry, g = build(sess, "query-task")
    q = entry["info"]["queries"]
    assert q["source"].startswith("route_data/default_query_train.jsonl") and "derived" in q["source"]
    assert q["total"] == 8 and q["per_task"] == {"t_math": 2, "t_code": 3, "t_qa": 3}
    assert q["task_order"] == ["t_math", "t_code", "t_qa"]
    assert q["dropped_test_overlap"] == 1 and q["dropped_duplicates"] == 0 and q["dropped_cap"] == 0
    test_queries = {qq for qs in tiny.TEST_QUERIES.values() for qq in qs}
    assert not set(g.texts["query"]) & test_queries
    assert len(set(g.texts["query"])) == len(g.texts["query"])
    assert g.meta["queries"] == q


def test_max_queries_per_task_caps(sess):
    full, _ = build(sess, "query-task")
    entry, g = build(sess, "query-task", max_queries_per_task=2)
    assert entry["id"] != full["id"] and entry["params"]["max_queries_per_task"] == 2
    q = entry["info"]["queries"]
    assert q["per_task"] == {"t_math": 2, "t_code": 2, "t_qa": 2} and q["dropped_cap"] == 2
    assert g.texts["query"] == [QUERY_TEXTS[i] for i in (0, 1, 2, 3, 5, 6)]
    assert g.edge_index[QT].tolist() == [[0, 1, 2, 3, 4, 5], [0, 0, 1, 1, 2, 2]]
    one, g1 = build(sess, "query", max_queries_per_task=1)
    assert g1.texts["query"] == [QUERY_TEXTS[i] for i in (0, 2, 5)]
    # The cap is not part of a graph without query nodes.
    assert "max_queries_per_task" not in build_graph_entry(sess, "task", "standard").entry["params"]
    with pytest.raises(ConfigError, match="at least 1"):
        build_graph_entry(sess, "query", "standard", max_queries_per_task=0)


def test_task_queries_file_is_used_when_present(make_tiny, tmp_path):
    def add(f):
        f["profile_data/task_queries_standard.json"] = {
            "t_code": ["q code 1", "q code 1", "what is 2 plus 2", "q code 2"],  # a duplicate and a test query
            "t_math": ["q math 1"],
            "Ghost": ["ghost q"],  # not a task at all
            "unused": ["u q"],  # described but never scored: not a dataset node
            "lb": ["q math 1", "lb q"],  # "q math 1" was already taken by t_math
        }

    s = session_on(make_tiny(add), tmp_path / "wq")
    entry, g = build(s, "query-task-domain", "standard")
    q = entry["info"]["queries"]
    assert q["source"] == "profile_data/task_queries_standard.json"
    assert g.texts["query"] == ["q code 1", "q code 2", "q math 1", "lb q"]  # task key order, then list order
    assert q["per_task"] == {"t_code": 2, "t_math": 1, "lb": 1}
    assert (q["dropped_test_overlap"], q["dropped_duplicates"], q["skipped_tasks"]) == (1, 2, ["Ghost", "unused"])
    assert g.edge_index[QT].tolist() == [[0, 1, 2, 3], [1, 1, 0, 3]]
    assert any("'Ghost' skipped" in w for w in entry["info"]["warnings"])
    assert any("'unused' skipped" in w for w in entry["info"]["warnings"])
    # newllm has no task_queries_newllm.json: derived from the training queries.
    new, _ = build(s, "query-task-domain", "newllm")
    assert new["info"]["queries"]["source"].startswith("route_data/default_query_train.jsonl")
    # The query file is an input: the graph id differs from one built without it.
    plain = session_on(make_tiny(), tmp_path / "wq")
    assert build_graph_entry(plain, "query-task-domain", "standard").entry["id"] != entry["id"]


def test_no_usable_query_is_a_warning(make_tiny, tmp_path):
    s = session_on(make_tiny(lambda f: f.update({"profile_data/task_queries_standard.json": {"Ghost": ["x"]}})),
                   tmp_path / "w")
    entry, g = build(s, "query")
    assert g.num_nodes("query") == 0 and g.edge_index[QM].shape == (2, 0)
    assert any("no query nodes" in w for w in entry["info"]["warnings"])
    assert g.to_heterodata().validate()


# ---------------------------------------------------------------------------------- storage, PyG, import


@pytest.mark.parametrize("kind", KINDS)
def test_heterodata_validates(sess, kind):
    _, g = build(sess, kind, "newllm")
    hd = g.to_heterodata()
    assert hd.validate(raise_on_error=True)
    assert list(hd.node_types) == NODE_TYPES[kind] and list(hd.edge_types) == EDGE_TYPES[kind]
    for nt in hd.node_types:
        assert len(hd[nt].node_feature_text) == hd[nt].num_nodes
        assert ("node_names" in hd[nt]) == (nt != "query")
    for et in hd.edge_types:
        assert ("edge_attr" in hd[et]) == (et in (SCORE, SCORE_R))


def test_load_graph_uses_weights_only(sess, monkeypatch):
    entry, _ = build(sess, "query-task-domain")
    gdir = sess.workspace.artifact_dir(entry["id"])
    torch.load(gdir / "graph.pt", weights_only=True)  # plain tensors: loads without unpickling objects
    calls = []
    real = torch.load

    def spy(*a, **kw):
        calls.append(kw.get("weights_only"))
        return real(*a, **kw)

    monkeypatch.setattr(torch, "load", spy)
    _, g = load_graph_entry(sess, entry["id"])
    assert calls == [True]
    assert g.num_nodes("query") == 8
    meta = json.loads((gdir / "graph.json").read_text())
    assert meta["format"] == 1 and meta["names"]["query"] is None


def test_import_round_trip(sess, tmp_path):
    entry, g = build(sess, "query-task-domain", "newllm")
    f = tmp_path / "orig" / "query_task_domain_graph_full.pt"
    f.parent.mkdir()
    torch.save(g.to_heterodata(), f)
    res = import_graph_entry(sess, f, "newllm", None)
    assert res.built and res.entry["params"]["kind"] == "imported" and res.entry["info"]["preset"] == \
        "query-task-domain"
    assert res.entry["info"]["nodes"] == entry["info"]["nodes"]
    assert res.entry["info"]["edges"] == entry["info"]["edges"]
    _, h = load_graph_entry(sess, res.entry["id"])
    assert h.node_types == g.node_types and h.edge_types == g.edge_types
    for nt in g.node_types:
        assert h.names[nt] == g.names[nt] and h.texts[nt] == g.texts[nt] and torch.equal(h.x[nt], g.x[nt])
    for et in g.edge_types:
        assert torch.equal(h.edge_index[et], g.edge_index[et])
    assert set(h.edge_attr) == set(g.edge_attr)
    for et in g.edge_attr:
        assert torch.equal(h.edge_attr[et], g.edge_attr[et])
    # Importing the same file again reuses the record.
    assert import_graph_entry(sess, f, "newllm", None).built is False


def test_cli_import_and_bad_import(tiny_data, tmp_path):
    s = session_on(tiny_data, tmp_path / "ws")
    _, g = build(s, "task")
    f = tmp_path / "task_graph_full.pt"
    torch.save(g.to_heterodata(), f)
    out = cli(tiny_data, "graph", "import", str(f), "--kind", "task")
    assert out.exit_code == 0, out.output
    gid = out.stdout.strip()
    shown = json.loads(cli(tiny_data, "graph", "show", gid, "--json").stdout)
    assert shown["nodes"] == {"architecture": 2, "model": 4, "dataset": 4} and shown["preset"] == "task"
    # A file that is not a HeteroData (here: rp's own tensor file) is one clear error; nothing changes.
    before = snapshot(tmp_path / "ws")
    bad = next((tmp_path / "ws" / "graphs").glob("*/graph.pt"))
    out = cli(tiny_data, "graph", "import", str(bad))
    assert out.exit_code == 1 and "notagraphrpcanimport" in flat(out.stderr) and "HeteroData" in out.stderr
    assert "Traceback" not in out.output and out.stdout == ""
    assert snapshot(tmp_path / "ws") == before


# --------------------------------------------------------------------------------------------- bad inputs


def _nan_models(f):
    doc = f["profile_data/model_feature_standard.json"]
    doc["m2"]["detailed_scores"]["t_code"] = float("nan")
    text = json.dumps(doc)  # writes the literal token NaN
    assert "NaN" in text
    f["profile_data/model_feature_standard.json"] = text


BAD = [
    ("family missing", lambda f: f["profile_data/model_family_feature.json"].pop("FamB"),
     "model_feature_standard.json", ["'m2'", "'architecture'", "FamB"]),
    ("scored task without description", lambda f: f["profile_data/task_feature.json"].pop("lb"),
     "model_feature_standard.json", ["'m1'", "detailed_scores.lb"]),
    ("malformed json", lambda f: f.update({"profile_data/domain_task_map.json": '{"d_reason": ["t_math",'}),
     "domain_task_map.json", ["malformed JSON"]),
    ("empty file", lambda f: f.update({"profile_data/model_family_feature.json": ""}),
     "model_family_feature.json", ["empty"]),
    ("nan score", _nan_models, "model_feature_standard.json", ["'m2'", "detailed_scores.t_code", "finite"]),
    ("unknown model in a pair",
     lambda f: f["route_data/pairwise_training_data_standard.json"]["pairwise_data"][3].update(worse_model="m9"),
     "pairwise_training_data_standard.json", ["pairwise_data[3]", "'worse_model'", "m9"]),
]


@pytest.mark.parametrize("name,mutate,file,fragments", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_a_clear_error_and_changes_nothing(make_tiny, tmp_path, name, mutate, file, fragments):
    ws = tmp_path / "ws"
    good = make_tiny()
    build_graph_entry(session_on(good, ws), "task", "standard")
    before = snapshot(ws)
    bad = make_tiny(mutate)
    with pytest.raises(DataFileError) as exc:
        build_graph_entry(session_on(bad, ws), "query-task-domain", "standard")
    msg = str(exc.value)
    assert file in msg and all(fr in msg for fr in fragments), msg
    assert snapshot(ws) == before
    out = cli(bad, "graph", "build", "task-domain", ws=ws)
    assert out.exit_code == 1, out.output
    assert file in flat(out.stderr) and "Traceback" not in out.output and out.stdout == ""
    assert snapshot(ws) == before


def test_dangling_domain_task_is_only_a_warning(sess):
    entry, g = build(sess, "task-domain")
    assert any("'Ghost'" in w for w in entry["info"]["warnings"])
    assert pairs(g, DOM) == {("d_reason", "t_math"), ("d_reason", "t_code"), ("d_know", "t_qa"), ("d_know", "lb")}
    out = cli(sess.data_root, "graph", "show", entry["id"])
    assert out.exit_code == 0 and "Ghost" in out.stdout


def test_unknown_architecture_only_in_the_task_graph(make_tiny, tmp_path):
    ws = tmp_path / "ws"
    s = session_on(make_tiny(lambda f: f["profile_data/model_feature_standard.json"]["m1"]
                             .update(architecture="unknown")), ws)
    _, g = build(s, "task")
    # m1 has no family node or edge; FamB (m2) is now seen first.
    assert g.names["architecture"] == ["FamB", "FamA"]
    assert g.edge_index[ARCH].tolist() == [[0, 0, 1], [1, 3, 2]]
    assert g.num_nodes("model") == 4
    before = snapshot(ws)
    for kind in ("query", "query-task", "task-domain", "query-task-domain"):
        with pytest.raises(DataFileError, match="architecture 'unknown'") as exc:
            build_graph_entry(s, kind, "standard")
        assert exc.value.record == "'m1'" and exc.value.field == "architecture"
        assert snapshot(ws) == before  # the staging directory is gone and nothing is registered


def test_unknown_kind_and_mode(sess):
    with pytest.raises(RpError, match="unknown graph kind"):
        build_graph_entry(sess, "tasks", "standard")
    with pytest.raises(RpError, match="unknown mode"):
        build_graph_entry(sess, "task", "new")


# -------------------------------------------------------------------------------------------------- CLI


def flat(text: str) -> str:
    """Error panels wrap long paths; compare without box drawing and whitespace."""
    return "".join(ch for ch in text if not ch.isspace() and ch not in "│╭╮╰╯─")


def cli(data, *args, ws=None):
    base = ["-d", str(data), "--encoder", "hash:32"]
    if ws is not None:
        base = ["-w", str(ws), *base]
    return runner.invoke(app, [*base, *args])


def test_cli_build_contract(tiny_data):
    out = cli(tiny_data, "graph", "build", "task", "--mode", "standard")
    assert out.exit_code == 0, out.output
    gid = out.stdout.strip()
    assert out.stdout == gid + "\n" and gid.startswith("graph-")
    assert "built" in out.stderr
    again = cli(tiny_data, "graph", "build", "task", "--mode", "standard")
    assert again.exit_code == 0 and again.stdout == out.stdout and "reused" in again.stderr
    rec = json.loads(cli(tiny_data, "graph", "build", "task", "--mode", "standard", "--json").stdout)
    assert {"id", "kind", "params", "parents", "status"} <= set(rec)
    assert rec["id"] == gid and rec["kind"] == "graph" and rec["parents"] == [] and rec["status"] == "done"
    assert rec["params"] == {"kind": "task", "mode": "standard"} and rec["reused"] is True
    forced = cli(tiny_data, "graph", "build", "task", "--mode", "standard", "--force")
    assert forced.exit_code == 0 and forced.stdout == out.stdout and "built" in forced.stderr


def test_cli_usage_errors(tiny_data):
    assert cli(tiny_data, "graph", "build", "nonsense").exit_code == 2
    assert cli(tiny_data, "graph", "build", "task", "--mode", "old").exit_code == 2
    assert cli(tiny_data, "graph", "build", "query", "--max-queries-per-task", "0").exit_code == 2


def test_cli_broken_data(make_tiny, tmp_path):
    bad = make_tiny(lambda f: f["profile_data/model_family_feature.json"].pop("FamA"))
    out = cli(bad, "graph", "build", "task")
    assert out.exit_code == 1
    assert "model_feature_standard.json" in flat(out.stderr) and "FamA" in out.stderr
    assert "Traceback" not in out.output and out.stdout == ""


def test_cli_show_and_ls(tiny_data):
    qid = cli(tiny_data, "graph", "build", "query-task-domain", "--max-queries-per-task", "2").stdout.strip()
    tid = cli(tiny_data, "graph", "build", "task", "--mode", "newllm").stdout.strip()
    out = cli(tiny_data, "graph", "show", qid)
    assert out.exit_code == 0, out.output
    text = out.stdout
    assert "kind=query-task-domain" in text and "encoder=hash-32" in text and "dim=32" in text
    assert "dataset_to_model" in text and "raw score" in text and "query_to_dataset" in text
    assert "default_query_train.jsonl" in text and "capped at 2 per task" in text
    assert "query nodes per task" in text and "1 of 4 dataset nodes have no query nodes" in text
    # Node types are listed in the graph's order, not alphabetically.
    nodes = text[text.index("nodes"):text.index("edges")]
    assert [ln.split()[1] for ln in nodes.splitlines() if ln.startswith("│")] == [
        "architecture", "model", "dataset", "domain", "query"]
    rec = json.loads(cli(tiny_data, "graph", "show", qid[:12], "--json").stdout)
    assert rec["id"] == qid and rec["queries"]["per_task"] == {"t_math": 2, "t_code": 2, "t_qa": 2}
    assert rec["nodes"]["query"] == 6 and rec["encoder"] == "hash-32"
    assert "query nodes" not in cli(tiny_data, "graph", "show", tid).stdout
    ls = cli(tiny_data, "graph", "ls")
    assert ls.exit_code == 0 and qid in ls.stdout and tid in ls.stdout
    rows = json.loads(cli(tiny_data, "graph", "ls", "--json").stdout)
    assert {r["id"] for r in rows} == {qid, tid}
    assert cli(tiny_data, "graph", "show", "graph-ffffff").exit_code == 1


# --------------------------------------------------------------------------------------------- real data

REAL_DATASETS = ["ifeval", "bbh", "math", "gpqa", "musr", "mmlu_pro", "mmlu", "commongen", "AGIEval English",
                 "trivia_qa", "natural_qa", "TheoremQA", "commonsense_qa", "arc_challenge", "openbook_qa", "DROP",
                 "gsm8k", "agentverse-mgsm", "human_eval", "mbpp", "TruthfulQA", "agentverse-logicgrid",
                 "WinoGrande", "BoolQ", "C-Eval", "SQuAD", "MultiPL-E", "WildBench", "EvalPlus"]
MISTRAL = "mistral-small-24b-instruct-2501-bf16"
MASKED = {"agentverse-logicgrid", "agentverse-mgsm", "commongen", "gsm8k", "human_eval", "mbpp", "natural_qa",
          "trivia_qa"}


def _expected_queries(root: Path, datasets: list) -> dict:
    """Independently of the builder: distinct training queries that are not test queries, per dataset task."""
    test = {r["query"] for r in json.loads((root / "route_data/routing_test_data.json").read_text())}
    seen, per_task = set(), {}
    for line in (root / "route_data/default_query_train.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        if r["task_name"] in datasets and r["query"] not in test and r["query"] not in seen:
            seen.add(r["query"])
            per_task[r["task_name"]] = per_task.get(r["task_name"], 0) + 1
    return per_task


def test_real_data_graphs(real_sess):
    root = real_sess.dataset.root
    g = {}
    for kind in KINDS:
        for mode in MODES:
            entry, graph = build(real_sess, kind, mode)
            assert graph.to_heterodata().validate()
            g[kind, mode] = (entry, graph)
    for mode, n_scores in (("standard", 359), ("newllm", 351)):
        entry, t = g["task", mode]
        assert entry["info"]["nodes"] == {"architecture": 5, "model": 24, "dataset": 29}
        assert t.names["dataset"] == REAL_DATASETS
        assert t.names["model"][:8] == real_sess.dataset.candidates
        assert t.edge_index[SCORE].shape[1] == t.edge_index[SCORE_R].shape[1] == n_scores
        assert t.edge_index[ARCH].shape[1] == 24
        e, td = g["task-domain", mode]
        assert td.names["domain"] == ["knowledge", "reasoning", "qa", "math", "coding", "alignment"]
        assert td.edge_index[DOM].shape[1] == td.edge_index[DOM_R].shape[1] == 38
        assert any("OpenBookQA" in w for w in e["info"]["warnings"])
    std, new = g["task", "standard"][1], g["task", "newllm"][1]
    assert pairs(std, SCORE) - pairs(new, SCORE) == {(MISTRAL, t) for t in MASKED}
    assert pairs(new, SCORE) <= pairs(std, SCORE)
    # Raw scores survive, negatives included (WildBench is -7 for llama-3.1-8b).
    ei, ea = std.edge_index[SCORE], std.edge_attr[SCORE][:, 0]
    k = [i for i, (m, d) in enumerate(ei.t().tolist())
         if std.names["model"][m] == "llama-3.1-8b-instruct" and std.names["dataset"][d] == "WildBench"]
    assert len(k) == 1 and ea[k[0]].item() == -7.0

    per_task = _expected_queries(root, REAL_DATASETS)
    total = sum(per_task.values())
    assert total == 2041  # 2,100 rows, 2 duplicated queries, 57 distinct ones shared with the test set
    test = {r.query for r in real_sess.dataset.test_rows}
    for kind in ("query", "query-task", "query-task-domain"):
        for mode in MODES:
            entry, qg = g[kind, mode]
            assert qg.num_nodes("query") == total and entry["info"]["queries"]["per_task"] == per_task
            assert "default_query_train.jsonl" in entry["info"]["queries"]["source"]
            assert not set(qg.texts["query"]) & test
            if kind != "query":
                assert qg.edge_index[QT].shape[1] == total
    # Query graph: each query links to every model scored on its task; newllm drops mistral-small there.
    for mode in MODES:
        scored = {}
        for m in real_sess.dataset.mode(mode).models:
            for t, s in m.scores.items():
                if s is not None:
                    scored[t] = scored.get(t, 0) + 1
        expect = sum(n * scored[t] for t, n in per_task.items())
        assert g["query", mode][1].edge_index[QM].shape[1] == expect
    assert g["query", "standard"][1].edge_index[QM].shape[1] == 29649
    assert 29649 - g["query", "newllm"][1].edge_index[QM].shape[1] == sum(per_task[t] for t in MASKED)
    nd = g["query-task-domain", "standard"][0]["info"]["nodes"]
    assert nd == {"architecture": 5, "model": 24, "dataset": 29, "domain": 6, "query": 2041}
