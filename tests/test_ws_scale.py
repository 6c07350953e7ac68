"""A workspace that does not slow with its size (step 15), through the CLI: above EXPORT_SYNC_MAX entries a write
leaves manifest.json alone (no rewrite, none at exit), `rp ws export` writes it equal to the store, `rp ls` shows
the newest entries with a note (--json stays complete), and the recovery paths still hold: an outside edit of the
(stale) export, a corrupt manifest.db and its last-good hint, a JSON-only workspace from an older rp.
bench/ws_scale.py times the commands themselves."""

from __future__ import annotations

import copy
import json
import os

from typer.testing import CliRunner

from corpus import squash, tree_digest
from rpcli.cli.main import app
from rpcli.workspace import manifest as M
from rpcli.workspace.layout import Workspace

runner = CliRunner()


def _rp(tiny, ws, *args):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", *args])


def _ok(r):
    assert r.exit_code == 0, r.output
    return r


def _big(tiny, root, extra: int = 5) -> list[str]:
    """A real graph and profile, then EXPORT_SYNC_MAX + `extra` entries in all: clones of the profile's entry with
    new ids, older than the real ones (one transaction). Returns the real ids."""
    g = _ok(_rp(tiny, root, "-q", "graph", "build", "task", "--mode", "standard")).stdout.strip()
    p = _ok(_rp(tiny, root, "-q", "profile", "index", "--mode", "standard")).stdout.strip()
    ws = Workspace(root)
    real = M.lookup_entry(ws, p)
    clones = []
    for i in range(M.EXPORT_SYNC_MAX + extra - 2):
        e = copy.deepcopy(real)
        e["id"], e["params"] = f"profile-{i:010x}", {**e["params"], "seed": 1000 + i}
        e["created_at"] = f"2020-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}Z"
        clones.append(e)
    M.register_entries(ws, clones)
    assert M.count_entries(ws) == M.EXPORT_SYNC_MAX + extra
    return [g, p]


def _stamp(path):
    st = path.stat()
    return st.st_mtime_ns, st.st_size, st.st_ino, path.read_bytes()


def test_a_write_above_the_threshold_leaves_manifest_json_and_export_writes_the_store(tiny_data, tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    _big(tiny_data, root)
    n = M.count_entries(ws)
    before = _stamp(ws.manifest_path)
    new = _ok(_rp(tiny_data, root, "-q", "profile", "index", "--mode", "standard", "--seed", "9")).stdout.strip()
    assert _stamp(ws.manifest_path) == before, "a write above the threshold rewrote manifest.json"
    assert new not in json.loads(ws.manifest_path.read_text())["entries"]
    listed = json.loads(_ok(_rp(tiny_data, root, "ls", "--json")).stdout)
    assert len(listed) == n + 1 and new in {e["id"] for e in listed[-2:]}, "ls --json is complete, oldest first"
    assert json.loads(_ok(_rp(tiny_data, root, "show", new, "--json")).stdout)["id"] == new
    status = json.loads(_ok(_rp(tiny_data, root, "ws", "status", "--json")).stdout)
    assert status["export"]["state"] == "stale" and status["export"]["entries"] == n + 1
    assert "stale" in _ok(_rp(tiny_data, root, "ws", "status")).stdout

    # rp ws export: manifest.json equal to the store's content, recorded as current
    r = json.loads(_ok(_rp(tiny_data, root, "ws", "export", "--json")).stdout)
    assert r["written"] and r["entries"] == n + 1 and r["path"] == str(ws.manifest_path)
    store = M.load_manifest(ws)
    assert ws.manifest_path.read_text(encoding="utf-8") == M.dump_manifest(store)
    assert json.loads(ws.manifest_path.read_text())["entries"] == store["entries"]
    assert M.export_status(ws)["state"] == "current"
    again = _ok(_rp(tiny_data, root, "ws", "export"))
    assert again.stdout.strip() == str(ws.manifest_path)
    out = tmp_path / "copy.json"
    assert _ok(_rp(tiny_data, root, "ws", "export", "--out", str(out))).stdout.strip() == str(out)
    assert out.read_bytes() == ws.manifest_path.read_bytes()
    assert _ok(_rp(tiny_data, root, "ws", "export", "--out", "-")).stdout == ws.manifest_path.read_text("utf-8")

    # rp ls: the newest LS_DEFAULT in the table, a note on stderr, --all / --limit
    from rpcli.cli.ws import LS_DEFAULT

    table = _ok(_rp(tiny_data, root, "ls"))
    assert f"showing the newest {LS_DEFAULT} of {n + 1}" in " ".join(table.stderr.split())
    assert new in table.stdout and "profile-0000000000" not in table.stdout  # the oldest clone is left out
    full = _ok(_rp(tiny_data, root, "ls", "--all"))
    assert "profile-0000000000" in full.stdout and "showing" not in full.stderr
    three = json.loads(_ok(_rp(tiny_data, root, "ls", "--limit", "3", "--json")).stdout)
    assert [e["id"] for e in three] == [e["id"] for e in listed[-3:]]
    assert _rp(tiny_data, root, "ls", "--all", "--limit", "3").exit_code == 2


def test_recovery_paths_hold_above_the_threshold(tiny_data, tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    _big(tiny_data, root)
    new = _ok(_rp(tiny_data, root, "-q", "profile", "index", "--mode", "standard", "--seed", "9")).stdout.strip()
    stale = json.loads(ws.manifest_path.read_text())

    # an outside edit of the stale export: refused (it would lose `new` or the edit), naming `rp ws export`
    edited = copy.deepcopy(stale)
    next(iter(edited["entries"].values()))["status"] = "edited"
    good = ws.manifest_path.read_text()
    ws.manifest_path.write_text(json.dumps(edited))
    digest = tree_digest(root)
    r = _rp(tiny_data, root, "ls")
    assert r.exit_code == 3 and "changedoutsiderp" in squash(r.output) and "rpwsexport" in squash(r.output), r.output
    assert tree_digest(root) == digest, "a refusal changes nothing"
    ws.manifest_path.write_text(good)  # back as it was (another stamp, the same bytes): not an edit
    assert len(json.loads(_ok(_rp(tiny_data, root, "ls", "--json")).stdout)) == M.count_entries(ws)

    # a corrupt store: the hint names the export and says it may lack the latest records; following it after an
    # export recovers every record
    _ok(_rp(tiny_data, root, "ws", "export"))
    ids = sorted(M.load_manifest(ws)["entries"])
    for p in root.glob("manifest.db-*"):
        p.unlink()
    (root / "manifest.db").write_bytes(b"this is not a database" * 100)
    digest = tree_digest(root)
    r = _rp(tiny_data, root, "ls")
    assert r.exit_code == 3, r.output
    text = squash(r.output)
    for words in ("the last good copy is", str(ws.manifest_path), "records made after it are not in it",
                  "rp ws export"):
        assert squash(words) in text, (words, r.output)
    assert tree_digest(root) == digest
    (root / "manifest.db").rename(root / "manifest.db.broken")
    assert sorted(e["id"] for e in json.loads(_ok(_rp(tiny_data, root, "ls", "--json")).stdout)) == ids
    assert new in ids
    _ok(_rp(tiny_data, root, "-q", "profile", "index", "--mode", "standard", "--seed", "10"))
    assert (root / "manifest.db").exists() and M.count_entries(ws) == len(ids) + 1


def test_a_large_json_only_workspace_is_read_and_migrated_without_a_rewrite(tiny_data, tmp_path):
    root = tmp_path / "ws"
    ws = Workspace(root)
    _big(tiny_data, root)
    _ok(_rp(tiny_data, root, "ws", "export"))
    doc = json.loads(ws.manifest_path.read_text())
    old = {"schema": 1, "entries": doc["entries"]}  # what an older rp left: manifest.json only
    for p in root.glob("manifest.db*"):
        p.unlink()
    ws.manifest_path.write_text(json.dumps(old, indent=1))
    assert M.export_status(ws)["state"] == "record"
    assert len(json.loads(_ok(_rp(tiny_data, root, "ls", "--json")).stdout)) == len(old["entries"])
    assert not (root / "manifest.db").exists(), "reading migrates nothing"
    before = ws.manifest_path.read_bytes()
    new = _ok(_rp(tiny_data, root, "-q", "profile", "index", "--mode", "standard", "--seed", "9")).stdout.strip()
    assert (root / "manifest.db").exists() and ws.manifest_path.read_bytes() == before
    assert M.count_entries(ws) == len(old["entries"]) + 1 and M.lookup_entry(ws, new)
    assert M.export_status(ws)["state"] == "stale"
    _ok(_rp(tiny_data, root, "ws", "export"))
    doc2 = json.loads(ws.manifest_path.read_text())
    assert doc2["schema"] == M.SCHEMA and all(doc2["entries"][i] == e for i, e in old["entries"].items())
    assert os.path.getsize(ws.manifest_path) > len(before) // 2
