"""SimRouter (spec §5.2): cosine between the query and each profile; argmax, ties to the first candidate."""

from __future__ import annotations

from rpcli.core.plugin import Capabilities, NoOptions, Router


class _Scorer:
    def __init__(self, vecs) -> None:
        from rpcli.core.routers.sim import unit_rows

        self.unit = unit_rows(vecs)
        self.query_dim = int(vecs.shape[1])

    def scores(self, q, tasks=None):
        import numpy as np

        from rpcli.core.routers.sim import unit_rows

        return unit_rows(np.asarray(q, dtype=np.float32)) @ self.unit.T


class SimRouter(Router):
    name = "sim"
    Config = NoOptions
    caps = Capabilities(training=False, new_model="profile")
    order = 10
    title = "Sim"
    summary = "SimRouter: the candidate whose profile is most cosine-similar to the query (no training)."
    description = ("SimRouter: route each test query to the profile with the highest cosine similarity; evaluate; "
                   "record.\n\nThe cosines are also calibrated on the training queries to trace a cost-quality "
                   "curve.")
    example = "rp route sim --profile profile-0d9e --mode newllm"

    def run(self, ctx, opts, seed):
        from rpcli.core.routers.sim import run

        return run(ctx, opts, seed)

    def load(self, run_dir, ctx, *, seed=0, n_seeds=1, opts=None, recorded=None, new_candidates=False):
        from rpcli.core.routers.inference import LoadedRouter

        lr = LoadedRouter(router=self.name, models=list(ctx.models), profile_vecs=ctx.profile_vecs, seed=int(seed),
                          device=ctx.device)
        lr.scorer = _Scorer(lr.profile_vecs)
        return lr


ROUTER = SimRouter()
