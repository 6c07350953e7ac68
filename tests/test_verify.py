"""rp ws verify (issue 13): re-hashes every recorded output, reports mismatches and orphans, exits 1 when anything
is wrong; --fix removes orphans only; a truncated or hand-edited manifest is refused naming the file."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from corpus import squash, tree_digest
from rpcli.cli.main import app

runner = CliRunner()


def _rp(tiny, ws, *args):
    return runner.invoke(app, ["-w", str(ws), "-d", str(tiny), "--encoder", "hash:32", "-q", *args])


def _built(tiny, ws):
    g = _rp(tiny, ws, "graph", "build", "task", "--mode", "standard")
    p = _rp(tiny, ws, "profile", "index", "--mode", "standard")
    assert g.exit_code == 0 and p.exit_code == 0, g.output + p.output
    return g.stdout.strip(), p.stdout.strip()


def test_clean_workspace_verifies(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    _built(tiny_data, ws)
    r = _rp(tiny_data, ws, "ws", "verify", "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 0 and doc["ok"] and doc["artifacts"] == 2 and doc["outputs_checked"] >= 2
    assert doc["mismatches"] == [] and doc["orphans"] == []


def test_mismatches_and_orphans_are_reported_and_fix_removes_orphans_only(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    gid, pid = _built(tiny_data, ws)
    man = json.loads((ws / "manifest.json").read_text())
    gout = man["entries"][gid]["outputs"][0]["path"]
    pout = man["entries"][pid]["outputs"][0]["path"]
    b = bytearray((ws / gout).read_bytes())
    b[-1] ^= 0xFF  # same size, other content
    (ws / gout).write_bytes(bytes(b))
    (ws / pout).unlink()
    (ws / "tmp" / "graph-0123456789.999999").mkdir(parents=True)  # a staging folder of a dead process
    (ws / "graphs" / "graph-abcdefabcd").mkdir()  # an artifact folder nobody recorded
    r = _rp(tiny_data, ws, "ws", "verify")
    assert r.exit_code == 1, r.output
    out = r.stdout
    assert f"mismatch {gid}: {gout}: content changed" in out and f"mismatch {pid}: {pout}: missing" in out
    assert "orphan tmp/graph-0123456789.999999" in out and "orphan graphs/graph-abcdefabcd" in out
    manifest_before = (ws / "manifest.json").read_bytes()
    f = _rp(tiny_data, ws, "ws", "verify", "--fix", "--json")
    doc = json.loads(f.stdout)
    assert f.exit_code == 1 and sorted(doc["removed"]) == ["graphs/graph-abcdefabcd", "tmp/graph-0123456789.999999"]
    assert not (ws / "graphs" / "graph-abcdefabcd").exists() and not (ws / "tmp" / "graph-0123456789.999999").exists()
    assert (ws / gout).exists() and (ws / "manifest.json").read_bytes() == manifest_before  # recorded: untouched
    again = json.loads(_rp(tiny_data, ws, "ws", "verify", "--json").stdout)
    assert again["orphans"] == [] and len(again["mismatches"]) == 2


def test_a_truncated_or_hand_edited_manifest_is_refused(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    _built(tiny_data, ws)
    text = (ws / "manifest.json").read_text()
    for broken in (text[: len(text) // 2], text.replace('"entries"', "entries", 1), "", '["not", "a", "manifest"]'):
        (ws / "manifest.json").write_text(broken)
        before = tree_digest(ws)
        for args in (["ws", "verify"], ["ls"], ["profile", "index", "--mode", "standard", "--seed", "3"]):
            r = _rp(tiny_data, ws, *args)
            assert r.exit_code == 3, (args, broken[:40], r.output)
            assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
            assert squash(str(ws / "manifest.json")) in squash(r.output), r.output
            assert tree_digest(ws) == before


def test_recorded_paths_outside_the_workspace_are_reported_not_read(tiny_data, tmp_path):
    """A hand-edited record whose output path leaves the workspace is a mismatch; the file is never opened."""
    ws = tmp_path / "ws"
    gid, _ = _built(tiny_data, ws)
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"secret")
    man = json.loads((ws / "manifest.json").read_text())
    man["entries"][gid]["outputs"] += [{"path": "../outside.bin", "sha256": "0" * 64, "bytes": 6},
                                       {"path": str(outside), "sha256": "0" * 64, "bytes": 6}]
    (ws / "manifest.json").write_text(json.dumps(man))
    r = _rp(tiny_data, ws, "ws", "verify", "--json")
    doc = json.loads(r.stdout)
    assert r.exit_code == 1
    assert sorted(m["path"] for m in doc["mismatches"]) == sorted(["../outside.bin", str(outside)])
    assert all(m["problem"] == "not a path inside the workspace" for m in doc["mismatches"])
