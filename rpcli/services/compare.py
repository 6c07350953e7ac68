"""rp compare: the leaderboard rows (reference rows + recorded runs) for the selected dataset."""

from __future__ import annotations

from rpcli.errors import RunNotComparableError
from rpcli.services.base import Session
from rpcli.workspace.leaderboard import run_rows, sort_rows
from rpcli.workspace.manifest import load_manifest


def compare_rows(sess: Session, modes=("standard", "newllm"), allow_mixed: bool = False,
                 include_singles: bool = False) -> list[dict]:
    from rpcli.core.routers.evaluate import reference_rows

    ds = sess.dataset
    rows = []
    for mode in modes:
        if mode not in ds.modes:
            continue
        for r in reference_rows(ds, mode):
            if r["kind"] == "single" and not include_singles:
                continue
            rows.append({**r, "kind": "reference" if r["kind"] == "reference" else r["kind"], "mode": mode})
    runs = [r for r in run_rows(load_manifest(sess.workspace)) if r["mode"] in modes]
    other = [r for r in runs if r["data_hash"] != ds.data_hash]
    if other and not allow_mixed:
        if len(other) == len(runs) and runs:
            sess.progress.warn(f"{len(other)} recorded runs were evaluated on other data than {ds.root}; "
                               "they are not shown (pass --data for their dataset, or --allow-mixed)")
        else:
            sess.progress.warn(f"{len(other)} runs evaluated on other data are hidden (--allow-mixed shows them)")
        runs = [r for r in runs if r["data_hash"] == ds.data_hash]
    rows.extend(runs)
    return sort_rows(rows)


def ensure_comparable(rows: list[dict]) -> None:
    hashes = {r["data_hash"] for r in rows if r.get("kind") == "run"}
    if len(hashes) > 1:
        raise RunNotComparableError("runs were evaluated on different data", hint="pass --allow-mixed")
