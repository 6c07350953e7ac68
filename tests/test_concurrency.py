"""Concurrency (issue 13): N >= 8 `rp` processes building different artifacts into one workspace at once all
complete; every record lands exactly once (none lost, none duplicated) and the workspace verifies."""

from __future__ import annotations

import json
import subprocess
import sys

N = 8


def test_eight_writers_lose_nothing(tiny_data, tmp_path):
    ws = tmp_path / "ws"
    base = [sys.executable, "-m", "rpcli", "-w", str(ws), "-d", str(tiny_data), "--encoder", "hash:32", "-q"]
    procs = [subprocess.Popen([*base, "profile", "index", "--mode", "standard", "--seed", str(i)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for i in range(N)]
    results = [(p, *p.communicate(timeout=600)) for p in procs]
    for p, out, err in results:
        assert p.returncode == 0 and "Traceback" not in err, err
    ids = [out.strip() for _, out, _ in results]
    assert len(set(ids)) == N, "each seed is a different recipe"
    entries = json.loads((ws / "manifest.json").read_text())["entries"]
    profiles = [e for e in entries.values() if e["kind"] == "profile"]
    assert sorted(e["id"] for e in profiles) == sorted(ids), "no record lost, none duplicated"
    v = subprocess.run([*base, "ws", "verify", "--json"], capture_output=True, text=True, timeout=300)
    doc = json.loads(v.stdout)
    assert v.returncode == 0 and doc["ok"] and doc["orphans"] == [] and doc["mismatches"] == []
