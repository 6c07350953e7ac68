"""flat (spec §4.2): the model's description plus sampled context lines, encoded and L2-normalised."""

from __future__ import annotations

from dataclasses import dataclass

from rpcli.core.plugin import ProfileMethod, option
from rpcli.core.plugins.profiles import SEED_MAX
from rpcli.core.profiles.flat import CONTEXTS


@dataclass
class FlatOptions:
    top_k: int = option(5, "Context nodes per node type (min(top_k, N)).", flag="--top-k", min=0)
    seed: int = option(42, "Seed of the one random.Random shared across models.", min=0, max=SEED_MAX)
    context: str = option("random", "random: uniform nodes of each type (faithful); neighbours: the model's actual "
                          "graph neighbours, with benchmark scores (spec §9.2 fix).", choices=CONTEXTS)


class Flat(ProfileMethod):
    name = "flat"
    Config = FlatOptions
    default_graph = "task"
    order = 20
    summary = "Plain-text profile: the model's description plus sampled context lines, encoded and L2-normalised."
    description = (summary + "\n\nThe composed texts are saved as flat_texts.json in the profile directory.")
    example = "rp profile flat --mode standard --top-k 5 --context neighbours"

    def build(self, env, graph, names, opts, out_dir, runtime):
        from rpcli.core.profiles.flat import flat_profile, save_texts

        vecs, texts = flat_profile(graph, names, env.encoder, top_k=opts["top_k"], seed=opts["seed"],
                                   context=opts["context"], progress=env.progress)
        return vecs, {"texts_file": save_texts(out_dir, names, texts), "context": opts["context"]}


METHOD = Flat()
