"""Manifest schema and corruption through the CLI (issue 13): a manifest from a newer rp is refused naming the rp
and schema that wrote it and the schema this rp reads; a schema-1 JSON workspace (what older rp wrote) is read and
migrated by the first write; a corrupt manifest.json or manifest.db is refused naming where the last good copy is,
and following that hint recovers every record. Every refusal exits 3 and leaves the workspace byte-for-byte as it
was."""

from __future__ import annotations

import json
import os
import sqlite3

from typer.testing import CliRunner

from corpus import squash, tree_digest
from rpcli.cli.main import app
from rpcli.workspace import manifest as M

runner = CliRunner()


def _rp(tiny, ws, *args):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", *args])


def _built(tiny, ws):
    g = _rp(tiny, ws, "graph", "build", "task", "--mode", "standard")
    p = _rp(tiny, ws, "profile", "index", "--mode", "standard")
    assert g.exit_code == 0 and p.exit_code == 0, g.output + p.output
    return sorted([g.stdout.strip(), p.stdout.strip()])


def _ids(tiny, ws):
    r = _rp(tiny, ws, "ls", "--json")
    assert r.exit_code == 0, r.output
    return sorted(e["id"] for e in json.loads(r.stdout))


def _refused(tiny, ws, *words, args=("ls",)):
    before = tree_digest(ws)
    r = _rp(tiny, ws, *args)
    assert r.exit_code == 3, r.output
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in r.output and r.output.count("╭") == 1, r.output
    text = squash(r.output)
    for w in words:
        assert squash(w) in text, (w, r.output)
    assert tree_digest(ws) == before, "a refusal changes nothing"
    return r


def test_a_manifest_from_a_newer_rp_is_refused_naming_both_versions(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    _built(tiny_data, ws)
    doc = json.loads((ws / "manifest.json").read_text())
    assert doc["written_by"] == M.WRITTEN_BY  # every export names the rp that wrote it
    # a JSON-only workspace written by a newer rp
    (ws / "manifest.db").rename(tmp_path / "store.db")
    (ws / "manifest.json").write_text(json.dumps({**doc, "schema": M.SCHEMA + 1, "written_by": "rp 9.9.0"}))
    for args in (("ls",), ("profile", "index", "--mode", "standard", "--seed", "5"), ("ws", "verify")):
        _refused(tiny_data, ws, str(ws / "manifest.json"), "rp 9.9.0", f"manifest schema {M.SCHEMA + 1}",
                 M.WRITTEN_BY, f"schema {M.SCHEMA} and older", args=args)
    # a store written by a newer rp
    (ws / "manifest.json").unlink()
    (tmp_path / "store.db").rename(ws / "manifest.db")
    c = sqlite3.connect(ws / "manifest.db")
    with c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (json.dumps(M.SCHEMA + 3),))
        c.execute("UPDATE meta SET value = ? WHERE key = 'written_by'", (json.dumps("rp 12.0.1"),))
    c.close()
    for args in (("ls",), ("graph", "build", "task", "--mode", "newllm")):
        _refused(tiny_data, ws, str(ws / "manifest.db"), "rp 12.0.1", f"manifest schema {M.SCHEMA + 3}", args=args)


def test_a_schema_1_json_workspace_is_read_and_migrated_by_the_first_write(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    ids = _built(tiny_data, ws)
    # what an older rp left: manifest.json only, schema 1, no written_by
    doc = json.loads((ws / "manifest.json").read_text())
    old = {"schema": 1, "entries": doc["entries"]}
    for p in ws.glob("manifest.db*"):
        p.unlink()
    (ws / "manifest.json").write_text(json.dumps(old, indent=1))
    assert _ids(tiny_data, ws) == ids and not (ws / "manifest.db").exists(), "reading migrates nothing"
    again = _rp(tiny_data, ws, "graph", "build", "task", "--mode", "standard")
    assert again.exit_code == 0 and again.stdout.strip() in ids, again.output  # the old record is reused
    new = _rp(tiny_data, ws, "profile", "index", "--mode", "standard", "--seed", "3")  # the first write
    assert new.exit_code == 0, new.output
    assert (ws / "manifest.db").exists()
    doc2 = json.loads((ws / "manifest.json").read_text())
    assert doc2["schema"] == M.SCHEMA and doc2["written_by"] == M.WRITTEN_BY
    assert sorted(doc2["entries"]) == sorted([*ids, new.stdout.strip()])
    assert all(doc2["entries"][i] == old["entries"][i] for i in ids), "entries migrate unchanged"
    v = _rp(tiny_data, ws, "ws", "verify", "--json")
    assert v.exit_code == 0 and json.loads(v.stdout)["ok"], v.output


def test_a_corrupt_export_is_refused_and_the_store_is_the_last_good_copy(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    ids = _built(tiny_data, ws)
    text = (ws / "manifest.json").read_text()
    for broken in (text[: len(text) // 3], "[]", '{"schema": 2, "entries": []}'):
        (ws / "manifest.json").write_text(broken)
        _refused(tiny_data, ws, str(ws / "manifest.json"), "the last good copy is the store", str(ws / "manifest.db"))
    # following the hint: move the broken export away; the store rewrites it with every record
    (ws / "manifest.json").rename(ws / "manifest.json.broken")
    assert _ids(tiny_data, ws) == ids
    assert _rp(tiny_data, ws, "profile", "index", "--mode", "standard", "--seed", "4").exit_code == 0
    assert set(ids) <= set(json.loads((ws / "manifest.json").read_text())["entries"])


def test_a_corrupt_store_is_refused_and_the_export_is_the_last_good_copy(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    ids = _built(tiny_data, ws)
    good = (ws / "manifest.db").read_bytes()
    for broken in (b"this is not a database" * 100, good[: len(good) // 2] + os.urandom(64)):
        for p in ws.glob("manifest.db-*"):
            p.unlink()
        (ws / "manifest.db").write_bytes(broken)
        r = _rp(tiny_data, ws, "ls")
        if r.exit_code == 0:  # SQLite may still read a store cut after its last page; then nothing was lost
            assert _ids(tiny_data, ws) == ids
            continue
        _refused(tiny_data, ws, str(ws / "manifest.db"), "the last good copy is", str(ws / "manifest.json"))
    (ws / "manifest.db").rename(ws / "manifest.db.broken")
    assert _ids(tiny_data, ws) == ids
    assert _rp(tiny_data, ws, "profile", "index", "--mode", "standard", "--seed", "4").exit_code == 0
    assert (ws / "manifest.db").exists() and len(_ids(tiny_data, ws)) == len(ids) + 1


def test_show_with_an_empty_id_is_a_usage_error(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    _built(tiny_data, ws)
    for ref in ("", "  "):
        before = tree_digest(ws)
        r = _rp(tiny_data, ws, "show", ref)
        assert r.exit_code == 2 and "emptyidmatcheseveryartifact" in squash(r.output), r.output
        assert "Traceback" not in r.output and tree_digest(ws) == before
    # a one-artifact workspace: the empty prefix used to match it
    ws1 = tmp_path / "ws1"
    assert _rp(tiny_data, ws1, "graph", "build", "task", "--mode", "standard").exit_code == 0
    assert _rp(tiny_data, ws1, "show", "").exit_code == 2
    for args in (("profile", "show", ""), ("graph", "show", "")):
        r = _rp(tiny_data, ws1, *args)
        assert r.exit_code in (1, 2) and "empty" in r.output, r.output
