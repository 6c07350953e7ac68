"""The blend router (docs/beyond.md): (1 - blend) x the knn score + blend x the residual score."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import Capabilities, option
from rpcli.core.plugins.routers._fitted import CardOptions, GateOptions, ResidualFamily, TuneOptions


@dataclass
class BlendOptions(CardOptions, TuneOptions, GateOptions):
    blend: float = option(0.5, "Weight of the residual score (0: the knn score alone, 1: the residual score "
                          "alone).", min=0.0, max=1.0)
    k: int = option(10, "kNN neighbours.", min=0)
    temperature: float = option(0.0, "kNN neighbour weight exp(T x (cos - 1)).", min=0.0)
    prior_weight: float = option(8.0, "kNN pseudo-votes of the prior.", flag="--prior-weight", min=1e-6)
    l2: float = option(0.1, "Ridge penalty (per labeled query) of each candidate's query-level residual.",
                       flag="--l2", min=1e-9)


class BlendRouter(ResidualFamily):
    name = "blend"
    Config = BlendOptions
    caps = Capabilities(seeded=True, cards=True, scores=True)
    order = 70
    summary = "Blend: the knn and residual scores mixed, both shrunk to the same per-task prior."
    description = ("Blend router: (1 - blend) x the knn score + blend x the residual score, both shrunk to the "
                   "same per-task prior. Deterministic. See docs/beyond.md.")
    example = "rp route blend --profile profile-0d9e --mode standard --tune --gate --seeds 0,1,2"

    def config_cls(self):
        from rpcli.core.routers.residual import BlendConfig

        return BlendConfig


ROUTER = BlendRouter()
