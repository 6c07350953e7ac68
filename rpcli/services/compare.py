"""rp compare: what the leaderboard needs from the dataset (the reference rows, computed by the core) and the
board itself (rpcli.workspace.leaderboard.board, the same function the dashboard calls on every reload)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from rpcli.services.base import Session
from rpcli.workspace.leaderboard import MODES, board, sort_rows
from rpcli.workspace.manifest import load_manifest

# Source files whose code decides the reference rows and the dataset summary: a change to any of them (size or
# modification time) changes the cache key of `dataset_view`.
_VIEW_CODE = ("core/data", "core/eval", "core/routers/evaluate.py", "services/compare.py", "_version.py")
VIEW_CACHE_FORMAT = "rp-leaderboard-view/1"


def dataset_view(sess: Session) -> dict:
    """What the leaderboard needs from the dataset: {data_hash, root, modes, summary, references (every mode, single
    models included), warnings}.

    Computing it loads and validates the whole dataset (and imports numpy); `rp compare` and the dashboard need
    nothing else from it. So it is kept in the workspace (``cache/view/<key>.json``) under a key made of the data
    folder, the size and modification time of every file in it, the overlap option and the size and modification
    time of the code that computes it: any change to the data or to that code computes it again. Nothing is written
    into a workspace that does not exist yet, and a cache that cannot be read or written is no error. The session
    keeps the view it got (one command reads it once)."""
    memo = getattr(sess, "_leaderboard_view", None)
    if memo is not None:
        return memo
    view = _cached_or_computed_view(sess)
    sess._leaderboard_view = view  # type: ignore[attr-defined]
    return view


def _cached_or_computed_view(sess: Session) -> dict:
    path = _view_cache_file(sess)
    if path is not None:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") == VIEW_CACHE_FORMAT:
                if doc["warnings"]:
                    sess.progress.note(f"the dataset has {doc['warnings']} warning(s); `rp data check` lists them")
                return doc
        except (OSError, ValueError, KeyError, TypeError):
            pass
    view = _compute_view(sess)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(view, sort_keys=True), encoding="utf-8")
            os.replace(tmp, path)
            old = sorted(path.parent.glob("*.json"), key=lambda f: f.stat().st_mtime_ns, reverse=True)
            for f in old[8:]:  # keep the views of the last few datasets / code versions
                f.unlink(missing_ok=True)
        except OSError:
            pass
    return view


def _compute_view(sess: Session) -> dict:
    from rpcli.core.data import default_data_root
    from rpcli.core.routers.evaluate import reference_rows as core_reference_rows

    ds = sess.dataset
    return {"format": VIEW_CACHE_FORMAT, "data_hash": ds.data_hash, "root": str(ds.root), "modes": list(ds.modes),
            "references": [{**r, "mode": mode} for mode in ds.modes for r in core_reference_rows(ds, mode)],
            "warnings": len(ds.warnings),
            "summary": {"name": ds.root.name,
                        "label": "embedded demo" if ds.root == default_data_root() else ds.root.name,
                        "root": str(ds.root), "candidates": list(ds.candidates), "n_test_rows": len(ds.test_rows),
                        "data_hash": ds.data_hash}}


def _view_cache_file(sess: Session) -> Path | None:
    """The cache file of `dataset_view` for this session (None: no workspace yet, or a dataset already loaded)."""
    if sess._dataset is not None or not sess.workspace.exists():
        return None
    from rpcli.core.data import default_data_root

    root = Path(sess.data_root or default_data_root()).resolve()
    if not root.is_dir():
        return None  # loading reports the missing folder
    h = hashlib.sha256(f"{root}|overlap={sess.keep_overlap}".encode())
    code = Path(__file__).resolve().parents[1]
    # the dataset is its two folders of the RouteProfile layout (the demo's root is the repository itself)
    trees = [(root, root / d, True) for d in ("profile_data", "route_data")]
    trees += [(code, code / c, False) for c in _VIEW_CODE]
    try:
        for base, t, is_data in trees:
            files = sorted(t.rglob("*")) if t.is_dir() else [t] if t.exists() else []
            h.update(f"|{t.relative_to(base)}:{len(files)}".encode())
            for f in files:
                rel = f.relative_to(base)
                if f.is_dir() or f.suffix == ".pyc" or (is_data and any(p.startswith(".") for p in rel.parts)):
                    continue
                st = f.stat()
                h.update(f"|{rel}:{st.st_size}:{st.st_mtime_ns}".encode())
    except OSError:
        return None
    return sess.workspace.root / "cache" / "view" / f"{h.hexdigest()[:32]}.json"


def reference_rows(sess: Session, modes=MODES, include_singles: bool = False) -> list[dict]:
    """The reference rows (and with ``include_singles`` the single models) of each mode the dataset has."""
    view = dataset_view(sess)
    return [r for mode in modes if mode in view["modes"] for r in view["references"]
            if r["mode"] == mode and (r["kind"] != "single" or include_singles)]


def compare_rows(sess: Session, modes=MODES, allow_mixed: bool = False, include_singles: bool = False) -> list[dict]:
    """Reference rows + the comparable recorded runs of ``modes``, flagged and in the printed order; the notice
    about held-back runs goes to the session's progress."""
    view = dataset_view(sess)
    b = board(reference_rows(sess, modes, include_singles), load_manifest(sess.workspace),
              data_hash=view["data_hash"], allow_mixed=allow_mixed, modes=modes, data_name=view["root"])
    if b.notice:
        sess.progress.warn(b.notice)
    return sort_rows(b.rows)


def dataset_summary(sess: Session) -> dict:
    """What the front ends show about the dataset: {name, label, root, candidates, n_test_rows, data_hash}."""
    return dict(dataset_view(sess)["summary"])
