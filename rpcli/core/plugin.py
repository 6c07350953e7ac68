"""What a router or a profile method is: subclass `Router` (or `ProfileMethod`), give it a name and a Config
dataclass, and declare an instance as an entry point (`rp.routers` / `rp.profiles`). docs/plugins.md walks
through one.

A router in one file:

    from dataclasses import dataclass
    import numpy as np
    from rpcli.core.plugin import Capabilities, Router, option

    @dataclass
    class Config:
        shrink: float = option(1.0, "Pseudo-counts toward the mean win rate.", min=0.0)

    class WinRate(Router):
        name = "winrate"
        Config = Config
        caps = Capabilities(training=True)
        summary = "Each candidate's overall win rate, the same for every query."

        def fit(self, ctx, cfg, seed):
            ...                       # ctx: rpcli.core.routers.run.RouteContext (training signal, embeddings)
            return Scorer(...)        # any object with .scores(query_vecs [B, D], tasks=None) -> [B, K]

    ROUTER = WinRate()

`fit` is all a router must write: the shared `run` evaluates it (test rows, training-query scores for the
cost-quality curve, predictions, checkpoints, seeds), and the shared `load` refits it at load (`rp route query`,
`rp serve`, the API) from the run's training signal and recorded options, or, when `caps.checkpoint`, restores it
with `restore(checkpoint_dict, ctx)` from the `save(model)` dict written as ckpt.pt. A router whose options are
tuned during `fit` records the chosen ones in `model.info["config"]` (with its tuning switch off, e.g.
`tune: False`, so the refit at load does not tune again); the refit at load uses them. The training-query scores
that calibrate the cost-quality curve are `model.calibration_scores(q, tasks)` when the fitted model has one (e.g.
each query left out of its own fit, as the knn routers do), else `model.scores`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rpcli.core.registry import OptionMeta, defaults_of, non_default, option, options_of  # noqa: F401 (re-exported)
from rpcli.errors import ConfigError

if TYPE_CHECKING:
    from rpcli.core.routers.inference import LoadedRouter
    from rpcli.core.routers.run import RouteContext, RouterResult


def resolve_options(who: str, options: list, opts: dict | None) -> dict:
    """Every option of `options` (OptionSpec), `opts` over the defaults (None values left to their default); an int
    given for a float option becomes a float, as the command line and a sweep file make it (so `shrink=8` in the
    Python API records the same recipe, and id, as `--shrink 8`). ConfigError for an option `who` does not have, and
    for a value outside its declared min, max or choices (every surface, not only the command line)."""
    known = {o.name: o for o in options}
    opts = {k: v for k, v in (opts or {}).items() if v is not None}
    unknown = sorted(set(opts) - set(known))
    if unknown:
        raise ConfigError(f"{who} has no option(s) {unknown}"
                          + (f"; it accepts {', '.join(sorted(known))}" if known else "; it takes none"))
    out = {}
    for k, v in opts.items():
        o = known[k]
        if o.type == "float" and isinstance(v, int) and not isinstance(v, bool):
            v = float(v)
        number = isinstance(v, (int, float)) and not isinstance(v, bool)
        what = f"{who}: option {k!r}" + (f" ({o.cli_flag().split('/')[0]})" if o.cli else "")
        if number and o.min is not None and v < o.min:
            raise ConfigError(f"{what} must be >= {o.min:g}, got {v!r}")
        if number and o.max is not None and v > o.max:
            raise ConfigError(f"{what} must be <= {o.max:g}, got {v!r}")
        if o.choices and v not in o.choices:
            raise ConfigError(f"{what} must be one of {', '.join(map(str, o.choices))}, got {v!r}")
        out[k] = v
    return {**{o.name: o.default for o in options}, **out}


@dataclass
class NoOptions:
    """The Config of a router or method without options."""


@dataclass(frozen=True)
class Capabilities:
    """What a router needs and can do; rp reads these instead of lists of names."""

    training: bool = True  # needs the mode's training signal (pairs or per-query labels); sim alone does not
    seeded: bool = False  # takes --seeds (training, CV folds or initialisation are seeded); else one seed, 0
    checkpoint: bool = False  # writes ckpt.pt per seed and loads from it; False: refitted at load (deterministic)
    device: bool = False  # trains with torch: takes --device (a runtime setting, never in the recipe)
    cards: bool = False  # reads the mode's model cards (benchmark scores, leaky ones dropped): ctx.cards
    labels: bool = False  # takes --labels pairs|scores (per-query labels from the score file)
    scores: bool = False  # learns from the per-query training scores (route_data/routing_train_data.json) when the
    #                       dataset has them, instead of its pairs (ctx.train of source "scores")
    cost_aware: bool = False  # its own choice already weighs cost
    new_model: str = "refit"  # how it takes a model it was not trained on, without retraining: "profile" (its
    #                           profile vector alone), "refit" (refitted on the new data: its card), "none"

    def describe(self) -> str:
        bits = ["needs training data" if self.training else "no training data"]
        bits += [b for b, on in (("seeded", self.seeded), ("checkpoint", self.checkpoint), ("torch", self.device),
                                 ("cards", self.cards), ("cost-aware", self.cost_aware)) if on]
        bits.append(f"new model: {self.new_model}")
        return ", ".join(bits)


class Router:
    """A router plugin. Subclasses set the class attributes and implement `fit` (or override `run` and `load`)."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = NoOptions
    caps: ClassVar[Capabilities] = Capabilities()
    summary: ClassVar[str] = ""  # one line: rp plugins, the command list
    description: ClassVar[str] = ""  # the command's help (paragraphs); default: the summary
    example: ClassVar[str] = ""  # e.g. "rp route winrate --profile profile-0d9e --shrink 2"
    order: ClassVar[int] = 1000  # display order (leaderboard, report, rp plugins); then by name
    title: ClassVar[str | None] = None  # short column title in reports ("Sim"); default: the name

    # -- options ---------------------------------------------------------------------------------------------------
    def options(self) -> list:
        return options_of(self.Config)

    def defaults(self) -> dict:
        return defaults_of(self.Config)

    def resolve(self, opts: dict | None) -> dict:
        """Every option, `opts` over the defaults (None values left to their default); ConfigError for an option
        the router does not have. An int given for a float option becomes a float, as the command line and a sweep
        file make it (so `shrink=8` in the Python API records the same recipe, and id, as `--shrink 8`)."""
        return resolve_options(f"router {self.name!r}", self.options(), opts)

    def recipe(self, opts: dict) -> dict:
        """The options as they enter the run's recipe (params): a `late` option only when not at its default."""
        late = {o.name: o.default for o in self.options() if o.late}
        return {k: v for k, v in opts.items() if k not in late or late[k] != v}

    def config(self, opts: dict):
        """The Config instance of resolved options (keys it does not know are ignored)."""
        fields = {o.name for o in self.options()}
        return self.Config(**{k: v for k, v in opts.items() if k in fields})

    def label(self, params: dict) -> str:
        """`name(option=value, ...)` naming every option of a run's params that differs from its default."""
        diff = non_default(self.Config, params)
        return self.name + (f"({', '.join(f'{k}={v}' for k, v in sorted(diff.items()))})" if diff else "")

    # -- training and evaluation -------------------------------------------------------------------------------------
    def fit(self, ctx: RouteContext, cfg, seed: int) -> Any:
        """The fitted router: an object with `scores(query_vecs [B, D], tasks=None) -> [B, K]` (K = ctx.models,
        in that order) and optionally `info` (a dict recorded under the run's metrics["train"])."""
        raise NotImplementedError(f"router {self.name!r} implements neither fit nor run")

    def save(self, model) -> dict:
        """caps.checkpoint: the checkpoint dict of a fitted model (torch.save'd as ckpt.pt; tensors, numbers,
        strings, lists and dicts only: it is read back with weights_only=True)."""
        raise NotImplementedError(f"router {self.name!r} declares checkpoints but has no save()")

    def restore(self, checkpoint: dict, ctx: RouteContext) -> Any:
        """caps.checkpoint: the fitted model from a checkpoint written by `save` (ctx: the candidates, profile)."""
        raise NotImplementedError(f"router {self.name!r} declares checkpoints but has no restore()")

    def run(self, ctx: RouteContext, opts: dict, seed: int) -> RouterResult:
        """One seed of a run: fit, then score the test rows and the training queries (the cost-quality curve)."""
        from rpcli.core.routers.run import RouterResult

        if self.caps.training and (ctx.train is None or len(ctx.train) == 0):
            from rpcli.errors import TrainingDataError

            raise TrainingDataError(f"router {self.name!r} needs the mode's training data, and there is none")
        model = self.fit(ctx, self.config(opts), seed)
        test = model.scores(ctx.test_vecs(), ctx.test_tasks)
        train = None
        if ctx.train is not None and len(ctx.train):
            calibrate = getattr(model, "calibration_scores", None) or model.scores
            train = calibrate(ctx.train_vecs(), list(ctx.train.tasks))
        info = dict(getattr(model, "info", None) or {})
        ckpt = self.save(model) if self.caps.checkpoint else None
        return RouterResult(test, train_scores=train, info=info, checkpoint=ckpt)

    def load(self, run_dir: Path, ctx: RouteContext, *, seed: int = 0, n_seeds: int = 1, opts: dict | None = None,
             recorded: dict | None = None, new_candidates: bool = False) -> LoadedRouter:
        """The run's router for `seed`, ready to score new queries.

        ctx: the run's inputs rebuilt (candidates, profile, training signal, cards), on the run's data, or on new
        data with a new candidate (`new_candidates`, rp model add). opts: the run's options (its recipe);
        recorded: the seed's metrics["train"] (with "config" when the router tuned its options)."""
        from rpcli.core.routers.inference import LoadedRouter, checkpoint_file

        if self.caps.checkpoint:
            import torch

            path = checkpoint_file(Path(run_dir), seed, n_seeds)
            if not path.is_file():
                raise ConfigError(f"{path} is absent: the run has no checkpoint for seed {seed}",
                                  hint=f"rebuild it: rp route {self.name} ... --force")
            ck = torch.load(path, map_location="cpu", weights_only=True)
            model = self.restore(ck, ctx)
        else:
            cfg_opts = {**self.resolve({k: v for k, v in (opts or {}).items() if k in self.defaults()}),
                        **((recorded or {}).get("config") or {})}
            model = self.fit(ctx, self.config(cfg_opts), seed)
        dim = ctx.train_vecs().shape[1] if ctx.train is not None and len(ctx.train) else None
        return LoadedRouter(router=self.name, models=list(ctx.models), profile_vecs=ctx.profile_vecs, seed=int(seed),
                            scorer=_PluginScorer(model, dim), device=ctx.device)


    def reroute_info(self, lr: LoadedRouter, recorded: dict) -> dict:
        """What `rp model add` records of a seed routed to a new candidate set without retraining (`recorded`: the
        seed's metrics["train"] of the original run); raise ConfigError when the router cannot take it."""
        return {}


class _PluginScorer:
    """The LoadedRouter side of a plugin's fitted model."""

    def __init__(self, model, dim: int | None) -> None:
        self.model = model
        self.query_dim = dim

    def scores(self, q, tasks=None):
        return self.model.scores(q, tasks)

    def calibration_scores(self, q, tasks=None):
        return (getattr(self.model, "calibration_scores", None) or self.model.scores)(q, tasks)

    def checkpoint(self):
        return None


class ProfileMethod:
    """A profile method plugin: `build(env, graph, names, opts, out_dir, runtime) -> (vectors [len(names), D],
    info)`. `env` has .encoder (.encode, .dim, .id), .device, .progress, .workspace; `graph` is the parent graph
    (None when `default_graph` is None); `opts` the resolved options (the recipe); `runtime` objects that are not
    part of the recipe.

    The options say what to build, and enter the recipe (params, hence the id) as resolved. A method some of whose
    options say how to build instead overrides `prepare`, which turns the options into the recipe and the runtime
    objects (text-gnn: its LLM settings build a backend, whose identity enters the recipe and which reaches `build`
    as a runtime object), and `cli_hints` presents such options on the command line."""

    name: ClassVar[str] = ""
    Config: ClassVar[type] = NoOptions
    default_graph: ClassVar[str | None] = "task"  # graph kind built when --graph is not given; None: no graph
    uses_encoder: ClassVar[bool] = True  # its vectors live in the encoder's space (the graph's width is checked)
    learns_scores: ClassVar[bool] = False  # learns from score edges: the held-out model's scores are hidden
    summary: ClassVar[str] = ""
    description: ClassVar[str] = ""
    example: ClassVar[str] = ""
    order: ClassVar[int] = 1000
    cli_hints: ClassVar[dict[str, dict]] = {}  # {option: {"envvar": "RP_LLM_MODEL", "panel": "LLM backend",
    #   "short": "-K", "file": True, "device": True}}: read from an environment variable, listed under a help panel,
    #   given a short flag, an existing file, a torch device (checked before anything is built). Presentation only.

    def options(self) -> list:
        return options_of(self.Config)

    def defaults(self) -> dict:
        return defaults_of(self.Config)

    def resolve(self, opts: dict | None) -> dict:
        """Every option, `opts` over the defaults (None values left to their default; an int given for a float
        option becomes a float, as on the command line); ConfigError for an option the method does not have."""
        return resolve_options(f"profile method {self.name!r}", self.options(), opts)

    def prepare(self, env, opts: dict) -> tuple[dict, dict]:
        """(recipe, runtime objects) of a build from its resolved options. Default: the options are the recipe."""
        return dict(opts), {}

    def learns_from_scores(self, recipe: dict) -> bool:
        """Whether a build of this recipe learns from score edges (then the held-out model's are hidden from it)."""
        return self.learns_scores

    def label(self, params: dict) -> str:
        diff = non_default(self.Config, params)
        return self.name + (f"({', '.join(f'{k}={v}' for k, v in sorted(diff.items()))})" if diff else "")

    def build(self, env, graph, names: list, opts: dict, out_dir: Path, runtime: dict) -> tuple[Any, dict]:
        raise NotImplementedError(f"profile method {self.name!r} has no build()")
