"""rp route: run a router on a profile, evaluate it on the test rows, record the run.

This module coordinates: it checks the request, resolves the profile and the mode's training signal once (the
signal is built, and checked against the held-out models, before anything is trained), and hands a `RouteContext`
to `rpcli.core.routers.run.evaluate_run` inside `build_artifact` (reuse or build, then register).
Routers are `run(ctx, opts, seed) -> RouterResult` functions in `rpcli.core.routers`; the evaluation, the
cost-quality curve (`rpcli.core.eval.cost_quality`) and the seed summary (`rpcli.core.eval.seeds`) are shared.

The device is a runtime setting, not part of the recipe: a run on CUDA and one on the CPU share one id
(docs/architecture.md); the device used is recorded in the run's info.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rpcli.core.data.schema import MODES
from rpcli.core.registry import router as get_router
from rpcli.core.registry import routers as registered_routers
from rpcli.errors import ConfigError, TrainingDataError
from rpcli.services.base import BuildResult, Recipe, Session, build_recipe, check_modes, check_same_data

if TYPE_CHECKING:  # annotations only: this module imports no numpy or torch
    from rpcli.core.plugin import Router

RUNTIME_OPTS = ("device",)  # accepted in opts by routers that train with torch; never part of the recipe


def router_names() -> list[str]:
    """Every registered router, in display order (rpcli.core.registry)."""
    return list(registered_routers())


def training_signal(sess: Session, mode: str, models: list[str], query_text: str, labels: str = "pairs"):
    """The mode's training signal over `models` (None when the mode has no pairwise file and labels="pairs").
    Raises TrainingDataError when it mentions a held-out model of the mode."""
    from rpcli.core.routers.training import training_signal as signal

    # one session computes each signal once (a sweep plans dozens of runs on the same one); a TrainingSignal is
    # never modified after it is built
    memo = sess.__dict__.setdefault("_training_signals", {})
    key = (mode, tuple(models), query_text, labels)
    if key not in memo:
        memo[key] = signal(sess.dataset, mode, models, query_text, labels=labels)
    return memo[key]


def router_signal(sess: Session, plugin: Router, mode: str, models: list[str], query_text: str,
                  labels: str = "pairs"):
    """The training signal a router learns from: the dataset's per-query training scores when it has them and the
    router takes them (caps.scores), else `training_signal` (its pairs, or --labels scores)."""
    if getattr(plugin.caps, "scores", False) and getattr(sess.dataset, "train_scores", None) is not None:
        from rpcli.core.routers.training import score_signal

        memo = sess.__dict__.setdefault("_training_signals", {})
        key = (mode, tuple(models), query_text, "dataset-scores")
        if key not in memo:
            memo[key] = score_signal(sess.dataset, mode, models, query_text)
        return memo[key]
    return training_signal(sess, mode, models, query_text, labels=labels)


def card_train_tasks(ds, mode: str) -> list:
    """Routing tasks whose card scores look measured on the training queries (rpcli.core.data.audit)."""
    from rpcli.core.data.audit import card_score_overlap

    return [t for t, o in card_score_overlap(ds, mode).items() if o["scores_on_train_steps"]]


def resolve_options(plugin: Router, opts: dict) -> dict:
    """The router's options: `opts` over its defaults (runtime options dropped); ConfigError for unknown ones."""
    accepted = set(RUNTIME_OPTS) if plugin.caps.device else set()
    return plugin.resolve({k: v for k, v in opts.items() if k not in accepted})


def router_cards(ds, mode: str) -> tuple[dict, list]:
    """({model: {benchmark: score}}, [model]) of the mode's model file, without the card scores of tasks the data
    audit flags as carrying test information (rpcli.core.data.audit.card_score_overlap): a router may learn from
    the cards only what was measured away from the test rows."""
    from rpcli.core.data.audit import card_score_overlap

    leaky = {t for t, o in card_score_overlap(ds, mode).items() if o["carries_test_information"]}
    md = ds.mode(mode)
    cards = {m.name: {k: v for k, v in m.scores.items() if k not in leaky} for m in md.models}
    return cards, [m.name for m in md.models]


def run_router_entry(sess: Session, router: str, profile_ref: str, mode: str, opts: dict | None = None, *,
                     seeds: list[int] | None = None, query_text: str = "formatted", force: bool = False,
                     device: str | None = None) -> BuildResult:
    """Run (or reuse) a router on a profile. `opts` are the router's options (its recipe); `device` (default: the
    session's) only says where to train."""
    return build_recipe(sess, run_recipe(sess, router, profile_ref, mode, opts, seeds=seeds, query_text=query_text,
                                         device=device), force=force)


def run_recipe(sess: Session, router: str, profile_ref: str, mode: str, opts: dict | None = None, *,
               seeds: list[int] | None = None, query_text: str = "formatted", device: str | None = None) -> Recipe:
    """The recipe of a router run (checked, its training signal resolved; nothing trained)."""
    from rpcli.core.routers.query_text import QUERY_TEXT_CHOICES
    from rpcli.core.routers.query_text import query_text as qtext
    from rpcli.core.routers.run import RouteContext, evaluate_run
    from rpcli.services.artifacts.profiles import load_profile_entry

    plugin = get_router(router)
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose standard or newllm")
    if query_text not in QUERY_TEXT_CHOICES:
        raise ConfigError(f"--query-text must be one of {', '.join(QUERY_TEXT_CHOICES)}")
    caps = plugin.caps
    raw = dict(opts or {})
    if "device" in raw and not caps.device:
        raw.pop("device")
    device = device or raw.get("device") or sess.device or "cpu"
    opts = resolve_options(plugin, raw)
    ds = sess.dataset
    md = ds.mode(mode)
    pentry, names, vecs = load_profile_entry(sess, profile_ref)
    check_modes(pentry, mode, "profile")
    check_same_data(sess, pentry)
    unknown = [n for n in names if n not in ds.candidates]
    if unknown:
        sess.progress.warn(f"profile models {unknown} are not routing candidates: choosing them scores 0")
    seeds = list(dict.fromkeys(int(s) for s in seeds)) if seeds else [0]
    if not caps.seeded:
        seeds = [0]
    params = {"router": router, "mode": mode, "query_text": query_text, "seeds": seeds, **plugin.recipe(opts)}

    labels = opts.get("labels", "pairs")
    sig = router_signal(sess, plugin, mode, names, query_text, labels=labels)
    if getattr(sig, "source", None) == "scores" and labels != "scores":
        params["train_signal"] = "scores"  # the dataset's per-query training scores, not its pairs (caps.scores)
    if labels == "scores":
        from rpcli.core.routers.training import SCORE_ROWS_FILE
        from rpcli.workspace.hashing import sha256_file

        params["train_file_sha256"] = sha256_file(ds.root / SCORE_ROWS_FILE)
    if caps.training and (sig is None or len(sig) == 0):
        raise TrainingDataError(f"router {router!r} needs training data, but mode {mode!r} has "
                                + ("no pairwise training file" if sig is None else "no usable training query"),
                                hint=f"add route_data/pairwise_training_data_{mode}.json")
    held = [h for h in md.held_out if h in names] if mode == "newllm" else []
    ctx = RouteContext(mode=mode, models=names, profile_vecs=vecs,
                       test_texts=[qtext(r, query_text) for r in ds.test_rows], encoder=sess.encoder, train=sig,
                       held_out=held, seeds=seeds, device=device, progress=sess.progress,
                       test_tasks=[r.task_name for r in ds.test_rows])
    if caps.cards:
        ctx.cards, ctx.card_models = router_cards(ds, mode)
        ctx.card_train_tasks = card_train_tasks(ds, mode)
    meta = None
    if caps.checkpoint:
        meta = {"router": router, "profile_id": pentry["id"], "mode": mode, "query_text": query_text,
                "encoder_id": sess.encoder.id, "held_out": list(held), "label_source": sig.source}

    def builder(out_dir):
        result = evaluate_run(ds, ctx, lambda seed: plugin.run(ctx, opts, seed), out_dir, ckpt_meta=meta)
        if caps.seeded or caps.device:
            result["info"]["device"] = device
        return result

    return Recipe("run", params, [pentry["id"]], builder)
