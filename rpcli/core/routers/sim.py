"""SimRouter (spec §5.2): cosine between the L2-normalised query and each L2-normalised profile; argmax, ties
to the first model in profile order."""

from __future__ import annotations

import numpy as np

from rpcli.errors import ConfigError


def unit_rows(a, dtype=np.float64) -> np.ndarray:
    """The rows of `a` scaled to unit L2 norm (a zero row stays zero), as `dtype`."""
    a = np.asarray(a, dtype=dtype)
    return a / np.clip(np.linalg.norm(a, axis=1, keepdims=True), 1e-12, None)


def sim_scores(profile_vecs: np.ndarray, query_vecs: np.ndarray) -> np.ndarray:
    """[N, K] cosine similarities between queries [N, D] and profiles [K, D]."""
    if profile_vecs.shape[1] != query_vecs.shape[1]:
        raise ConfigError(f"SimRouter needs profiles in the query encoder's space: the profile is "
                          f"{profile_vecs.shape[1]}-d but queries are {query_vecs.shape[1]}-d",
                          hint="build the profile with the same --encoder, or use a router that projects (mlp, graph)")
    return unit_rows(query_vecs) @ unit_rows(profile_vecs).T


def first_argmax(scores: np.ndarray) -> np.ndarray:
    return np.argmax(scores, axis=1)  # numpy returns the first index among ties


def run(ctx, opts: dict, seed: int):
    """SimRouter as a router run: test scores, and training-query scores when the mode has a training signal."""
    from rpcli.core.routers.run import RouterResult

    test = sim_scores(ctx.profile_vecs, ctx.test_vecs())
    if ctx.train is None or len(ctx.train) == 0:
        return RouterResult(test)
    return RouterResult(test, train_scores=sim_scores(ctx.profile_vecs, ctx.train_vecs()))
