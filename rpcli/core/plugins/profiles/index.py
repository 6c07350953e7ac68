"""index (spec §4.1): the random-vector baseline, one seeded Gaussian vector per candidate."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import ProfileMethod, option
from rpcli.core.plugins.profiles import SEED_MAX


@dataclass
class IndexOptions:
    seed: int = option(56, "torch seed (the original's default is 56).", min=0, max=SEED_MAX)


class Index(ProfileMethod):
    name = "index"
    Config = IndexOptions
    default_graph = None
    order = 10
    summary = "The random-vector baseline: one seeded Gaussian vector per candidate (dimension from the encoder)."
    example = "rp profile index --mode standard"

    def build(self, env, graph, names, opts, out_dir, runtime):
        from rpcli.core.profiles.index import index_profile

        return index_profile(names, env.encoder.dim, seed=opts["seed"]), {}


METHOD = Index()
