"""The per-task prior router (docs/beyond.md): per task, each candidate's win rate from the training pairs,
blended with its card score; a model without pairs is reached through its card alone."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, option
from rpcli.core.plugins.routers._fitted import CardOptions, KNNFamily


@dataclass
class PriorOptions(CardOptions):
    k: int = option(0, "Neighbours: none (the prior is the knn router without neighbours).", cli=False)


class PriorRouter(KNNFamily):
    name = "prior"
    Config = PriorOptions
    caps = Capabilities(cards=True, scores=True)
    order = 40
    summary = "Per-task prior: each candidate's per-task win rate, blended with its card score (deterministic)."
    description = ("Per-task prior router: per task, each candidate's win rate from the training pairs, blended "
                   "with its card score; a model without pairs (newllm's new model) is reached through its card "
                   "alone (missing card scores imputed from its other benchmarks). Deterministic. See "
                   "docs/beyond.md.")
    example = "rp route prior --profile profile-0d9e --mode newllm --card-weight 1"


ROUTER = PriorRouter()
