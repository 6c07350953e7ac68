"""Manifest round-trip, reuse by recipe, atomicity on failure, locking, id prefixes."""

from __future__ import annotations

import json
import os

import pytest

from rpcli.errors import ArtifactNotFoundError, ManifestSchemaError, WorkspaceLockedError
from rpcli.services.base import build_artifact
from rpcli.workspace.hashing import canonical_json, recipe_key
from rpcli.workspace.lock import WorkspaceLock
from rpcli.workspace.manifest import SCHEMA, get_entry, init_workspace, load_manifest, register_entry


def _writer(text):
    calls = []

    def builder(out_dir):
        calls.append(out_dir)
        (out_dir / "out.txt").write_text(text)
        return {"metrics": {"x": 1.5}, "info": {"n": 3}}

    return builder, calls


def test_build_registers_and_reuses(sess):
    builder, calls = _writer("hello")
    first = build_artifact(sess, "graph", {"kind": "task", "mode": "standard"}, [], builder)
    assert first.built and len(calls) == 1
    e = first.entry
    assert e["id"].startswith("graph-") and e["status"] == "done" and e["metrics"] == {"x": 1.5}
    assert e["outputs"][0]["path"] == f"graphs/{e['id']}/out.txt" and e["outputs"][0]["bytes"] == 5
    assert e["encoder"]["id"] == "hash-32" and e["data_hash"] == sess.dataset.data_hash
    assert e["provenance"]["rp"] and "torch" in e["provenance"]
    second = build_artifact(sess, "graph", {"kind": "task", "mode": "standard"}, [], builder)
    assert not second.built and second.entry["id"] == e["id"] and len(calls) == 1
    forced = build_artifact(sess, "graph", {"kind": "task", "mode": "standard"}, [], builder, force=True)
    assert forced.built and len(calls) == 2
    other = build_artifact(sess, "graph", {"kind": "task", "mode": "newllm"}, [], builder)
    assert other.entry["id"] != e["id"]


def test_damaged_output_is_rebuilt(sess):
    builder, calls = _writer("hello")
    e = build_artifact(sess, "run", {"a": 1}, [], builder).entry
    (sess.workspace.root / e["outputs"][0]["path"]).unlink()
    assert build_artifact(sess, "run", {"a": 1}, [], builder).built and len(calls) == 2


def test_failed_build_leaves_workspace_unchanged(sess):
    builder, _ = _writer("ok")
    build_artifact(sess, "graph", {"k": 1}, [], builder)
    before = sess.workspace.manifest_path.read_bytes()
    listing = sorted(p.relative_to(sess.workspace.root) for p in sess.workspace.root.rglob("*"))

    def broken(out_dir):
        (out_dir / "partial.bin").write_bytes(b"x" * 10)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        build_artifact(sess, "profile", {"k": 2}, [], broken)
    with pytest.raises(KeyboardInterrupt):
        build_artifact(sess, "profile", {"k": 3}, [], lambda d: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert sess.workspace.manifest_path.read_bytes() == before
    assert sorted(p.relative_to(sess.workspace.root) for p in sess.workspace.root.rglob("*")) == listing


def test_manifest_is_canonical_json_and_schema_checked(sess):
    builder, _ = _writer("x")
    build_artifact(sess, "graph", {"b": 2, "a": 1}, [], builder)
    text = sess.workspace.manifest_path.read_text()
    doc = json.loads(text)
    assert doc["schema"] == SCHEMA
    assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    doc["schema"] = SCHEMA + 1
    sess.workspace.manifest_path.write_text(json.dumps(doc))
    with pytest.raises(ManifestSchemaError, match="newer"):
        load_manifest(sess.workspace)


def test_recipe_key_ignores_key_order_but_not_values():
    a = recipe_key("graph", {"a": 1, "b": [1, 2]}, ["p"], {"data": "h"})
    assert a == recipe_key("graph", {"b": [1, 2], "a": 1}, ["p"], {"data": "h"})
    assert a != recipe_key("graph", {"a": 2, "b": [1, 2]}, ["p"], {"data": "h"})
    assert a != recipe_key("graph", {"a": 1, "b": [1, 2]}, ["p"], {"data": "h2"})
    assert canonical_json({"b": 1, "a": 2}) == '{"a":2,"b":1}'


def test_id_prefixes(sess):
    ws = sess.workspace
    init_workspace(ws)
    for i in ("graph-aaaa111111", "graph-aaaa222222", "profile-bbbb000000"):
        register_entry(ws, {"id": i, "kind": i.split("-")[0], "params": {}, "status": "done"})
    assert get_entry(ws, "profile-bb")["id"] == "profile-bbbb000000"
    assert get_entry(ws, "bbbb", kind="profile")["id"] == "profile-bbbb000000"
    with pytest.raises(ArtifactNotFoundError, match="ambiguous"):
        get_entry(ws, "graph-aaaa")
    with pytest.raises(ArtifactNotFoundError, match="no graph"):
        get_entry(ws, "graph-ffff", kind="graph")


def test_lock_reports_holder_and_breaks_stale_locks(tmp_path):
    path = tmp_path / ".lock"
    with WorkspaceLock(path):
        with pytest.raises(WorkspaceLockedError, match=str(os.getpid())):
            WorkspaceLock(path, timeout=0.1).acquire()
    path.write_text("999999999")  # a pid that does not exist
    with WorkspaceLock(path, timeout=0.1):
        pid, command, since = path.read_text().splitlines()
        assert pid == str(os.getpid()) and "pytest" in command and since.endswith("Z")
    assert not path.exists()


def test_child_is_stale_when_parent_content_changes(sess):
    parent = build_artifact(sess, "graph", {"g": 1}, [], _writer("a")[0]).entry
    child_builder, calls = _writer("child")
    c1 = build_artifact(sess, "profile", {"p": 1}, [parent["id"]], child_builder)
    assert not build_artifact(sess, "profile", {"p": 1}, [parent["id"]], child_builder).built
    build_artifact(sess, "graph", {"g": 1}, [], _writer("b")[0], force=True)  # same recipe, new content
    c2 = build_artifact(sess, "profile", {"p": 1}, [parent["id"]], child_builder)
    assert c2.built and c2.entry["id"] != c1.entry["id"] and len(calls) == 2
