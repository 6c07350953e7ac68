"""The workspace manifest: the schema-versioned record of every graph, profile and run.

Store (step 11): `manifest.db`, SQLite from the standard library in WAL mode, one row per entry (its canonical JSON
text), so recording one artifact is one small transaction whatever the workspace holds. `manifest.json` is an export
in the format it always had ({"schema", "entries"}; canonical, indented JSON), plus "written_by" (the rp that wrote
it, also kept in the store's meta table: a manifest of a newer schema is refused naming it; older rp ignore the
field):

* it is rewritten after every write while the store holds at most EXPORT_SYNC_MAX entries (a small workspace, where
  that costs at most about 0.2 s, 1.8 ms per 12 KB run entry, keeps a current copy that people and older tools
  read); above that it is never rewritten automatically, only on demand by `rp ws export` (`export_manifest`),
  because the rewrite grows with the workspace (20-35 s for 10,000 runs) and every command paid it
  (bench/ws_scale.py). Above the threshold the file is therefore the export as of its last writing; the store's
  meta says which write that was (`export_status`);
* a workspace that has only `manifest.json` (written by an older rp or by hand) is read from it, and moved into the
  store transparently by the first write;
* an edit of `manifest.json` made outside rp (it is no longer the export the store last wrote: another stamp and
  other bytes; a copy of the workspace keeps the bytes and is not an edit) is honoured: readers read it, and the
  next write imports it into the store, when the export was current; when the store holds newer records than that
  export, the edit is refused with a message rather than silently losing either side.

Only the coordinating process writes, under the workspace lock. Entry shape: {id, kind, key, params, parents,
inputs, outputs, data_hash, metrics, provenance, created_at, duration_s, status}.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
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
# manifest.json is rewritten after every write while the store holds at most this many entries, else only by
# `rp ws export` (the module doc; bench/ws_scale.py measures both sides)
EXPORT_SYNC_MAX = 100

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
        return (f"the last good copy is the store {store}: move {path.name} away (e.g. to {path.name}.broken); rp "
                f"then reads the store, and `rp ws export` rewrites {path.name} from it (so does the next write "
                f"while the workspace holds at most {EXPORT_SYNC_MAX} entries)")
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


def dump_manifest(doc: dict) -> str:
    """The export's text of a manifest: canonical, indented JSON naming the rp that wrote it."""
    return json.dumps({**doc, "written_by": WRITTEN_BY}, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_dump = dump_manifest


def _write_tmp(path: Path, text: str) -> Path:
    """A fsynced temporary file beside `path` holding `text` (for os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:  # an interrupted write leaves nothing behind
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write_atomic(path: Path, text: str) -> None:
    """Write text to path atomically: a fsynced temporary file beside it, then os.replace."""
    os.replace(_write_tmp(path, text), path)


def _sha256(path: Path) -> str | None:
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


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
    s = _stamp(export)
    if s is None:
        return WorkspaceError(f"cannot read the manifest store {path}: {exc}",
                              hint=f"no export ({export.name}) exists to rebuild it from: restore {path.name} from a "
                                   "backup")
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(s[0] / 1e9))
    return WorkspaceError(f"cannot read the manifest store {path}: {exc}",
                          hint=f"the last good copy is {export}, the store's export as written at {when} (after "
                               f"every write while the workspace held at most {EXPORT_SYNC_MAX} entries, else by "
                               f"`rp ws export`; records made after it are not in it): move {path.name} away (e.g. "
                               f"to {path.name}.broken) and the next command rebuilds the store from that export")


def _create_store(ws: Workspace, doc: dict, json_stamp: list | None, json_sha256: str | None = None) -> None:
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
        conn.execute(_CREATED_INDEX)
        conn.executemany("INSERT INTO entries VALUES (?, ?, ?, ?)", [_row(e) for e in doc["entries"].values()])
        # generation counts writes; manifest.json is the export of write export_generation while it has the stamp
        # (mtime, size, inode) the store gave it, or (a copy of the workspace) the same size and sha256.
        _set_meta(conn, schema=SCHEMA, generation=0, export_generation=0 if json_stamp else -1,
                  export_stamp=json_stamp, export_sha256=json_sha256, written_by=WRITTEN_BY)
        conn.execute("COMMIT")
    finally:
        conn.close()
    os.replace(tmp, final)


# the newest N entries (`rp ls`) without a scan of the table; stores made before it get it at their next write
_CREATED_INDEX = "CREATE INDEX IF NOT EXISTS entries_created ON entries(created_at, id)"


def _read_store(conn: sqlite3.Connection, where: Path) -> dict:
    meta = _meta(conn)
    schema = meta.get("schema")
    entries = {i: json.loads(b) for i, b in conn.execute("SELECT id, body FROM entries")}
    return _check_schema({"schema": schema, "entries": entries}, where)


def _json_state(ws: Workspace, meta: dict) -> str:
    """What manifest.json is to the store: "absent"; "export" (the file the store last wrote: same stamp); "copy"
    (another stamp, the same bytes: a copy or restore of the workspace, e.g. `cp -r` or `cp -a`, whose stamp is to
    be recorded again); "foreign" (an edit made outside rp)."""
    s = _stamp(ws.manifest_path)
    if s is None:
        return "absent"
    known = meta.get("export_stamp")
    if s == known:
        return "export"
    if not isinstance(known, list) or len(known) < 2 or s[1] != known[1]:
        return "foreign"
    # the bytes are hashed only when the size is the export's (an edit nearly always changes it): once per copy,
    # whose stamp is then recorded
    if meta.get("export_sha256"):
        return "copy" if _sha256(ws.manifest_path) == meta["export_sha256"] else "foreign"
    # a store written before the hash was recorded: the same mtime (ns) and size, another inode, is a copy that
    # kept the times (cp -a, tar, rsync -a)
    return "copy" if s[0] == known[0] else "foreign"


def _json_is_foreign(ws: Workspace, meta: dict) -> bool:
    """True when manifest.json exists and is not the export the store last wrote (nor a copy of it)."""
    return _json_state(ws, meta) == "foreign"


def _conflict(ws: Workspace, meta: dict) -> WorkspaceError:
    return WorkspaceError(
        f"{ws.manifest_path} was changed outside rp, but the store {store_path(ws)} holds records newer than the "
        f"export that file was made from (write {meta.get('generation')} vs export {meta.get('export_generation')})",
        hint="to keep the store, move manifest.json away (`rp ws export` rewrites it); to keep your edit, move "
             f"manifest.db away. Above {EXPORT_SYNC_MAX} entries manifest.json is rewritten only by `rp ws export`: "
             "run it before editing the file")


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
    state = _json_state(ws, meta)
    if state == "copy":
        _restamp(ws, copy_stamp=_stamp(ws.manifest_path))  # best effort: the next reader compares stamps only
    elif state == "foreign":
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


def _restamp(ws: Workspace, copy_stamp: list | None = None) -> bool:
    """Record manifest.json's stamp as the store's export (takes the lock; False when that cannot be done now):
    as the export of the latest write (its content equals the store's), or with `copy_stamp` (the stamp of a
    file found to hold the recorded export's bytes) as that same export, when the file still has that stamp."""
    try:
        with WorkspaceLock(ws.lock_path, timeout=1.0):
            conn = _connect(store_path(ws))
            try:
                if copy_stamp is None:
                    _set_meta(conn, export_generation=_meta(conn).get("generation"),
                              export_stamp=_stamp(ws.manifest_path), export_sha256=_sha256(ws.manifest_path))
                elif _stamp(ws.manifest_path) == copy_stamp:
                    _set_meta(conn, export_stamp=copy_stamp)
            finally:
                conn.close()
        return True
    except (WorkspaceError, sqlite3.Error, OSError):  # e.g. a workspace on a read-only disk: nothing recorded
        return False


def _open_write(ws: Workspace) -> sqlite3.Connection:
    """The store, ready to write (the caller holds the lock): created from manifest.json when missing (the
    transparent migration of a JSON workspace), outside edits of manifest.json imported, old schemas migrated."""
    path = store_path(ws)
    if not path.exists():
        if ws.manifest_path.exists():
            # the store starts as a copy of the file: that file counts as its export until the next write
            stamp = _stamp(ws.manifest_path)
            _create_store(ws, _load_json(ws.manifest_path), stamp, _sha256(ws.manifest_path))
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
    state = _json_state(ws, meta)
    if state == "copy":
        _set_meta(conn, export_stamp=_stamp(ws.manifest_path))
    elif state == "foreign":
        doc = _load_json(ws.manifest_path)
        if meta.get("export_generation") != meta.get("generation") and _read_store(conn, path) != doc:
            conn.close()
            raise _conflict(ws, meta)
        _replace_all(conn, doc, meta)  # bumps meta["generation"]
        _set_meta(conn, export_generation=meta["generation"], export_stamp=_stamp(ws.manifest_path),
                  export_sha256=_sha256(ws.manifest_path))
    elif schema < SCHEMA:
        _replace_all(conn, _read_store(conn, path), meta)
    conn.execute(_CREATED_INDEX)
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
    text = _dump(_read_store(conn, store_path(ws)))
    write_atomic(ws.manifest_path, text)
    _set_meta(conn, export_generation=_meta(conn).get("generation"), export_stamp=_stamp(ws.manifest_path),
              export_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())


def _after_write(ws: Workspace, conn: sqlite3.Connection) -> None:
    """Keep the export current while the workspace is small (the module doc); above that, leave it as it is."""
    if conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0] <= EXPORT_SYNC_MAX:
        _export(ws, conn)


def export_manifest(ws: Workspace, out: Path | str | None = None, only_if_stale: bool = False) -> dict:
    """Write the manifest as JSON now: the workspace's manifest.json (its export; `rp ws export`), or `out`.

    The export of a large store is written outside the workspace lock (writers go on meanwhile; the file holds the
    store as of one write, which its meta records) and moved into place under it. `only_if_stale`: leave a current
    export alone. A workspace without a store has manifest.json as its record: it is left as it is.

    Returns {"path", "entries", "bytes", "generation", "written", "seconds"}; raises WorkspaceError when
    manifest.json was edited outside rp in a way the store cannot take (as a write would)."""
    t0 = time.perf_counter()
    target = Path(out) if out is not None else ws.manifest_path
    path = store_path(ws)
    to_ws = target.resolve() == ws.manifest_path.resolve()

    def report(n: int, gen, written: bool) -> dict:
        size = target.stat().st_size if target.exists() else 0
        return {"path": str(target), "entries": n, "bytes": size, "generation": gen, "written": written,
                "seconds": round(time.perf_counter() - t0, 3)}

    if not ws.exists():
        raise WorkspaceError(f"no workspace at {ws.root}: nothing to export", hint="check --workspace / RP_WORKSPACE")
    if not to_ws or not path.exists():
        doc = load_manifest(ws)  # a consistent read of the store (or of manifest.json, the record without one)
        if to_ws:
            return report(len(doc["entries"]), None, False)
        write_atomic(target, _dump(doc))
        return report(len(doc["entries"]), None, True)
    with WorkspaceLock(ws.lock_path):
        conn = _open_write(ws)  # an outside edit of manifest.json is imported, or refused, first
        try:
            meta = _meta(conn)
        finally:
            conn.close()
    if only_if_stale and meta.get("export_generation") == meta.get("generation") \
            and _json_state(ws, meta) in ("export", "copy"):
        return report(count_entries(ws), meta.get("generation"), False)
    conn = _connect(path)
    try:
        conn.execute("BEGIN")  # one read transaction: the generation and the entries of the same write
        gen = _meta(conn).get("generation")
        doc = _read_store(conn, path)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        raise _store_error(path, exc) from None
    finally:
        conn.close()
    text = _dump(doc)
    tmp = _write_tmp(ws.manifest_path, text)
    try:
        with WorkspaceLock(ws.lock_path):
            conn = _connect(path)
            try:
                meta = _meta(conn)
                if _json_state(ws, meta) == "foreign":
                    raise WorkspaceError(f"{ws.manifest_path} was changed outside rp while it was being exported",
                                         hint="run `rp ws export` again (it imports or refuses the edit first)")
                newer = meta.get("export_generation")
                if isinstance(newer, int) and newer > gen:  # a newer export landed meanwhile: keep it
                    return report(len(doc["entries"]), newer, False)
                os.replace(tmp, ws.manifest_path)
                _set_meta(conn, export_generation=gen, export_stamp=_stamp(ws.manifest_path),
                          export_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
            finally:
                conn.close()
    finally:
        if tmp.exists():
            tmp.unlink()
    return report(len(doc["entries"]), gen, True)


def export_status(ws: Workspace) -> dict:
    """Whether manifest.json is current: {"path", "store", "entries", "generation", "export_generation",
    "state", "sync_max"}. state: "current" (the export of the latest write), "stale" (of an earlier write: the
    workspace holds more than EXPORT_SYNC_MAX entries; `rp ws export` rewrites it), "edited" (changed outside
    rp), "absent", or "record" (no store: manifest.json is the record itself)."""
    out = {"path": str(ws.manifest_path), "store": store_path(ws).exists(), "sync_max": EXPORT_SYNC_MAX,
           "generation": None, "export_generation": None}
    if not out["store"]:
        out["state"] = "record" if ws.manifest_path.exists() else "absent"
        out["entries"] = len(load_manifest(ws)["entries"]) if ws.manifest_path.exists() else 0
        return out
    conn, meta = _open_store(store_path(ws))
    try:
        out["entries"] = conn.execute("SELECT COUNT(*) FROM entries").fetchone()[0]
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()
    out["generation"], out["export_generation"] = meta.get("generation"), meta.get("export_generation")
    state = _json_state(ws, meta)
    out["state"] = ("absent" if state == "absent" else "edited" if state == "foreign"
                    else "current" if out["export_generation"] == out["generation"] else "stale")
    return out


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


def register_entries(ws: Workspace, entries) -> None:
    """Record (or replace) many entries in one transaction."""
    rows = [_row(e) for e in entries]
    _write(ws, lambda conn: conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", rows))


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


def list_entries(ws: Workspace, kind: str | None = None, limit: int | None = None) -> list[dict]:
    """The entries (of `kind`), oldest first by (created_at, id); with `limit`, the newest `limit` of them (still
    oldest first), read through an index: what is read grows with `limit`, not with the workspace."""
    if limit is not None and limit <= 0:
        return []
    conn, _ = _open_read(ws)
    if conn is None:
        rows = [e for e in load_manifest(ws)["entries"].values() if kind is None or e.get("kind") == kind]
        rows.sort(key=lambda e: (e.get("created_at", ""), e["id"]))
        return rows if limit is None else rows[-limit:]
    where, args = (" WHERE kind = ?", (kind,)) if kind is not None else ("", ())
    if limit is None:
        sql, params = f"SELECT body FROM entries{where} ORDER BY created_at, id", args
    else:
        sql, params = f"SELECT body FROM entries{where} ORDER BY created_at DESC, id DESC LIMIT ?", (*args, limit)
    try:
        bodies = conn.execute(sql, params).fetchall()
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()
    rows = [json.loads(b) for (b,) in bodies]
    if limit is not None:
        rows.reverse()
    return rows


def count_entries(ws: Workspace, kind: str | None = None) -> int:
    """How many entries (of `kind`) the manifest holds (counted on an index of the store)."""
    conn, _ = _open_read(ws)
    if conn is None:
        return sum(1 for e in load_manifest(ws)["entries"].values() if kind is None or e.get("kind") == kind)
    where, args = (" WHERE kind = ?", (kind,)) if kind is not None else ("", ())
    try:
        return conn.execute(f"SELECT COUNT(*) FROM entries{where}", args).fetchone()[0]
    except sqlite3.Error as exc:
        raise _store_error(store_path(ws), exc) from None
    finally:
        conn.close()


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
