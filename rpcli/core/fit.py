"""The one training harness: seeding, threads and the epoch loop every trained model of rp goes through
(MLPRouter, GraphRouter, the trainable profile).

`seeded(seed, device, threads)` seeds python, numpy and torch (in a forked torch RNG), turns on deterministic
algorithms and sets the intra-op threads (`train_threads` picks them); everything is restored on exit.

`fit(step, epochs=...)` runs the epochs. `step(epoch)` trains one epoch (the caller owns the model, optimiser,
scheduler and batches) and returns an `Epoch`: its selection key (higher is better; the state with the best key is
kept, ties keep the earlier epoch), its log line, and the values appended to the curves (rounded to 6 digits).
With `patience`, training stops after that many epochs without a better key (0: never).
"""

from __future__ import annotations

import contextlib
import copy
import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from rpcli.core.progress import NullProgress

SINGLE_THREAD_MAX = 4_000_000  # feature entries (rows x width) up to which CPU training uses one thread


def train_threads(device: str, n_features: int) -> int:
    """Intra-op threads for training on `device`: one on the CPU for rp-sized inputs (below a few million
    feature entries threads cost more than they gain, and on a shared, busy CPU they made training 5-10x slower),
    torch's setting otherwise."""
    import torch

    return 1 if torch.device(device).type == "cpu" and n_features <= SINGLE_THREAD_MAX else torch.get_num_threads()


@contextlib.contextmanager
def seeded(seed: int, device: str = "cpu", threads: int | None = None):
    """Seed python, numpy and torch (in a forked torch RNG), turn on deterministic algorithms and, when given,
    set the number of intra-op threads; everything is restored on exit."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    prev_det = torch.are_deterministic_algorithms_enabled()
    prev_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    prev_threads = torch.get_num_threads()
    dev = torch.device(device)
    devices = [dev.index or 0] if dev.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
        if threads:
            torch.set_num_threads(threads)
        try:
            yield
        finally:
            torch.use_deterministic_algorithms(prev_det, warn_only=prev_warn)
            torch.set_num_threads(prev_threads)


@dataclass
class Epoch:
    """What one epoch reports to `fit`."""

    key: Any  # selection key, higher is better (e.g. -val_loss, or (val_perf, -val_loss))
    note: str  # the progress line of the epoch
    curves: dict = field(default_factory=dict)  # curve name -> this epoch's value (absent: not recorded)
    values: dict = field(default_factory=dict)  # anything the caller wants back for the best epoch


@dataclass
class FitResult:
    best_epoch: int
    best_state: Any  # what `snapshot()` returned at the best epoch
    best: Epoch
    curves: dict  # curve name -> [values per epoch]
    stopped_early_at: int | None
    epochs_run: int


def fit(step: Callable[[int], Epoch], *, epochs: int, snapshot: Callable[[], Any], patience: int = 0,
        progress=None, description: str = "training", criterion: str = "val loss") -> FitResult:
    """Run `step(1..epochs)`, keep `snapshot()` of the best epoch, stop early after `patience` stale epochs."""
    progress = progress or NullProgress()
    curves: dict[str, list] = {}
    best: Epoch | None = None
    best_epoch, best_state, stale, stopped, ran = 0, None, 0, None, 0
    with progress.task(description, total=epochs):
        for epoch in range(1, epochs + 1):
            ep = step(epoch)
            ran = epoch
            for name, v in ep.curves.items():
                curves.setdefault(name, []).append(round(v, 6))
            if best is None or ep.key > best.key:
                best, best_epoch, best_state, stale = ep, epoch, snapshot(), 0
            else:
                stale += 1
            progress.advance()
            progress.note(ep.note)
            if patience and stale >= patience and epoch < epochs:
                stopped = epoch
                progress.note(f"early stop at epoch {epoch:03d}: no better {criterion} for {patience} epochs")
                break
    return FitResult(best_epoch=best_epoch, best_state=best_state, best=best, curves=curves,
                     stopped_early_at=stopped, epochs_run=ran)


def optimizer_step(loss, opt, params, grad_clip: float) -> None:
    """zero_grad, backward, clip the gradient norm of `params` at `grad_clip`, step."""
    import torch

    opt.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, grad_clip)
    opt.step()


def train_batches(batches, loss_of: Callable, opt, params, grad_clip: float) -> float:
    """One pass over `batches` (tensors whose first dimension is the batch size): an `optimizer_step` on
    `loss_of(batch)` each; returns the mean loss weighted by batch size."""
    params = list(params)  # a generator (model.parameters()) would be spent after the first batch
    tot, n = 0.0, 0
    for b in batches:
        loss = loss_of(b)
        optimizer_step(loss, opt, params, grad_clip)
        tot += float(loss.detach()) * b.shape[0]
        n += b.shape[0]
    return tot / n


def state_copy(module) -> dict:
    """A detached deep copy of a module's state dict (the usual `snapshot`)."""
    return copy.deepcopy(module.state_dict())
