"""Profile files: `np.savez(path, **{model_name: float32[D]})`, key order = candidate order (spec §2.4).

Files move both ways between rp and the original code.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from rpcli.errors import ConfigError, DataFileError

PROFILE_FILE = "profile.npz"


def save_profile(path: str | Path, names: list[str], vectors) -> int:
    """Write the profile; returns its dimension D."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[0] != len(names):
        raise ValueError(f"profile needs [len(names), D] vectors, got {vectors.shape}")
    if len(set(names)) != len(names):
        raise ValueError("duplicate model names in a profile")
    with open(path, "wb") as fh:
        np.savez(fh, **{n: vectors[i] for i, n in enumerate(names)})
    return int(vectors.shape[1])


def load_profile(path: str | Path) -> tuple[list[str], np.ndarray]:
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as z:
            names = list(z.files)
            if not names:
                raise DataFileError(path, "the profile holds no model vectors")
            vecs = [np.asarray(z[n], dtype=np.float32).reshape(-1) for n in names]
    except (OSError, ValueError) as exc:
        raise DataFileError(path, f"not a readable .npz profile: {exc}") from None
    dims = {v.shape[0] for v in vecs}
    if len(dims) != 1:
        raise DataFileError(path, f"model vectors have different lengths {sorted(dims)}")
    mat = np.stack(vecs)
    if not np.isfinite(mat).all():
        bad = [n for n, v in zip(names, vecs) if not np.isfinite(v).all()]
        raise DataFileError(path, "non-finite values in the profile", record=repr(bad[0]))
    return names, mat


def select_keep(graph_models: list[str], candidates: list[str], keep: str | None) -> list[str]:
    """Which models get vectors: 'candidates' (default), 'all' (graph order), or 'a,b,c' (an explicit list)."""
    if keep in (None, "", "candidates"):
        missing = [c for c in candidates if c not in graph_models]
        if missing:
            raise ConfigError(f"routing candidates missing from the graph: {missing}")
        return list(candidates)
    if keep == "all":
        return list(graph_models)
    names = [k.strip() for k in keep.split(",") if k.strip()]
    unknown = [n for n in names if n not in graph_models]
    if unknown:
        from rpcli.errors import did_you_mean

        raise ConfigError(f"--keep names unknown model {unknown[0]!r}{did_you_mean(unknown[0], graph_models)}")
    return names


def profile_summary(names: list[str], vecs: np.ndarray) -> dict:
    """Models, dimension, norms and the min/mean/max pairwise cosine of a profile [len(names), D]."""
    norms = np.linalg.norm(vecs, axis=1)
    unit = vecs / np.clip(norms[:, None], 1e-12, None)
    cos = unit @ unit.T
    off = cos[~np.eye(len(names), dtype=bool)] if len(names) > 1 else np.array([1.0])
    return {"models": names, "dim": int(vecs.shape[1]),
            "norms": {n: round(float(v), 6) for n, v in zip(names, norms)},
            "pairwise_cosine": {"min": round(float(off.min()), 6), "mean": round(float(off.mean()), 6),
                                "max": round(float(off.max()), 6)}}
