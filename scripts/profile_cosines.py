"""How alike the candidates' profiles are: mean and minimum pairwise cosine between candidates, raw and after the
GraphRouter's `--profile-norm zscore`, for the Table-1 profiles of a dataset (standard mode).

    python scripts/profile_cosines.py                          # the released data (../shared/data/routeprofile)
    python scripts/profile_cosines.py --data '' --workspace /tmp/ws-demo

Builds (or reuses, in --workspace) the query-task-domain graph and the profiles, and prints a markdown table.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PROFILES = [("index", "index", {}), ("flat", "flat", {})] + \
    [(f"emb-gnn K={k}", "emb-gnn", {"K": k}) for k in (1, 2, 3, 4)] + \
    [(f"trainable layers={k}", "trainable", {"layers": k}) for k in (1, 2, 3, 4)]


def cosines(x: np.ndarray) -> tuple[float, float]:
    """(mean, min) cosine over distinct pairs of rows."""
    u = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    c = u @ u.T
    off = c[~np.eye(len(c), dtype=bool)]
    return float(off.mean()), float(off.min())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "routeprofile"),
                    help="dataset folder ('' = the embedded demo)")
    ap.add_argument("--workspace", default=None, help="workspace to build in (default: a temporary folder)")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from rpcli import api
    from rpcli.core.routers.graph import model_features
    from rpcli.services.artifacts.profiles import load_profile_entry

    sess = api.open_workspace(args.workspace or tempfile.mkdtemp(prefix="rp-cos-"), data=args.data)
    gid = api.build_graph(sess, "query-task-domain", "standard")["id"]
    print("| profile | candidates | mean cosine (raw) | min cosine (raw) | mean cosine (zscore) | min cosine (zscore) |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, method, kw in PROFILES:
        pid = api.build_profile(sess, method, "standard", **({} if method == "index" else {"graph": gid}), **kw)["id"]
        _, names, v = load_profile_entry(sess, pid)
        r, z = cosines(np.asarray(v, dtype=np.float64)), cosines(model_features(v, "zscore").astype(np.float64))
        print(f"| {label} | {len(names)} | {r[0]:.4f} | {r[1]:.4f} | {z[0]:.4f} | {z[1]:.4f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
