"""The SQLite manifest store (step 11): migration of a JSON workspace, the manifest.json export, outside edits,
schema versions, the on-demand export of large workspaces (step 15), copies of a workspace, and the lookups and
listings that do not read every entry."""

from __future__ import annotations

import json
import sqlite3

import pytest

from rpcli.errors import ManifestSchemaError, WorkspaceError
from rpcli.workspace import manifest as M
from rpcli.workspace.layout import Workspace


def entry(i: int, kind: str = "run", created: str = "2025-01-01T00:00:00Z") -> dict:
    return {"id": f"{kind}-{i:010x}", "kind": kind, "params": {"i": i, "text": "é ü"}, "status": "done",
            "created_at": created, "outputs": []}


@pytest.fixture
def ws(tmp_path):
    return Workspace(tmp_path / "ws")


def canonical(doc) -> str:
    """The export's text: the manifest plus the name of the rp that wrote it."""
    return json.dumps({**doc, "written_by": M.WRITTEN_BY}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def exported(ws) -> dict:
    """manifest.json without its written_by field (which load_manifest does not return)."""
    doc = json.loads(ws.manifest_path.read_text(encoding="utf-8"))
    assert doc.pop("written_by") == M.WRITTEN_BY
    return doc


def test_register_writes_the_store_and_a_canonical_export(ws):
    assert M.init_workspace(ws) and M.store_path(ws).is_file()
    for i in range(3):
        M.register_entry(ws, entry(i))
    doc = M.load_manifest(ws)
    assert doc["schema"] == M.SCHEMA and sorted(doc["entries"]) == [entry(i)["id"] for i in range(3)]
    assert ws.manifest_path.read_text(encoding="utf-8") == canonical(doc)
    with sqlite3.connect(M.store_path(ws)) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert c.execute("SELECT COUNT(*) FROM entries").fetchone()[0] == 3
    M.remove_entry(ws, entry(1)["id"])
    assert sorted(M.load_manifest(ws)["entries"]) == [entry(0)["id"], entry(2)["id"]]
    assert json.loads(ws.manifest_path.read_text())["entries"].keys() == M.load_manifest(ws)["entries"].keys()


def test_a_json_workspace_is_migrated_by_the_first_write(ws):
    ws.root.mkdir(parents=True)
    old = {"schema": 1, "entries": {e["id"]: e for e in (entry(1), entry(2, "graph"))}}
    ws.manifest_path.write_text(json.dumps(old))
    assert M.load_manifest(ws)["entries"] == old["entries"] and not M.store_path(ws).exists()  # reads do not write
    assert M.get_entry(ws, "graph-00", kind="graph")["id"] == entry(2, "graph")["id"]
    M.register_entry(ws, entry(3))
    assert M.store_path(ws).exists()
    doc = M.load_manifest(ws)
    assert doc["schema"] == 2 and set(doc["entries"]) == {entry(i, k)["id"] for i, k in ((1, "run"), (2, "graph"),
                                                                                          (3, "run"))}
    assert exported(ws) == doc  # the export follows, now at schema 2


def test_an_outside_edit_of_the_export_is_read_and_imported(ws):
    M.register_entry(ws, entry(1))
    doc = json.loads(ws.manifest_path.read_text())
    doc["entries"][entry(1)["id"]]["status"] = "edited"
    ws.manifest_path.write_text(json.dumps(doc))
    assert M.get_entry(ws, entry(1)["id"])["status"] == "edited"
    M.register_entry(ws, entry(2))
    assert M.lookup_entry(ws, entry(1)["id"])["status"] == "edited" and M.lookup_entry(ws, entry(2)["id"])


def test_a_broken_or_newer_export_is_refused_and_the_store_keeps_the_last_good_copy(ws):
    M.register_entry(ws, entry(1))
    good = ws.manifest_path.read_bytes()
    ws.manifest_path.write_text("{oops")
    with pytest.raises(WorkspaceError, match="cannot read the manifest"):
        M.load_manifest(ws)
    with pytest.raises(WorkspaceError, match="cannot read the manifest"):
        M.register_entry(ws, entry(2))
    ws.manifest_path.write_text(json.dumps({"schema": M.SCHEMA + 1, "entries": {}}))
    with pytest.raises(ManifestSchemaError, match=f"schema {M.SCHEMA + 1}, newer"):
        M.load_manifest(ws)
    ws.manifest_path.unlink()  # moved away: the store is the record again, and rewrites the export
    assert list(M.load_manifest(ws)["entries"]) == [entry(1)["id"]]
    M.register_entry(ws, entry(2))
    assert json.loads(ws.manifest_path.read_text())["entries"].keys() == {entry(1)["id"], entry(2)["id"]}
    assert good != ws.manifest_path.read_bytes()


def test_a_store_from_a_newer_rp_is_refused(ws):
    M.register_entry(ws, entry(1))
    with sqlite3.connect(M.store_path(ws)) as c:
        c.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(M.SCHEMA + 5),))
    ws.manifest_path.unlink()
    for call in (lambda: M.load_manifest(ws), lambda: M.register_entry(ws, entry(2)), lambda: M.init_workspace(ws)):
        with pytest.raises(ManifestSchemaError, match=f"schema {M.SCHEMA + 5}"):
            call()


def test_large_workspaces_export_on_demand_and_conflicting_edits_are_refused(ws, monkeypatch):
    monkeypatch.setattr(M, "EXPORT_SYNC_MAX", 2)
    for i in range(2):
        M.register_entry(ws, entry(i))
    export_bytes = ws.manifest_path.read_bytes()
    M.register_entry(ws, entry(2))  # above the threshold: the export is left as it is (no rewrite, none at exit)
    assert ws.manifest_path.read_bytes() == export_bytes
    assert not hasattr(M, "_PENDING_EXPORTS") and not hasattr(M, "_export_pending")
    assert len(M.load_manifest(ws)["entries"]) == 3  # readers read the store, not the stale export
    st = M.export_status(ws)
    assert st["state"] == "stale" and st["entries"] == 3 and st["generation"] == st["export_generation"] + 1
    assert M.manifest_stamp(ws) is not None
    # an outside edit of the stale export would lose entry 2 (or the edit): refused, naming `rp ws export`
    ws.manifest_path.write_text(export_bytes.decode().replace('"done"', '"edited"'))
    with pytest.raises(WorkspaceError, match="changed outside rp") as exc:
        M.load_manifest(ws)
    assert "rp ws export" in exc.value.hint
    with pytest.raises(WorkspaceError, match="changed outside rp"):
        M.register_entry(ws, entry(3))
    with pytest.raises(WorkspaceError, match="changed outside rp"):
        M.export_manifest(ws)
    ws.manifest_path.unlink()
    assert M.export_status(ws)["state"] == "absent"
    r = M.export_manifest(ws)  # on demand: `rp ws export`
    assert r["written"] and r["entries"] == 3 and r["path"] == str(ws.manifest_path)
    assert exported(ws) == M.load_manifest(ws)
    assert ws.manifest_path.read_text(encoding="utf-8") == canonical(M.load_manifest(ws))
    assert M.export_status(ws)["state"] == "current"
    assert M.export_manifest(ws, only_if_stale=True)["written"] is False
    # an edit of a current export is honoured (read, then imported by the next write), as in a small workspace
    doc = json.loads(ws.manifest_path.read_text())
    doc["entries"][entry(0)["id"]]["status"] = "edited"
    ws.manifest_path.write_text(json.dumps(doc))
    assert M.export_status(ws)["state"] == "edited"
    assert M.lookup_entry(ws, entry(0)["id"])["status"] == "edited"
    M.register_entry(ws, entry(3))
    assert M.lookup_entry(ws, entry(0)["id"])["status"] == "edited" and len(M.load_manifest(ws)["entries"]) == 4
    assert M.export_status(ws)["state"] == "stale"


def test_export_to_another_file_leaves_the_workspace_export_alone(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(M, "EXPORT_SYNC_MAX", 1)
    assert M.init_workspace(ws)
    M.register_entries(ws, [entry(i) for i in range(3)])  # one transaction
    before = ws.manifest_path.read_bytes()
    out = tmp_path / "elsewhere" / "m.json"
    r = M.export_manifest(ws, out=out)
    assert r["written"] and r["entries"] == 3 and r["path"] == str(out)
    assert json.loads(out.read_text())["entries"] == M.load_manifest(ws)["entries"]
    assert ws.manifest_path.read_bytes() == before and M.export_status(ws)["state"] == "stale"
    # a JSON-only workspace: manifest.json is the record; exporting elsewhere works, in place there is nothing to do
    old = Workspace(tmp_path / "old")
    old.root.mkdir()
    old.manifest_path.write_text(json.dumps({"schema": 1, "entries": {entry(7)["id"]: entry(7)}}))
    assert M.export_status(old)["state"] == "record"
    assert M.export_manifest(old)["written"] is False and not M.store_path(old).exists()
    assert json.loads(M.export_manifest(old, out=out)["path"] and out.read_text())["entries"] == {entry(7)["id"]:
                                                                                                 entry(7)}


@pytest.mark.parametrize("keep_times,legacy", [(True, False), (False, False), (True, True)])
def test_a_copied_workspace_is_not_an_outside_edit(ws, tmp_path, monkeypatch, keep_times, legacy):
    """cp -a keeps the export's mtime, cp -r does not; neither changes its bytes: the stale export of a large
    workspace must not read as an edit (which would be refused as a conflict, or make every read parse it). A store
    written before the export's sha256 was recorded (legacy) knows a copy by its mtime and size."""
    import shutil

    monkeypatch.setattr(M, "EXPORT_SYNC_MAX", 2)
    M.register_entries(ws, [entry(i) for i in range(2)])
    M.register_entry(ws, entry(2))  # the export is now one write behind
    if legacy:
        with sqlite3.connect(M.store_path(ws)) as c:
            c.execute("DELETE FROM meta WHERE key = 'export_sha256'")
    copy = Workspace(tmp_path / "copy")
    shutil.copytree(ws.root, copy.root, copy_function=shutil.copy2 if keep_times else shutil.copyfile)
    assert M.export_status(copy)["state"] == "stale"
    assert len(M.load_manifest(copy)["entries"]) == 3
    M.register_entry(copy, entry(3))
    assert len(M.list_entries(copy)) == 4
    with sqlite3.connect(M.store_path(copy)) as c:  # the copy's stamp was recorded: later reads compare stamps
        stamp = json.loads(c.execute("SELECT value FROM meta WHERE key = 'export_stamp'").fetchone()[0])
    assert stamp == M._stamp(copy.manifest_path)


def test_lookups_and_listing(ws):
    for i, t in ((1, "2025-01-03"), (2, "2025-01-01"), (3, "2025-01-02")):
        M.register_entry(ws, entry(i, "profile" if i == 3 else "run", created=t))
    assert M.lookup_entry(ws, entry(1)["id"])["params"]["text"] == "é ü"
    assert M.lookup_entry(ws, "run-ffffffffff") is None
    assert [e["id"] for e in M.list_entries(ws)] == [entry(2)["id"], entry(3, "profile")["id"], entry(1)["id"]]
    assert [e["id"] for e in M.list_entries(ws, "run")] == [entry(2)["id"], entry(1)["id"]]
    assert M.get_entry(ws, "00000", kind="profile")["id"] == entry(3, "profile")["id"]
    assert M.get_entry(ws, "profile-000")["id"] == entry(3, "profile")["id"]
    # the newest N (still oldest first), counted apart; the same from a JSON-only workspace
    assert [e["id"] for e in M.list_entries(ws, limit=2)] == [entry(3, "profile")["id"], entry(1)["id"]]
    assert [e["id"] for e in M.list_entries(ws, "run", limit=1)] == [entry(1)["id"]]
    assert M.list_entries(ws, limit=0) == [] and len(M.list_entries(ws, limit=99)) == 3
    assert (M.count_entries(ws), M.count_entries(ws, "run"), M.count_entries(ws, "graph")) == (3, 2, 0)
    with sqlite3.connect(M.store_path(ws)) as c:  # the newest N are read through an index, not a scan
        plan = c.execute("EXPLAIN QUERY PLAN SELECT body FROM entries ORDER BY created_at DESC, id DESC LIMIT 5")
        assert "entries_created" in str(plan.fetchall())
    M.store_path(ws).rename(ws.root / "away.db")
    assert [e["id"] for e in M.list_entries(ws, limit=2)] == [entry(3, "profile")["id"], entry(1)["id"]]
    assert M.count_entries(ws, "run") == 2


def test_update_manifest_applies_changes_and_deletions(ws):
    for i in range(3):
        M.register_entry(ws, entry(i))

    def fn(doc):
        doc["entries"].pop(entry(0)["id"])
        doc["entries"][entry(1)["id"]]["status"] = "changed"
        doc["entries"][entry(9)["id"]] = entry(9)

    M.update_manifest(ws, fn)
    e = M.load_manifest(ws)["entries"]
    assert set(e) == {entry(1)["id"], entry(2)["id"], entry(9)["id"]} and e[entry(1)["id"]]["status"] == "changed"


def test_a_failed_write_changes_nothing(ws):
    M.register_entry(ws, entry(1))
    before = (ws.manifest_path.read_bytes(), M.load_manifest(ws))
    with pytest.raises(TypeError):
        M.register_entry(ws, {**entry(2), "params": {"x": object()}})  # not JSON: refused before the transaction
    assert (ws.manifest_path.read_bytes(), M.load_manifest(ws)) == before
    assert not ws.lock_path.exists()
