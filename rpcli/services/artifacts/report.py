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
        sess.use_data(Path(root))
    return rec


def dataset_info(sess: Session, label: str | None = None) -> dict:
    ds = sess.dataset
    return {"name": ds.root.name, "root": label or str(ds.root), "hash": ds.data_hash,
            "candidates": list(ds.candidates), "n_test_rows": len(ds.test_rows)}


def paired_stats(sess: Session, runs: list[dict]) -> dict:
    """{run id: {"ci95": row-bootstrap 95% interval of the seed-averaged avg_performance, "vs_per_task_train":
    the paired bootstrap of the run against "per-task-best (train)" on the same test rows}} for every run whose
    predictions files are intact (rpcli.core.eval.paired; the numerics stay in core)."""
    import numpy as np

    from rpcli.core.eval.paired import choice_rows, mean_ci, paired_bootstrap, prediction_rows
    from rpcli.core.routers.evaluate import reference_rows, test_matrices

    ds = sess.dataset
    ws_root = sess.workspace.root
    order = sorted(range(len(ds.test_rows)), key=lambda i: ds.test_rows[i].index)
    models = list(ds.candidates)
    s, _, tasks = test_matrices(ds, models)
    base: dict = {}
    for mode in {(e.get("params") or {}).get("mode") for e in runs}:
        if mode not in ds.modes:
            continue
        ref = next((r for r in reference_rows(ds, mode) if r["name"] == "per-task-best (train)"), None)
        if ref is None:
            continue
        pick = ref["per_task_models"]
        base[mode] = choice_rows(s, [models.index(pick[t]) for t in tasks])[order]
    out = {}
    s0 = np.nan_to_num(s, nan=0.0)
    for mode in base:  # the reference rows that pick a model per row, against the same baseline
        for ref in reference_rows(ds, mode):
            if ref["name"] in ("per-task-best (train)",) or ref.get("kind") != "reference":
                continue
            if ref["name"] == "per-task-best (profile scores)":  # the rule of core.routers.evaluate.reference_rows
                from rpcli.core.eval import metrics as M

                md = ds.mode(mode)
                sc = {m.name: m.scores for m in md.models if m.name in models}
                tb = M.per_task_best_from_profile_scores(sc, models, sorted(set(tasks)), exclude=md.held_out)
                rows = choice_rows(s, [models.index(tb[t]) for t in tasks])[order]
            elif ref.get("per_task_models"):
                rows = choice_rows(s, [models.index(ref["per_task_models"][t]) for t in tasks])[order]
            elif ref.get("model") in models:
                rows = s0[:, models.index(ref["model"])][order]
            elif ref["name"] == "oracle":
                rows = s0.max(axis=1)[order]
            else:
                continue
            out[f"ref:{mode}:{ref['name']}"] = {"ci95": mean_ci(rows)["ci95"],
                                                "vs_per_task_train": paired_bootstrap(rows, base[mode])}
    for e in runs:
        mode = (e.get("params") or {}).get("mode")
        files = sorted(ws_root / o["path"] for o in e.get("outputs", [])
                       if Path(o["path"]).name.startswith("predictions") and o["path"].endswith(".jsonl"))
        if mode not in base or not files or not all(f.is_file() for f in files):
            continue
        try:
            rows = prediction_rows(files, len(ds.test_rows))
        except (ValueError, KeyError, OSError):
            continue
        out[e["id"]] = {"ci95": mean_ci(rows)["ci95"], "vs_per_task_train": paired_bootstrap(rows, base[mode])}
    return out


def build(sess: Session, *, command: str, paper: bool = False, sweep: str | list | None = None,
          data_label: str | None = None) -> dict:
    """The report of the session's workspace on the session's dataset (see rpcli.workspace.report).

    Raises:
        ArtifactNotFoundError / DataFileError: an unknown or malformed sweep record.
        WorkspaceError: the workspace holds no run at all (exit 3).
        RunNotComparableError: runs exist, but none (or not the sweep's) were evaluated on this dataset.
    """
    from rpcli.services.artifacts.compare import compare_rows, label_defaults

    sweeps = [sweep] if isinstance(sweep, str) else list(sweep or [])
    recs = [resolve_sweep(sess, name) for name in sweeps]
    rec = recs[0] if recs else None
    doc = load_manifest(sess.workspace)
    runs = [e for e in doc.get("entries", {}).values() if e.get("kind") == "run" and e.get("status") == "done"]
    if not runs and rec is None:
        raise WorkspaceError(f"the workspace {sess.workspace.root} holds no finished run, so there is nothing to "
                             "report", hint="build some first, e.g. `rp sweep sweeps/quick.yaml`, or point "
                                            "--workspace / RP_WORKSPACE at the workspace that holds them")
    ds = sess.dataset
    for rec_i, name in zip(recs, sweeps):
        h = (rec_i.get("data") or {}).get("hash")
        if h and h != ds.data_hash:
            raise RunNotComparableError(
                f"sweep {rec_i.get('name')!r} ({R.sweep_path(sess.workspace.root, name)}) ran on the data at "
                f"{(rec_i.get('data') or {}).get('root')} (hash {h[:12]}), not on {ds.root} (hash "
                f"{ds.data_hash[:12]})", hint=f"pass -d {(rec_i.get('data') or {}).get('root')}")
    if rec is None and not any(e.get("data_hash") == ds.data_hash for e in runs):
        roots = sorted({str((e.get("data") or {}).get("root")) for e in runs})
        raise RunNotComparableError(
            f"none of the {len(runs)} run(s) in {sess.workspace.root} was evaluated on {ds.root}; they ran on "
            + ", ".join(roots), hint=f"pass -d {roots[0]}" if len(roots) == 1 else "pass -d for one of them")
    references = [r for r in compare_rows(sess, include_singles=False) if r.get("kind") != "run"]
    in_data = [e for e in runs if e.get("data_hash") == ds.data_hash]
    stats = paired_stats(sess, in_data) if any(
        not R.is_study_router((e.get("params") or {}).get("router")) for e in in_data) else {}
    return R.build_report(doc, references, dataset=dataset_info(sess, data_label), command=command, paper=paper,
                          sweep=rec, defaults=label_defaults(), run_stats=stats, more_sweeps=recs[1:])
