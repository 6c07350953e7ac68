"""rp compare: what the leaderboard needs from the dataset (the reference rows, computed by the core) and the
board itself (rpcli.workspace.leaderboard.board, the same function the dashboard calls on every reload)."""

from __future__ import annotations

from rpcli.services.base import Session
from rpcli.workspace.leaderboard import MODES, board, sort_rows
from rpcli.workspace.manifest import load_manifest


def reference_rows(sess: Session, modes=MODES, include_singles: bool = False) -> list[dict]:
    """The reference rows (and with ``include_singles`` the single models) of each mode the dataset has."""
    from rpcli.core.routers.evaluate import reference_rows as core_reference_rows

    ds = sess.dataset
    return [{**r, "mode": mode} for mode in modes if mode in ds.modes for r in core_reference_rows(ds, mode)
            if r["kind"] != "single" or include_singles]


def compare_rows(sess: Session, modes=MODES, allow_mixed: bool = False, include_singles: bool = False) -> list[dict]:
    """Reference rows + the comparable recorded runs of ``modes``, flagged and in the printed order; the notice
    about held-back runs goes to the session's progress."""
    b = board(reference_rows(sess, modes, include_singles), load_manifest(sess.workspace),
              data_hash=sess.dataset.data_hash, allow_mixed=allow_mixed, modes=modes, data_name=str(sess.dataset.root))
    if b.notice:
        sess.progress.warn(b.notice)
    return sort_rows(b.rows)


def dataset_summary(sess: Session) -> dict:
    """What the front ends show about the dataset: {name, label, root, candidates, n_test_rows, data_hash}."""
    from rpcli.core.data import default_data_root

    ds = sess.dataset
    return {"name": ds.root.name, "label": "embedded demo" if ds.root == default_data_root() else ds.root.name,
            "root": str(ds.root), "candidates": list(ds.candidates), "n_test_rows": len(ds.test_rows),
            "data_hash": ds.data_hash}
