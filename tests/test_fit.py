"""The one training harness (rpcli.core.fit) and the one router result (rpcli.core.routers.run.RouterResult)."""

from __future__ import annotations

import numpy as np
import pytest

from rpcli.core.fit import Epoch, fit
from rpcli.core.progress import RecordingProgress


def _steps(keys):
    """A step function replaying `keys` (higher is better) and recording which epochs ran."""
    ran = []

    def step(epoch):
        ran.append(epoch)
        k = keys[epoch - 1]
        return Epoch(key=k, note=f"epoch {epoch:03d} key {k}", curves={"loss": -k + 1e-7}, values={"k": k})

    return step, ran


def test_fit_keeps_the_first_best_epoch_and_its_snapshot():
    step, ran = _steps([1.0, 3.0, 3.0, 2.0])
    state = iter(range(100))
    res = fit(step, epochs=4, snapshot=lambda: next(state))
    assert ran == [1, 2, 3, 4] and res.epochs_run == 4 and res.stopped_early_at is None
    # epoch 2 is best; its tie at epoch 3 does not replace it; snapshots are taken only on improvement
    assert res.best_epoch == 2 and res.best.values == {"k": 3.0} and res.best_state == 1
    assert res.curves == {"loss": [-1.0, -3.0, -3.0, -2.0]}  # rounded to 6 digits


def test_fit_stops_after_patience_stale_epochs_and_logs_each_epoch():
    step, ran = _steps([1.0, 2.0, 1.5, 1.9, 1.0, 5.0])
    progress = RecordingProgress()
    res = fit(step, epochs=6, snapshot=lambda: None, patience=3, progress=progress, description="training X",
              criterion="val_perf")
    assert ran == [1, 2, 3, 4, 5] and res.stopped_early_at == 5 and res.best_epoch == 2
    notes = [v for k, v in progress.events if k == "note"]
    assert notes[:5] == [f"epoch {e:03d} key {k}" for e, k in zip(range(1, 6), [1.0, 2.0, 1.5, 1.9, 1.0])]
    assert notes[-1] == "early stop at epoch 005: no better val_perf for 3 epochs"
    assert ("task", "training X") in progress.events and progress.events.count(("advance", 1)) == 5


def test_fit_never_stops_early_on_the_last_epoch():
    step, ran = _steps([2.0, 1.0, 1.0])
    res = fit(step, epochs=3, snapshot=lambda: None, patience=2)
    assert ran == [1, 2, 3] and res.stopped_early_at is None


@pytest.mark.parametrize("router", ["sim", "mlp", "graph"])
def test_every_router_returns_one_router_result(sess, router):
    from rpcli.core.routers.run import RouteContext, RouterResult
    from rpcli.services.artifacts.profiles import load_profile_entry
    from rpcli.core.registry import router as get_router
    from rpcli.services.artifacts.routes import resolve_options, training_signal

    _, names, vecs = load_profile_entry(sess, _index_profile(sess))
    sig = training_signal(sess, "standard", names, "formatted")
    ctx = RouteContext(mode="standard", models=names, profile_vecs=vecs, test_texts=["a b", "c d", "e"],
                       encoder=sess.encoder, train=sig)
    plugin = get_router(router)
    trained = plugin.caps.checkpoint
    out = plugin.run(ctx, resolve_options(plugin, {"epochs": 2, "hidden": 8} if trained else {}), 0)
    assert isinstance(out, RouterResult)
    assert out.test_scores.shape == (3, len(names)) and out.train_scores.shape == (len(sig), len(names))
    assert np.isfinite(out.test_scores).all()
    assert (out.checkpoint is not None) == trained and bool(out.info) == trained


def _index_profile(sess):
    from rpcli.services.artifacts.profiles import build_profile_entry

    return build_profile_entry(sess, "index", "standard", {"seed": 56}).entry["id"]
