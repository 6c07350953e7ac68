"""GraphRouter presets (no torch: the option help and `rp --help` read them).

`faithful` (the default) is the original's configuration (spec §5.4). `recommended` was chosen by grouped
cross-validation on the training queries only (`scripts/graph_preset_cv.py`; docs/fidelity.md, "The recommended
GraphRouter"), never on test rows. A preset sets its options on a run except those the user moved away from their
faithful default: the user's value wins.
"""

from __future__ import annotations

PRESETS = ("faithful", "recommended")

RECOMMENDED = {"residual": True, "full_batch": True, "lr": 1e-3, "epochs": 200, "patience": 30, "hidden": 128,
               "layers": 2, "profile_norm": "zscore"}


def describe(values: dict) -> str:
    """'residual, full_batch, hidden=128, ...' for help texts and docs."""
    return ", ".join(k if v is True else f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                     for k, v in values.items())
