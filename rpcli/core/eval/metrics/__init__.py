"""Routing metrics on plain numpy arrays (see ``docs/metrics.md``).

Conventions shared by every function here:

* ``scores`` is a float array ``[N, K]``: the quality ``s[i, m]`` in ``[0, 1]`` of model ``m`` on query ``i``,
  NaN where the model has no score for the row.
* ``costs`` is a float array ``[N, K]`` in dollars per query, NaN where unknown.
* ``tasks`` holds the N task names, ``models`` the K model names (column order).
* A router's choice is an int array ``[N]`` of column indices.
* Ties always go to the lowest column index (model order), so every result is deterministic.

Every returned structure holds only python ``float``/``int``/``str``/``bool``/``None``/``list``/``dict`` values, so
it can be written with ``json.dump`` as is; non-finite numbers become ``None``.

This package imports nothing from torch and nothing from ``rpcli`` except ``rpcli.errors`` and, for ``MICRO`` and
``pareto_front``, the stdlib leaderboard module ``rpcli.workspace.leaderboard`` (one definition each). One module
per kind of metric: selection (1. point metrics of one router), reference (2. reference rows), baselines (3./4.
baselines from a training signal), curves and calibration (5.), multiseed (6.); this facade re-exports their public
names.
"""

from rpcli.core.eval.metrics._common import MICRO
from rpcli.core.eval.metrics.baselines import (
    best_single_from_pairs, pairwise_win_rates, per_task_best_from_pairs, per_task_best_from_profile_scores)
from rpcli.core.eval.metrics.calibration import apply_calibration, calibrator, fit_calibration
from rpcli.core.eval.metrics.curves import aiq, cost_quality_curve, cost_to_match, default_lambdas, pareto_front
from rpcli.core.eval.metrics.multiseed import DEFAULT_SEED_KEYS, summarize_seeds
from rpcli.core.eval.metrics.reference import reference_rows
from rpcli.core.eval.metrics.selection import evaluate_selection

__all__ = [
    "evaluate_selection",
    "reference_rows",
    "pairwise_win_rates",
    "per_task_best_from_pairs",
    "best_single_from_pairs",
    "per_task_best_from_profile_scores",
    "default_lambdas",
    "cost_quality_curve",
    "pareto_front",
    "aiq",
    "cost_to_match",
    "fit_calibration",
    "apply_calibration",
    "calibrator",
    "summarize_seeds",
    "DEFAULT_SEED_KEYS",
    "MICRO",
]
