"""The kNN router (docs/beyond.md): the k nearest training queries vote with their pairwise labels, shrunk toward
the per-task prior."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, option
from rpcli.core.plugins.routers._fitted import CardOptions, GateOptions, KNNFamily, TuneOptions


@dataclass
class KNNOptions(CardOptions, TuneOptions, GateOptions):
    k: int = option(20, "Neighbours (training queries) per query; 0: the prior alone.", min=0)
    temperature: float = option(0.0, "Neighbour weight exp(T x (cos - 1)); 0: equal.", min=0.0)
    prior_weight: float = option(4.0, "Pseudo-votes of the per-task prior.", flag="--prior-weight", min=1e-6)
    same_task: bool = option(True, "Neighbours among the training queries of the query's own task.",
                             flag="--same-task/--any-task")


class KNNRouter(KNNFamily):
    name = "knn"
    Config = KNNOptions
    caps = Capabilities(seeded=True, cards=True, scores=True)
    order = 50
    summary = "kNN: the nearest training queries vote, shrunk toward the per-task prior (deterministic)."
    description = ("kNN router: the k nearest training queries vote with their pairwise labels, shrunk toward the "
                   "per-task prior (rp route prior). --tune chooses k, temperature, prior weight, card weight "
                   "(and, with a new model, ridge and cold bonus) by grouped cross-validation on the training "
                   "queries. Deterministic. See docs/beyond.md.")
    example = "rp route knn --profile profile-0d9e --mode standard --tune --gate --seeds 0,1,2"


ROUTER = KNNRouter()
