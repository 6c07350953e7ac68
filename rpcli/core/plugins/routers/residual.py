"""The prior + residual router (docs/beyond.md): the per-task prior plus, per candidate, a ridge regression of
(label - prior) on the query embedding."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, option
from rpcli.core.plugins.routers._fitted import CardOptions, GateOptions, ResidualFamily, TuneOptions


@dataclass
class ResidualOptions(CardOptions, TuneOptions, GateOptions):
    l2: float = option(0.1, "Ridge penalty (per labeled query) of each candidate's query-level residual; large: "
                       "the prior alone.", flag="--l2", min=1e-9)


class ResidualRouter(ResidualFamily):
    name = "residual"
    Config = ResidualOptions
    caps = Capabilities(seeded=True, cards=True, scores=True)
    order = 60
    summary = "Prior + residual: the per-task prior plus a per-candidate ridge residual on the query embedding."
    description = ("Prior + residual router: the per-task prior (rp route prior) plus, per candidate, a ridge "
                   "regression of (label - prior) on the query embedding. Deterministic. See docs/beyond.md.")
    example = "rp route residual --profile profile-0d9e --mode standard --tune --seeds 0,1,2"

    def config_cls(self):
        from rpcli.core.routers.residual import ResidualConfig

        return ResidualConfig


ROUTER = ResidualRouter()
