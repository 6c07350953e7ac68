"""rp report: the reference rows of the dataset (which need the data) plus the manifest's runs, as one report."""

from __future__ import annotations

from pathlib import Path

from rpcli.errors import RunNotComparableError, WorkspaceError
from rpcli.services.base import Session
from rpcli.workspace import report as R
from rpcli.workspace.manifest import load_manifest


def resolve_sweep(sess: Session, sweep: str | None) -> dict | None:
    """Load the sweep record and, when no dataset was named, point the session at the sweep's data."""
    if sweep is None:
        return None
    rec = R.load_sweep(sess.workspace.root, sweep)
    root = (rec.get("data") or {}).get("root")
    if sess.data_root is None and root and Path(root).is_dir():
        sess.data_root = Path(root)
        sess._dataset = None
    return rec


def dataset_info(sess: Session, label: str | None = None) -> dict:
    ds = sess.dataset
    return {"name": ds.root.name, "root": label or str(ds.root), "hash": ds.data_hash,
            "candidates": list(ds.candidates), "n_test_rows": len(ds.test_rows)}


def build(sess: Session, *, command: str, paper: bool = False, sweep: str | None = None,
          data_label: str | None = None) -> dict:
    """The report of the session's workspace on the session's dataset (see rpcli.workspace.report).

    Raises:
        ArtifactNotFoundError / DataFileError: an unknown or malformed sweep record.
        WorkspaceError: the workspace holds no run at all (exit 3).
        RunNotComparableError: runs exist, but none (or not the sweep's) were evaluated on this dataset.
    """
    from rpcli.services.compare import compare_rows
    from rpcli.services.routes import ROUTERS

    rec = resolve_sweep(sess, sweep)
    doc = load_manifest(sess.workspace)
    runs = [e for e in doc.get("entries", {}).values() if e.get("kind") == "run" and e.get("status") == "done"]
    if not runs and rec is None:
        raise WorkspaceError(f"the workspace {sess.workspace.root} holds no finished run, so there is nothing to "
                             "report", hint="build some first, e.g. `rp sweep sweeps/quick.yaml`, or point "
                                            "--workspace / RP_WORKSPACE at the workspace that holds them")
    ds = sess.dataset
    if rec is not None:
        h = (rec.get("data") or {}).get("hash")
        if h and h != ds.data_hash:
            raise RunNotComparableError(
                f"sweep {rec.get('name')!r} ({R.sweep_path(sess.workspace.root, sweep)}) ran on the data at "
                f"{(rec.get('data') or {}).get('root')} (hash {h[:12]}), not on {ds.root} (hash {ds.data_hash[:12]})",
                hint=f"pass -d {(rec.get('data') or {}).get('root')}")
    elif not any(e.get("data_hash") == ds.data_hash for e in runs):
        roots = sorted({str((e.get("data") or {}).get("root")) for e in runs})
        raise RunNotComparableError(
            f"none of the {len(runs)} run(s) in {sess.workspace.root} was evaluated on {ds.root}; they ran on "
            + ", ".join(roots), hint=f"pass -d {roots[0]}" if len(roots) == 1 else "pass -d for one of them")
    references = [r for r in compare_rows(sess, include_singles=False) if r.get("kind") != "run"]
    defaults = {name: {"query_text": "formatted", **spec.defaults} for name, spec in ROUTERS.items()}
    return R.build_report(doc, references, dataset=dataset_info(sess, data_label), command=command, paper=paper,
                          sweep=rec, router_defaults=defaults)
