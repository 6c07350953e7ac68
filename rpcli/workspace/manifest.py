"""The workspace manifest: one schema-versioned JSON file recording every graph, profile and run.

Only the coordinating process writes it, atomically (tmp file + os.replace) and under the workspace lock.
Entry shape: {id, kind, key, params, parents, inputs, outputs, data_hash, metrics, provenance,
created_at, duration_s, status}.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rpcli.errors import ArtifactNotFoundError, ManifestSchemaError, WorkspaceError
from rpcli.workspace.layout import Workspace
from rpcli.workspace.lock import WorkspaceLock

SCHEMA = 1

# Append-only list of (from_schema, function) migrations; each takes and returns a manifest dict.
MIGRATIONS: list = []


def empty_manifest() -> dict:
    return {"schema": SCHEMA, "entries": {}}


def load_manifest(ws: Workspace) -> dict:
    path = ws.manifest_path
    if not path.exists():
        return empty_manifest()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise WorkspaceError(f"cannot read the manifest {path}: {exc}",
                             hint="restore it from a backup, or move it away and rebuild") from None
    schema = doc.get("schema") if isinstance(doc, dict) else None  # a list or a number is not a manifest
    if not isinstance(schema, int):
        raise ManifestSchemaError(f"{path} has no integer 'schema' field")
    if schema > SCHEMA:
        raise ManifestSchemaError(
            f"{path} has schema {schema}, newer than this rp understands ({SCHEMA})",
            hint="upgrade rp to the version that wrote this workspace")
    for from_schema, migrate in MIGRATIONS:
        if doc["schema"] == from_schema:
            doc = migrate(doc)
    doc.setdefault("entries", {})
    return doc


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def save_manifest(ws: Workspace, doc: dict) -> None:
    _write_atomic(ws.manifest_path, json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def init_workspace(ws: Workspace) -> bool:
    """Create the workspace if missing. Returns True when it was created now."""
    if ws.manifest_path.exists():
        load_manifest(ws)  # schema check
        return False
    with WorkspaceLock(ws.lock_path):
        if not ws.manifest_path.exists():
            save_manifest(ws, empty_manifest())
            return True
    return False


def update_manifest(ws: Workspace, fn) -> dict:
    """Read-modify-write the manifest under the lock. `fn(doc)` mutates the doc in place."""
    with WorkspaceLock(ws.lock_path):
        doc = load_manifest(ws)
        fn(doc)
        save_manifest(ws, doc)
        return doc


def register_entry(ws: Workspace, entry: dict) -> None:
    def add(doc):
        doc["entries"][entry["id"]] = entry

    update_manifest(ws, add)


def remove_entry(ws: Workspace, artifact_id: str) -> None:
    update_manifest(ws, lambda doc: doc["entries"].pop(artifact_id, None))


def list_entries(ws: Workspace, kind: str | None = None) -> list[dict]:
    doc = load_manifest(ws)
    rows = [e for e in doc["entries"].values() if kind is None or e.get("kind") == kind]
    rows.sort(key=lambda e: (e.get("created_at", ""), e["id"]))
    return rows


def get_entry(ws: Workspace, ref: str, kind: str | None = None) -> dict:
    """Resolve an id or a unique id prefix (git style). `kind` restricts the search."""
    doc = load_manifest(ws)
    entries = doc["entries"]
    if ref in entries and (kind is None or entries[ref]["kind"] == kind):
        return entries[ref]
    candidates = [e for i, e in entries.items() if i.startswith(ref) and (kind is None or e["kind"] == kind)]
    if kind and not candidates and not ref.startswith(kind + "-"):
        candidates = [e for i, e in entries.items() if i.startswith(f"{kind}-{ref}") and e["kind"] == kind]
    what = kind or "artifact"
    if not candidates:
        raise ArtifactNotFoundError(f"no {what} matches {ref!r} in {ws.root}",
                                    hint=f"list them with `rp ls {kind + 's' if kind else ''}`".replace("  ", " "))
    if len(candidates) > 1:
        ids = ", ".join(sorted(e["id"] for e in candidates)[:8])
        raise ArtifactNotFoundError(f"{ref!r} is ambiguous: it matches {ids}", hint="give more characters of the id")
    return candidates[0]
