"""rp ws verify: re-hash every recorded output against the manifest and find orphans.

Problems found: an output that is missing, or whose size or sha256 differs from the manifest (`mismatch`); a
staging folder left under tmp/ by a killed build, or an artifact folder under graphs/, profiles/ or runs/ that the
manifest does not record (`orphan`). `fix=True` removes orphans only; recorded artifacts are never touched.
Reads the manifest through `load_manifest` (which refuses a truncated or hand-edited one with a clear message).
"""

from __future__ import annotations

import os
import shutil

from rpcli.workspace.hashing import sha256_file
from rpcli.workspace.layout import KIND_DIRS, Workspace
from rpcli.workspace.lock import WorkspaceLock, pid_alive
from rpcli.workspace.manifest import load_manifest


def _live_staging(name: str) -> bool:
    """Staging folders are named <id>.<pid> (or <id>.old.<pid>): one of a running process is not an orphan."""
    tail = name.rsplit(".", 1)[-1]
    return tail.isdigit() and int(tail) != os.getpid() and pid_alive(int(tail))


def _inside(rel) -> bool:
    """A recorded output path is relative, without '..' or NUL (rp writes only such paths)."""
    if not isinstance(rel, str) or not rel or "\0" in rel or rel.startswith(("/", "\\", "~")):
        return False
    return ".." not in rel.replace("\\", "/").split("/")


def verify_workspace(ws: Workspace, fix: bool = False) -> dict:
    doc = load_manifest(ws)
    entries = doc["entries"]
    mismatches = []
    checked = 0
    for aid in sorted(entries):
        for o in entries[aid].get("outputs", []):
            checked += 1
            rel = o.get("path") if isinstance(o, dict) else None
            if not _inside(rel):  # a hand-edited record: never read (or hash) a file outside the workspace
                mismatches.append({"id": aid, "path": str(rel), "problem": "not a path inside the workspace"})
                continue
            p = ws.root / rel
            if not p.is_file():
                mismatches.append({"id": aid, "path": o["path"], "problem": "missing"})
            elif p.stat().st_size != o.get("bytes"):
                mismatches.append({"id": aid, "path": o["path"], "problem": f"size {p.stat().st_size}, recorded "
                                                                            f"{o.get('bytes')}"})
            elif sha256_file(p) != o.get("sha256"):
                mismatches.append({"id": aid, "path": o["path"], "problem": "content changed (sha256 differs)"})
    orphans = []
    if ws.tmp_dir.is_dir():
        orphans += [{"path": p.relative_to(ws.root).as_posix(), "problem": "staging left by an unfinished build"}
                    for p in sorted(ws.tmp_dir.iterdir()) if not _live_staging(p.name)]
    for sub in sorted(set(KIND_DIRS.values())):
        d = ws.root / sub
        if d.is_dir():
            orphans += [{"path": p.relative_to(ws.root).as_posix(), "problem": "not recorded in the manifest"}
                        for p in sorted(d.iterdir()) if p.name not in entries]
    removed = []
    if fix and orphans:
        with WorkspaceLock(ws.lock_path):
            for o in orphans:
                p = ws.root / o["path"]
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
                else:
                    p.unlink(missing_ok=True)
                removed.append(o["path"])
    return {"root": str(ws.root), "artifacts": len(entries), "outputs_checked": checked, "mismatches": mismatches,
            "orphans": orphans, "removed": removed,
            "ok": not mismatches and len(removed) == len(orphans)}
