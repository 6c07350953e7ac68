"""A router run: the inputs every router gets (`RouteContext`), the one result every router returns
(`RouterResult`), and `evaluate_run`, which runs a router once per seed, evaluates each seed on the test rows,
traces its cost-quality curve, writes predictions (and checkpoints) and summarises the seeds.

A router is a function `run(ctx, opts, seed) -> RouterResult`; it never writes files.
Files of a run directory, per seed (`stem.seed{seed}.ext` when the run has several seeds): predictions.jsonl,
ckpt.pt (trained routers: the router's checkpoint plus `ckpt_meta`), and metrics.json once for the run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

import numpy as np

from rpcli.core.eval import metrics as M
from rpcli.core.eval.cost_quality import cost_quality
from rpcli.core.eval.seeds import aggregate_seeds
from rpcli.core.progress import NullProgress, Progress
from rpcli.core.routers.evaluate import reference_rows, test_matrices, write_predictions
from rpcli.errors import RpError

if TYPE_CHECKING:
    from rpcli.core.routers.training import TrainingSignal

CKPT_FILE = "ckpt.pt"
PREDICTIONS_FILE = "predictions.jsonl"
METRICS_FILE = "metrics.json"


class TextEncoder(Protocol):
    """What a run needs of the encoder (rpcli.core.encoder.CachedEncoder)."""

    def encode(self, texts: list, progress=None, description: str = "") -> np.ndarray: ...


@dataclass
class RouterResult:
    """What a router returns for one seed."""

    test_scores: np.ndarray  # [N, K] scores of the test rows (argmax = the choice; ties to the first model)
    train_scores: np.ndarray | None = None  # [Q, K] on the training queries of ctx.train (calibrates the curve)
    info: dict = field(default_factory=dict)  # recorded under metrics["train"] when not empty
    checkpoint: dict | None = None  # trained routers: saved as ckpt.pt (torch.save) with the run's ckpt_meta


@dataclass
class RouteContext:
    """The inputs of a run, resolved once; query embeddings are encoded on first use (through the cache)."""

    mode: str
    models: list  # profile key order = candidate order (argmax ties)
    profile_vecs: np.ndarray  # [K, D]
    test_texts: list  # [N]
    encoder: TextEncoder | None  # .encode(texts, progress=, description=) -> [n, Dq]; None: `sources` give them
    train: TrainingSignal | None = None  # the mode's training signal (None when the mode has no training file)
    held_out: list = field(default_factory=list)
    seeds: list = field(default_factory=lambda: [0])
    device: str = "cpu"
    progress: Progress = field(default_factory=NullProgress)
    test_tasks: list | None = None  # [N] the test rows' task names (routers that use the task, as per-task routing)
    cards: dict | None = None  # {model: {benchmark: score}} of the mode's model file (card scores that carry test
    #                            information dropped); the profile information of the knn and prior routers
    card_models: list | None = None  # every model of the mode's model file (the card space), in file order
    card_train_tasks: list | None = None  # tasks whose card scores look measured on the training queries (steps of
    #                                       100/n; rpcli.core.data.audit): CV leaves them out without per-query scores
    sources: dict = field(default_factory=dict)  # "train" / "test": embeddings given instead of encoded (an array,
    #                                              or a function returning one, called on first use)
    _cache: dict = field(default_factory=dict)

    def _encoder(self) -> TextEncoder:
        if self.encoder is None:
            raise RpError("this context has no encoder and was given no embeddings to use instead")
        return self.encoder

    def seed_file(self, name: str, seed: int) -> str:
        """`name` for a single-seed run, `stem.seed{seed}.ext` when the run has several seeds."""
        if len(self.seeds) == 1:
            return name
        stem, dot, ext = name.rpartition(".")
        return f"{stem}.seed{seed}.{ext}" if dot else f"{name}.seed{seed}"

    def test_vecs(self) -> np.ndarray:
        """[N, Dq] embeddings of the test queries."""
        if "test" not in self._cache and self.sources.get("test") is not None:
            src = self.sources["test"]
            self._cache["test"] = src() if callable(src) else src
        if "test" not in self._cache:
            self._cache["test"] = self._encoder().encode(self.test_texts, progress=self.progress,
                                                      description="encoding test queries:")
        return self._cache["test"]

    def train_vecs(self) -> np.ndarray:
        """[Q, Dq] embeddings of the training queries of `train`."""
        if "train" not in self._cache and self.sources.get("train") is not None:
            src = self.sources["train"]
            self._cache["train"] = src() if callable(src) else src
        if "train" not in self._cache:
            if self.train is None:
                raise RpError("this run has no training signal, so it has no training queries to encode")
            self._cache["train"] = self._encoder().encode(self.train.texts, progress=self.progress,
                                                       description="encoding training queries:")
        return self._cache["train"]


def config_from(cls, opts: dict):
    """A router config dataclass from the run's options (the keys it does not know are ignored)."""
    return cls(**{k: opts[k] for k in cls.__dataclass_fields__ if k in opts})


def evaluate_run(ds, ctx: RouteContext, run: Callable[[int], RouterResult], out_dir: Path,
                 ckpt_meta: dict | None = None) -> dict:
    """Run `run(seed)` for every seed of `ctx`, evaluate, write the run's files into `out_dir`; returns
    {"metrics": ..., "info": ...} for the manifest."""
    names, sig, held, progress = ctx.models, ctx.train, ctx.held_out, ctx.progress
    s, c, tasks = test_matrices(ds, names)
    refs = {r["name"]: r for r in reference_rows(ds, ctx.mode)}
    bsm = refs.get("best-single (train)") or refs.get("best-single (test)")
    if bsm is None:
        raise RpError(f"the reference rows of mode {ctx.mode!r} have no best single model")
    per_seed = []
    for seed in ctx.seeds:
        t0 = time.time()
        out = run(seed)
        if out.checkpoint is not None:
            import torch

            name = ctx.seed_file(CKPT_FILE, seed)
            torch.save({**out.checkpoint, **(ckpt_meta or {})}, Path(out_dir) / name)
            out.info = {**out.info, "checkpoint": name}
        scores = np.asarray(out.test_scores, dtype=np.float64)
        seconds = round(time.time() - t0, 3)
        choice = np.argmax(scores, axis=1)
        res = M.evaluate_selection(choice, s, c, tasks, names, bsm_performance=bsm["avg_performance"],
                                   held_out=held, router_scores=scores, bootstrap=1000, seed=seed)
        res["seed"] = seed
        res["seconds"] = seconds
        if out.info:
            res["train"] = out.info
        if out.train_scores is not None and sig is not None and len(sig):
            try:
                res["cost_quality"] = cost_quality(out.train_scores, sig, scores, s, c, names, bsm["avg_performance"],
                                                   (refs.get("best-single (test)") or {}).get("avg_performance"),
                                                   router_performance=res["avg_performance"])
            except (RpError, ValueError) as exc:
                res.setdefault("warnings", []).append(f"no cost-quality curve: {exc}")
        else:
            res.setdefault("warnings", []).append("no cost-quality curve: no training signal to calibrate on")
        per_seed.append(res)
        write_predictions(Path(out_dir) / ctx.seed_file(PREDICTIONS_FILE, seed), ds, names, choice, scores, s, c)
        for w in res.get("warnings", []):
            progress.warn(w)
    metrics = aggregate_seeds(per_seed)
    metrics["bsm_reference"] = {"name": bsm["name"], "avg_performance": bsm["avg_performance"]}
    if sig is not None:
        metrics["training_signal"] = {"source": sig.source, **sig.stats}
    (Path(out_dir) / METRICS_FILE).write_text(json.dumps({"metrics": metrics, "per_seed": per_seed}, indent=2,
                                                         sort_keys=True) + "\n")
    # Candidates whose cost is unknown on some test row (no price): the run's costs and curve are without them there.
    cands = set(getattr(ds, "candidates", names))
    unpriced = [m for j, m in enumerate(names) if m in cands and np.isnan(c[:, j]).any()]
    return {"metrics": metrics, "info": {"models": names, "held_out": held, "n_test_rows": len(ds.test_rows),
                                         "unpriced": unpriced}}
