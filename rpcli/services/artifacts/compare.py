"""rp compare: what the leaderboard needs from the dataset (the reference rows, computed by the core) and from the
registry (the label defaults), and the board itself (rpcli.workspace.leaderboard.board, the same function the
dashboard calls on every reload)."""

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
_VIEW_CODE = ("core/data", "core/eval", "core/routers/evaluate.py", "services/artifacts/compare.py", "_version.py")
VIEW_CACHE_FORMAT = "rp-leaderboard-view/3"  # 3: + unpriced
PAIRED_FORMAT = "rp-paired/1"


def dataset_view(sess: Session) -> dict:
    """What the leaderboard needs from the dataset: {data_hash, root, modes, summary, references (every mode, single
    models included), warnings, unpriced (the candidates without a price)}.

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

    from rpcli.core.eval.paired import per_task_train_rows

    ds = sess.dataset
    return {"format": VIEW_CACHE_FORMAT, "data_hash": ds.data_hash, "root": str(ds.root), "modes": list(ds.modes),
            "paired_baseline": {mode: per_task_train_rows(ds, mode) for mode in ds.modes},
            "references": [{**r, "mode": mode} for mode in ds.modes for r in core_reference_rows(ds, mode)],
            "warnings": len(ds.warnings), "unpriced": list(ds.unpriced),
            "summary": {"name": ds.root.name, "unpriced": list(ds.unpriced),
                        "label": "embedded demo" if ds.root == default_data_root() else ds.root.name,
                        "root": str(ds.root), "candidates": list(ds.candidates), "n_test_rows": len(ds.test_rows),
                        "data_hash": ds.data_hash}}


def _view_cache_file(sess: Session) -> Path | None:
    """The cache file of `dataset_view` for this session (None: no workspace yet, or a dataset already loaded)."""
    if sess.dataset_loaded or not sess.workspace.exists():
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


def label_defaults() -> dict:
    """The label data of the results view (rpcli.core.registry.label_defaults): every router's and profile
    method's option defaults, their display order and the routers' titles. The workspace layer and the dashboard
    cannot import the registry, so the front ends pass this to them as plain data."""
    from rpcli.core.registry import label_defaults as registry_defaults

    return registry_defaults()


def reference_rows(sess: Session, modes=MODES, include_singles: bool = False) -> list[dict]:
    """The reference rows (and with ``include_singles`` the single models) of each mode the dataset has, each with
    the dataset's candidates without a price (``unpriced_candidates``: its costs are computed without theirs)."""
    view = dataset_view(sess)
    unpriced = list(view.get("unpriced") or [])
    return [{**r, "unpriced_candidates": unpriced} for mode in modes if mode in view["modes"]
            for r in view["references"] if r["mode"] == mode and (r["kind"] != "single" or include_singles)]


def compare_rows(sess: Session, modes=MODES, allow_mixed: bool = False, include_singles: bool = False,
                 paired: bool = False) -> list[dict]:
    """Reference rows + the comparable recorded runs of ``modes``, flagged and in the printed order; the notice
    about held-back runs goes to the session's progress. ``paired``: each run row of this dataset also gets
    `paired_delta` and `paired_ci` (its seed-averaged per-row performance minus per-task-best (train)'s on the same
    test rows, paired bootstrap 95% interval; rpcli.core.eval.paired), cached per run in cache/paired."""
    view = dataset_view(sess)
    manifest = load_manifest(sess.workspace)
    b = board(reference_rows(sess, modes, include_singles), manifest, data_hash=view["data_hash"],
              allow_mixed=allow_mixed, modes=modes, data_name=view["root"], defaults=label_defaults(),
              unpriced=view.get("unpriced") or [])
    if b.notice:
        sess.progress.warn(b.notice)
    if view.get("unpriced"):
        sess.progress.warn(f"candidates without a price: {', '.join(view['unpriced'])}; costs and cost-quality "
                           "curves are computed without their cost (`rp data check` lists them)")
    rows = sort_rows(b.rows)
    if paired:
        entries = manifest.get("entries", {})
        for r in rows:
            e = entries.get(r.get("id")) if r.get("kind") == "run" else None
            base = (view.get("paired_baseline") or {}).get(r.get("mode"))
            if e is None or base is None or e.get("data_hash") != view["data_hash"]:
                continue
            got = _paired(sess, e, base)
            if got is not None:
                r.update(got)
    return rows


def _paired(sess: Session, entry: dict, base: list) -> dict | None:
    """{paired_delta, paired_ci, paired_baseline, paired_n_boot, paired_seed} of a run against the baseline rows
    (None when its predictions files are absent or do not match the rows)."""
    root = sess.workspace.root
    files = sorted(root / o["path"] for o in entry.get("outputs", [])
                   if Path(o["path"]).name.startswith("predictions") and o["path"].endswith(".jsonl"))
    if not files or not all(f.is_file() for f in files):
        return None
    h = hashlib.sha256(f"{PAIRED_FORMAT}|{entry['id']}|{json.dumps(base)}".encode())
    for f in files:
        st = f.stat()
        h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    cache = root / "cache" / "paired" / f"{h.hexdigest()[:32]}.json"
    try:
        return json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        pass
    from rpcli.core.eval.paired import paired_bootstrap, prediction_rows

    try:
        rows = prediction_rows(files, len(base))
    except (ValueError, KeyError, OSError):
        return None
    pb = paired_bootstrap(rows, base)
    out = {"paired_baseline": "per-task-best (train)", "paired_delta": round(pb["diff"], 6),
           "paired_ci": [round(x, 6) for x in pb["ci95"]], "paired_n_boot": pb["n_boot"], "paired_seed": pb["seed"]}
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(out), encoding="utf-8")
        os.replace(tmp, cache)
    except OSError:
        pass
    return out


def dataset_summary(sess: Session) -> dict:
    """What the front ends show about the dataset: {name, label, root, candidates, n_test_rows, data_hash,
    unpriced}."""
    return dict(dataset_view(sess)["summary"])
