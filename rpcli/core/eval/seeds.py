"""One metrics record from the per-seed records of a multi-seed run.

Every summarised scalar shows the mean over seeds (mean, sd, min, max and n in metrics["seeds"]); tables such as
per_task, selection_share and the cost-quality points stay those of the first seed (metrics["detail_seed"]).
"""

from __future__ import annotations

import copy

from rpcli.core.eval import metrics as M

# Router-run keys summarised over seeds beside metrics.DEFAULT_SEED_KEYS (dotted paths into a seed's record).
SEED_KEYS = ("newllm.cold_start_recall.value", "newllm.cold_start_recall_strict.value", "newllm.selection_rate",
             "newllm.gain_from_new", "cost_quality.aiq", "cost_quality.cost_to_match_bsm_micro", "seconds")


def set_dotted(d: dict, key: str, value) -> None:
    """d["a"]["b"] = value for key "a.b", where the path exists."""
    *path, last = key.split(".")
    for k in path:
        d = d.get(k)
        if not isinstance(d, dict):
            return
    if last in d:
        d[last] = value


def aggregate_seeds(per_seed: list[dict]) -> dict:
    """The run's metrics: a copy of the first seed's record, with (for several seeds) the means over seeds in
    place, `seeds` (the summaries) and `detail_seed`, plus `per_seed`: one short row per seed."""
    metrics = copy.deepcopy(per_seed[0])
    if len(per_seed) > 1:
        metrics["seeds"] = M.summarize_seeds(per_seed, keys=M.DEFAULT_SEED_KEYS + SEED_KEYS)
        for key, summary in metrics["seeds"].items():
            set_dotted(metrics, key, summary.get("mean"))
        metrics["detail_seed"] = per_seed[0]["seed"]
    metrics["per_seed"] = [{k: r[k] for k in ("seed", "avg_performance", "avg_cost", "seconds") if k in r}
                           for r in per_seed]
    for r, row in zip(per_seed, metrics["per_seed"]):
        nl = r.get("newllm")
        if nl:
            row["cold_start_recall"] = (nl.get("cold_start_recall") or {}).get("value")
        if r.get("cost_quality"):
            row["aiq"] = r["cost_quality"].get("aiq")
    return metrics
