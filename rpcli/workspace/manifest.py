"""The workspace manifest: the schema-versioned record of every graph, profile and run.

Store (step 11): `manifest.db`, SQLite from the standard library in WAL mode, one row per entry (its canonical JSON
text), so recording one artifact is one small transaction whatever the workspace holds. `manifest.json` is kept as
an export in the format it always had ({"schema", "entries"}; canonical, indented JSON), plus "written_by" (the rp
that wrote it, also kept in the store's meta table: a manifest of a newer schema is refused naming it; older rp
ignore the field):

* it is rewritten after every write while the store holds at most EXPORT_SYNC_MAX entries; above that it is
  rewritten once when the writing process exits (and by `export_manifest`), because rewriting a large JSON file
  per record is what made the JSON manifest slow (docs/benchmarks.md);
* a workspace that has only `manifest.json` (written by an older rp or by hand) is read from it, and moved into the
  store transparently by the first write;
* an edit of `manifest.json` made outside rp (it no longer matches the export the store last wrote) is honoured:
  readers read it, and the next write imports it into the store, when the export was current; when the store holds
  newer records than that export, the edit is refused with a message rather than silently losing either side.

Only the coordinating process writes, under the workspace lock. Entry shape: {id, kind, key, params, parents,
inputs, outputs, data_hash, metrics, provenance, created_at, duration_s, status}.
"""

from __future__ import annotations

import atexit
import json
import os
import sqlite3
from pathlib import Path

from rpcli._version import __version__
from rpcli.errors import ArtifactNotFoundError, ConfigError, ManifestSchemaError, WorkspaceError
from rpcli.workspace.layout import Workspace
from rpcli.workspace.lock import WorkspaceLock

# 2: the store of record moved into manifest.db (manifest.json became its export); entries are unchanged.
SCHEMA = 2

# Append-only list of (from_schema, function) migrations; each takes and returns a manifest dict.
MIGRATIONS: list = [(1, lambda doc: {**doc, "schema": 2})]

STORE_NAME = "manifest.db"
EXPORT_SYNC_MAX = 100  # rewrite manifest.json after every write up to this many entries (bench/manifest_speed.py)

_PENDING_EXPORTS: set[Path] = set()

WRITTEN_BY = f"rp {__version__}"  # recorded in the store's meta and in the export: names the writer of a manifest


def _newer(where: Path, schema, written_by) -> ManifestSchemaError:
    who = written_by if isinstance(written_by, str) and written_by else "a newer rp (its version is not recorded)"
    return ManifestSchemaError(
        f"{where} was written by {who} with manifest schema {schema}, newer than this rp ({WRITTEN_BY}) "
        f"understands (schema {SCHEMA} and older)",
        hint=f"upgrade rp to {who if written_by else 'the version that wrote this workspace'} or newer; "
             "this rp changed nothing")


def empty_manifest() -> dict:
    return {"schema": SCHEMA, "entries": {}}


def store_path(ws: Workspace) -> Path:
    return ws.root / STORE_NAME


# ----------------------------------------------------------------------------------------------------- JSON file
def _check_schema(doc, where: Path) -> dict:
    if not isinstance(doc, dict):
        raise ManifestSchemaError(f"{where} is not a JSON object with 'schema' and 'entries'")
    schema = doc.get("schema")
    written_by = doc.pop("written_by", None)
    if not isinstance(schema, int) or isinstance(schema, bool):
        raise ManifestSchemaError(f"{where} has no integer 'schema' field")
    if schema > SCHEMA:
        raise _newer(where, schema, written_by)
    for from_schema, migrate in MIGRATIONS:
        if doc["schema"] == from_schema:
            doc = migrate(doc)
    doc.setdefault("entries", {})
    if not isinstance(doc["entries"], dict):
        raise ManifestSchemaError(f"{where}: 'entries' is not an object of id -> entry")
    return doc


def _last_good_hint(path: Path) -> str:
    """Where the last good copy of a refused manifest.json is (said in the error)."""
    store = path.with_name(STORE_NAME)
    if store.exists():
        return (f"the last good copy is the store {store}: move {path.name} away (e.g. to {path.name}.broken) and "
                f"the next rp command rewrites it from the store")
    return "no other copy exists in this workspace: restore the file from a backup, or move it away and rebuild"


def _load_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WorkspaceError(f"cannot read the manifest {path}: {exc}", hint=_last_good_hint(path)) from None
    try:
        return _check_schema(doc, path)
    except ManifestSchemaError as exc:
        if "newer than this rp" in exc.message:
            raise
        raise ManifestSchemaError(exc.message, hint=_last_good_hint(path)) from None


def _dump(doc: dict) -> str:
    return json.dumps({**doc, "written_by": WRITTEN_BY}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_atomic(path: Path, text: str) -> None:
    """Write text to path atomically: a fsynced temporary file beside it, then os.replace."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _stamp(path: Path) -> list | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def manifest_stamp(ws: Workspace) -> tuple | None:
    """A cheap value that changes whenever the manifest changes (store or export), None when there is neither:
    for readers that poll (the dashboard)."""
    out = []
    for p in (ws.manifest_path, store_path(ws), store_path(ws).with_name(STORE_NAME + "-wal")):
        s = _stamp(p)
        out.append(tuple(s[:2]) if s else None)
    return None if out == [None, None, None] else tuple(out)


# ----------------------------------------------------------------------------------------------------- the store
def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _meta(conn: sqlite3.Connection) -> dict:
    return {k: json.loads(v) for k, v in conn.execute("SELECT key, value FROM meta")}


def _set_meta(conn: sqlite3.Connection, **values) -> None:
    conn.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                     [(k, json.dumps(v)) for k, v in values.items()])


def _row(entry: dict) -> tuple:
    return (entry["id"], entry.get("kind"), entry.get("created_at") or "",
            json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")))


def _store_error(path: Path, exc: Exception) -> WorkspaceError:
    export = path.with_name("manifest.json")
    where = (f"the last good copy is {export} (the store's export, rewritten after every write)" if export.exists()
             else f"no export ({export.name}) exists to rebuild it from")
    return WorkspaceError(f"cannot read the manifest store {path}: {exc}",
                          hint=f"{where}: move {path.name} away (e.g. to {path.name}.broken) and the next command "
                               "rebuilds the store from that export")


def _create_store(ws: Workspace, doc: dict, json_stamp: list | None) -> None:
    """Write a new store holding `doc` (atomically: built beside and moved into place)."""
    final = store_path(ws)
    tmp = final.with_name(f"{STORE_NAME}.{os.getpid()}.tmp")
    for p in (tmp, tmp.with_name(tmp.name + "-wal"), tmp.with_name(tmp.name + "-shm"), tmp.with_name(tmp.name + "-journal")):
        if p.exists():
            p.unlink()
    conn = _connect(tmp)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("BEGIN")
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("CREATE TABLE entries (id TEXT PRIMARY KEY, kind TEXT, created_at TEXT NOT NULL, "
                     "body TEXT NOT NULL)")
        conn.execute("CREATE INDEX entries_kind ON entries(kind, created_at, id)")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", [_row(e) for e in doc["entries"].values()])
        # generation counts writes; the export is current when export_generation == generation and manifest.json
        # still has the stamp (mtime, size, inode) the store gave it.
        _set_meta(conn, schema=SCHEMA, generation=0, export_generation=0 if json_stamp else -1,
                  export_stamp=json_stamp, written_by=WRITTEN_BY)
        conn.execute("COMMIT")
    finally:
        conn.close()
    os.replace(tmp, final)


def _read_store(conn: sqlite3.Connection, where: Path) -> dict:
    meta = _meta(conn)
    schema = meta.get("schema")
    entries = {i: json.loads(b) for i, b in conn.execute("SELECT id, body FROM entries")}
    return _check_schema({"schema": schema, "entries": entries}, where)


def _json_is_foreign(ws: Workspace, meta: dict) -> bool:
    """True when manifest.json exists and is not the export the store last wrote."""
    s = _stamp(ws.manifest_path)
    return s is not None and s != meta.get("export_stamp")


def _conflict(ws: Workspace, meta: dict) -> WorkspaceError:
    return WorkspaceError(
        f"{ws.manifest_path} was changed outside rp, but the store {store_path(ws)} holds records newer than the "
        f"export that file was made from (write {meta.get('generation')} vs export {meta.get('export_generation')})",
        hint="to keep the store, move manifest.json away (rp rewrites it); to keep your edit, move manifest.db away")


def _open_store(path: Path):
    """(connection, meta) of the store at `path`; a SQLite error becomes the store's WorkspaceError."""
    try:
        conn = _connect(path)
        return conn, _meta(conn)
    except sqlite3.Error as exc:
        raise _store_error(path, exc) from None


def _open_read(ws: Workspace):
    """(connection, meta) for reading the store, or (None, None) when manifest.json is to be read instead
    (no store yet, or an outside edit of the export that the store has not imported)."""
    path = store_path(ws)
    if not path.exists():
        return None, None
    conn, meta = _open_store(path)
    schema = meta.get("schema")
    if isinstance(schema, int) and schema > SCHEMA:
        conn.close()
        raise _newer(path, schema, meta.get("written_by"))
    if _json_is_foreign(ws, meta):
        if meta.get("export_generation") == meta.get("generation"):
            conn.close()
            return None, None
        doc = _load_json(ws.manifest_path)  # an export interrupted before its stamp was recorded reads the same
        same = _read_store(conn, path) == doc
        conn.close()
        if same:
            return _open_read(ws) if _restamp(ws) else (None, None)
        raise _conflict(ws, meta)
    return conn, meta


def _restamp(ws: Workspace) -> bool:
    """Record manifest.json's stamp as the store's export (its content equals the store's). Needs the lock."""
    try:
        with WorkspaceLock(ws.lock_path, timeout=1.0):
            conn = _connect(store_path(ws))
            try:
                g = _meta(conn).get("generation")
                _set_meta(conn, export_generation=g, export_stamp=_stamp(ws.manifest_path))
            finally:
                conn.close()
        return True
    except (WorkspaceError, sqlite3.Error):
        return False


def _open_write(ws: Workspace) -> sqlite3.Connection:
    """The store, ready to write (the caller holds the lock): created from manifest.json when missing (the
    transparent migration of a JSON workspace), outside edits of manifest.json imported, old schemas migrated."""
    path = store_path(ws)
    if not path.exists():
        if ws.manifest_path.exists():
            # the store starts as a copy of the file: that file counts as its export until the next write
            _create_store(ws, _load_json(ws.manifest_path), _stamp(ws.manifest_path))
        else:
            _create_store(ws, empty_manifest(), None)
    conn, meta = _open_store(path)
    schema = meta.get("schema")
    if not isinstance(schema, int):
        conn.close()
        raise _store_error(path, ValueError("its meta table has no integer schema"))
    if schema > SCHEMA:
        conn.close()
        raise _newer(path, schema, meta.get("written_by"))
    if _json_is_foreign(ws, meta):
        doc = _load_json(ws.manifest_path)
        if meta.get("export_generation") != meta.get("generation") and _read_store(conn, path) != doc:
            conn.close()
            raise _conflict(ws, meta)
        _replace_all(conn, doc, meta)  # bumps meta["generation"]
        _set_meta(conn, export_generation=meta["generation"], export_stamp=_stamp(ws.manifest_path))
    elif schema < SCHEMA:
        _replace_all(conn, _read_store(conn, path), meta)
    return conn


def _replace_all(conn: sqlite3.Connection, doc: dict, meta: dict) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM entries")
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", [_row(e) for e in doc["entries"].values()])
        gen = meta.get("generation", 0) + 1
        _set_meta(conn, schema=SCHEMA, generation=gen, written_by=WRITTEN_BY)
        meta["generation"] = gen
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _export(ws: Workspace, conn: sqlite3.Connection) -> None:
    """Rewrite manifest.json from the store and record its stamp (the caller holds the lock)."""
    doc = _read_store(conn, store_path(ws))
    write_atomic(ws.manifest_path, _dump(doc))
    _set_meta(conn, export_generation=_meta(conn).get("generation"), export_stamp=_stamp(ws.manifest_path))


def _after_write(ws: Workspace, conn: sqlite3.Connection) -> None:
    n = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    if n <= EXPORT_SYNC_MAX:
        _export(ws, conn)
    else:
        if not _PENDING_EXPORTS:
            atexit.register(_export_pending)
        _PENDING_EXPORTS.add(ws.root)


def _export_pending() -> None:
    for root in sorted(_PENDING_EXPORTS):
        try:
            export_manifest(Workspace(root), only_if_stale=True)
        except Exception:  # noqa: BLE001 - the store is the record; a missed export is redone by the next write
            pass
    _PENDING_EXPORTS.clear()


def export_manifest(ws: Workspace, only_if_stale: bool = False) -> bool:
    """Rewrite manifest.json from the store now. Returns True when it was written."""
    if not store_path(ws).exists():
        return False
    with WorkspaceLock(ws.lock_path):
        conn = _open_write(ws)
        try:
            meta = _meta(conn)
            if only_if_stale and meta.get("export_generation") == meta.get("generation") \
                    and not _json_is_foreign(ws, meta):
                return False
            _export(ws, conn)
            return True
        finally:
            conn.close()


def _write(ws: Workspace, apply) -> None:
    """One write transaction under the workspace lock: `apply(conn)` runs inside it; the generation is bumped."""
    with WorkspaceLock(ws.lock_path):
        conn = _open_write(ws)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                apply(conn)
                conn.execute("UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) WHERE key = 'generation'")
                _set_meta(conn, written_by=WRITTEN_BY)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            _after_write(ws, conn)
        finally:
            conn.close()


# ----------------------------------------------------------------------------------------------------- public API
def load_manifest(ws: Workspace) -> dict:
    """The whole manifest {schema, entries} (from the store, or from manifest.json; see the module doc)."""
    conn, _ = _open_read(ws)
    if conn is None:
        if not ws.manifest_path.exists():
            return empty_manifest()
        return _load_json(ws.manifest_path)
    try:
        return _read_store(conn, store_path(ws))
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()


def _check_readable(ws: Workspace) -> None:
    """The schema checks of load_manifest without reading every entry of the store."""
    conn, meta = _open_read(ws)
    if conn is None:
        load_manifest(ws)
        return
    conn.close()
    schema = meta.get("schema")
    if not isinstance(schema, int):
        raise ManifestSchemaError(f"{store_path(ws)} has no integer schema")


def save_manifest(ws: Workspace, doc: dict) -> None:
    """Replace the whole manifest with `doc` (the caller holds the workspace lock)."""
    doc = _check_schema(dict(doc), ws.manifest_path)
    conn = _open_write(ws)
    try:
        _replace_all(conn, doc, _meta(conn))
        _after_write(ws, conn)
    finally:
        conn.close()


def init_workspace(ws: Workspace) -> bool:
    """Create the workspace if missing. Returns True when it was created now."""
    if ws.manifest_path.exists() or store_path(ws).exists():
        _check_readable(ws)
        return False
    with WorkspaceLock(ws.lock_path):
        if not ws.manifest_path.exists() and not store_path(ws).exists():
            conn = _open_write(ws)
            try:
                _export(ws, conn)
            finally:
                conn.close()
            return True
    return False


def update_manifest(ws: Workspace, fn) -> dict:
    """Read-modify-write the manifest under the lock. `fn(doc)` mutates the doc in place."""
    out: dict = {}

    def apply(conn) -> None:
        doc = _read_store(conn, store_path(ws))
        before = {i: _row(e) for i, e in doc["entries"].items()}
        fn(doc)
        after = {i: _row(e) for i, e in doc["entries"].items()}
        conn.executemany("DELETE FROM entries WHERE id = ?", [(i,) for i in before if i not in after])
        conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)",
                         [r for i, r in after.items() if before.get(i) != r])
        out["doc"] = doc

    _write(ws, apply)
    return out["doc"]


def register_entry(ws: Workspace, entry: dict) -> None:
    """Record (or replace) one entry: one transaction, whatever the workspace holds."""
    row = _row(entry)
    _write(ws, lambda conn: conn.execute("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", row))


def remove_entry(ws: Workspace, artifact_id: str) -> None:
    _write(ws, lambda conn: conn.execute("DELETE FROM entries WHERE id = ?", (artifact_id,)))


def lookup_entry(ws: Workspace, artifact_id: str) -> dict | None:
    """The entry with exactly this id, or None (one indexed read from the store)."""
    conn, _ = _open_read(ws)
    if conn is None:
        return load_manifest(ws)["entries"].get(artifact_id)
    try:
        row = conn.execute("SELECT body FROM entries WHERE id = ?", (artifact_id,)).fetchone()
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()
    return json.loads(row[0]) if row else None


def list_entries(ws: Workspace, kind: str | None = None) -> list[dict]:
    doc = load_manifest(ws)
    rows = [e for e in doc["entries"].values() if kind is None or e.get("kind") == kind]
    rows.sort(key=lambda e: (e.get("created_at", ""), e["id"]))
    return rows


def _prefix_matches(ws: Workspace, prefix: str) -> list[dict]:
    conn, _ = _open_read(ws)
    if conn is None:
        return [e for i, e in load_manifest(ws)["entries"].items() if i.startswith(prefix)]
    try:
        rows = conn.execute("SELECT body FROM entries WHERE id >= ? AND id < ?",
                            (prefix, prefix + "\U0010ffff")).fetchall()
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()
    return [e for e in (json.loads(b) for (b,) in rows) if e["id"].startswith(prefix)]


def get_entry(ws: Workspace, ref: str, kind: str | None = None) -> dict:
    """Resolve an id or a unique id prefix (git style). `kind` restricts the search. An empty (or blank) ref is
    refused: as a prefix it would match every artifact."""
    if not isinstance(ref, str) or not ref.strip():
        what = kind or "artifact"
        raise ConfigError(f"an empty {what} id matches every {what}: give an id or a unique prefix of one",
                          hint=f"list them with `rp ls{' ' + kind + 's' if kind else ''}`")
    exact = lookup_entry(ws, ref)
    if exact is not None and (kind is None or exact["kind"] == kind):
        return exact
    candidates = [e for e in _prefix_matches(ws, ref) if kind is None or e["kind"] == kind]
    if kind and not candidates and not ref.startswith(kind + "-"):
        candidates = [e for e in _prefix_matches(ws, f"{kind}-{ref}") if e["kind"] == kind]
    what = kind or "artifact"
    if not candidates:
        raise ArtifactNotFoundError(f"no {what} matches {ref!r} in {ws.root}",
                                    hint=f"list them with `rp ls {kind + 's' if kind else ''}`".replace("  ", " "))
    if len(candidates) > 1:
        ids = ", ".join(sorted(e["id"] for e in candidates)[:8])
        raise ArtifactNotFoundError(f"{ref!r} is ambiguous: it matches {ids}", hint="give more characters of the id")
    return candidates[0]
