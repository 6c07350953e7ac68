"""5. Calibration: an isotonic map from a router's raw scores to expected quality."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def fit_calibration(raw_scores: Any, quality: Any, max_bins: int = 4096) -> dict:
    """Fit a non-decreasing map from a router's raw scores to expected quality (isotonic regression, PAV).

    Both arrays are flattened; pairs with a NaN on either side are dropped. When there are more than
    ``max_bins`` distinct raw values, consecutive distinct values are grouped into ``max_bins`` quantile bins
    first (equal raw values always share a bin), which keeps the fit fast for N*K in the millions.

    Args:
        raw_scores: array of any shape of raw router scores.
        quality: array of the same shape of true quality in [0, 1].
        max_bins: bin limit before pool-adjacent-violators.

    Returns:
        A JSON-serialisable dict ``{"kind": "isotonic", "x": [...], "y": [...], "n": count}``: breakpoints with
        x strictly increasing and y non-decreasing in [0, 1]; ``apply_calibration`` interpolates linearly between
        them and holds the end values flat outside.

    Raises:
        ValueError: on shape mismatch or when no pair is usable.
    """
    r = np.asarray(raw_scores, dtype=np.float64).ravel()
    q = np.asarray(quality, dtype=np.float64).ravel()
    if r.shape != q.shape:
        raise ValueError(f"raw_scores and quality must have the same size, got {r.size} and {q.size}")
    ok = ~(np.isnan(r) | np.isnan(q))
    r, q = r[ok], q[ok]
    if r.size == 0:
        raise ValueError("fit_calibration: no (raw, quality) pair without NaN")
    uniq, inv = np.unique(r, return_inverse=True)
    u = uniq.size
    if u > max_bins:
        bin_of_uniq = (np.arange(u) * max_bins) // u
    else:
        bin_of_uniq = np.arange(u)
    nb = int(bin_of_uniq[-1]) + 1
    b = bin_of_uniq[inv]
    w = np.bincount(b, minlength=nb).astype(np.float64)
    ysum = np.bincount(b, weights=q, minlength=nb)
    xlo = np.full(nb, np.inf)
    xhi = np.full(nb, -np.inf)
    np.minimum.at(xlo, bin_of_uniq, uniq)
    np.maximum.at(xhi, bin_of_uniq, uniq)

    # pool adjacent violators over the bins (already sorted by raw value)
    blocks: list[list[float]] = []  # [weight, sum_y, x_lo, x_hi]
    for j in range(nb):
        blocks.append([w[j], ysum[j], xlo[j], xhi[j]])
        while len(blocks) >= 2 and blocks[-2][1] * blocks[-1][0] >= blocks[-1][1] * blocks[-2][0]:
            w2, s2, _, h2 = blocks.pop()
            blocks[-1][0] += w2
            blocks[-1][1] += s2
            blocks[-1][3] = h2
    xs: list[float] = []
    ys: list[float] = []
    for wt, sm, lo, hi in blocks:
        y = min(1.0, max(0.0, sm / wt))
        for x in ((lo,) if lo == hi else (lo, hi)):
            xs.append(float(x))
            ys.append(float(y))
    return {"kind": "isotonic", "x": xs, "y": ys, "n": int(r.size)}


def apply_calibration(cal: Mapping[str, Any], raw: Any) -> np.ndarray:
    """Map raw router scores to expected quality with a ``fit_calibration`` result.

    Args:
        cal: the dict from ``fit_calibration`` (as stored, e.g. after a JSON round trip).
        raw: array of raw scores, any shape.

    Returns:
        float64 array of the same shape, in [0, 1]; NaN stays NaN.
    """
    if cal.get("kind") != "isotonic":
        raise ValueError(f"Unknown calibration kind {cal.get('kind')!r}")
    xs = np.asarray(cal["x"], dtype=np.float64)
    ys = np.asarray(cal["y"], dtype=np.float64)
    r = np.asarray(raw, dtype=np.float64)
    out = np.interp(r, xs, ys)
    return np.where(np.isnan(r), np.nan, out)


def calibrator(cal: Mapping[str, Any]) -> Callable[[Any], np.ndarray]:
    """A callable wrapping ``apply_calibration(cal, raw)``."""
    return lambda raw: apply_calibration(cal, raw)
