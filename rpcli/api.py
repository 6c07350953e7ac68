"""rp's Python API: the CLI's verbs as functions, with the CLI's behaviour (the same workspace and manifest, the
same recipes and so the same artifact ids, the same checks and errors: every failure is an `rpcli.RpError` with
the message the CLI prints). Documented in docs/api.md.

    import rpcli

    ds = rpcli.load_dataset("data/")                                  # validated RouteDataset
    ws = rpcli.open_workspace("workspace/", data="data/", encoder="default")
    g = rpcli.build_graph(ws, "task")                                 # manifest records (dicts with "id")
    p = rpcli.build_profile(ws, "emb-gnn", graph=g["id"], K=2)
    run = rpcli.run_router(ws, "mlp", profile=p["id"], seeds=[0, 1, 2])
    rows = rpcli.leaderboard(ws)
    router = rpcli.load_run(ws, run["id"])
    router.route("Write a function that reverses a list")             # -> a candidate's name

`import rpcli` stays light (no torch): every name here is imported on first use.
"""

from __future__ import annotations

from pathlib import Path

def profile_defaults() -> dict[str, dict]:
    """{method: {option: default}} of every registered profile method, read off its Config (rpcli.core.registry):
    the defaults of `rp profile METHOD` and of `rp sweep`, which a test checks against the CLI."""
    from rpcli.core.registry import profile_methods

    return {name: m.defaults() for name, m in profile_methods().items()}


__all__ = ["profile_defaults", "build_graph", "build_profile", "leaderboard", "load_dataset", "load_run",
           "open_workspace", "run_router"]


def load_dataset(path, keep_overlap: bool = False):
    """A dataset in the RouteProfile layout, loaded and validated (`rp data check` reads it the same way).
    Raises DataFileError naming the file, record and field of the first problem."""
    from rpcli.core.data import load_dataset as _load

    return _load(Path(path), keep_overlap=keep_overlap)


def open_workspace(workspace=None, *, data=None, encoder: str | None = None, device: str = "cpu",
                   keep_overlap: bool = False, progress=None):
    """A Session: the workspace (default: $RP_WORKSPACE, else ./workspace), the dataset (default: $RP_DATA, else
    the embedded demo), the encoder ('default', a local model directory or hash:N; default $RP_ENCODER, else
    all-MiniLM-L6-v2) and where progress goes (an rpcli.core.progress.Progress; default: nowhere)."""
    import os

    from rpcli.core.progress import NullProgress
    from rpcli.services.base import Session, check_device
    from rpcli.workspace.layout import resolve_workspace

    check_device(device)
    data = data if data is not None else os.environ.get("RP_DATA")
    return Session(workspace=resolve_workspace(Path(workspace) if workspace is not None else None),
                   data_root=Path(data) if data else None, encoder_spec=encoder or os.environ.get("RP_ENCODER"),
                   progress=progress or NullProgress(), keep_overlap=keep_overlap, device=device)


def build_graph(sess, kind: str, mode: str = "standard", *, max_queries_per_task: int | None = None,
                force: bool = False) -> dict:
    """`rp graph build KIND`: build or reuse a graph; returns its manifest record."""
    from rpcli.services.artifacts.graphs import build_graph_entry

    return build_graph_entry(sess, kind, mode, max_queries_per_task=max_queries_per_task, force=force).entry


def build_profile(sess, method: str, mode: str = "standard", *, graph: str | None = None, keep: str | None = None,
                  force: bool = False, **opts) -> dict:
    """`rp profile METHOD`: build or reuse a profile (options as keyword arguments, named as in the CLI with
    underscores: K=2, norm="sym", top_k=5, ...; unset ones take the CLI's defaults). text-gnn's LLM backend
    settings may also be given as one dict, `llm={"model": ..., "max_tokens": ...}`, and its prompt templates as
    `prompts_file` (or `prompts`). Returns the profile's manifest record."""
    from rpcli.services.artifacts.profiles import build_profile_options

    llm = opts.pop("llm", None) or {}
    if "prompts_file" in opts:
        opts["prompts"] = opts.pop("prompts_file")
    if isinstance(opts.get("prompts"), Path):
        opts["prompts"] = str(opts["prompts"])
    return build_profile_options(sess, method, mode, {**llm, **opts}, graph_ref=graph, keep=keep,
                                 force=force).entry


def run_router(sess, router: str, profile: str, mode: str = "standard", *, seeds: list[int] | None = None,
               query_text: str = "formatted", device: str | None = None, force: bool = False, **opts) -> dict:
    """`rp route ROUTER`: run (or reuse) a router on a profile, evaluate it on the test rows and record the run
    (options as keyword arguments: epochs=20, hidden=512, ...; unset ones take the router's defaults). Returns
    the run's manifest record (its metrics under "metrics")."""
    from rpcli.services.artifacts.routes import run_router_entry

    return run_router_entry(sess, router, profile, mode, opts, seeds=seeds, query_text=query_text, force=force,
                            device=device).entry


def leaderboard(sess, modes=None, include_singles: bool = False) -> list[dict]:
    """`rp compare`: the reference rows and the comparable recorded runs, in the printed order."""
    from rpcli.core.data.schema import MODES
    from rpcli.services.artifacts.compare import compare_rows

    return compare_rows(sess, modes=tuple(m for m in (modes or MODES) if m in sess.dataset.modes),
                        include_singles=include_singles)


def load_run(sess, run: str, seed: int | None = None, check: bool = True):
    """A recorded run, ready to route text (`rp route query`): `.route(text, lam=None) -> str`,
    `.decide(texts, lam=None) -> [Decision]`, `.explain(text, lam=None) -> dict`. The run's own dataset and
    encoder are used unless the session names others (then they must match); with `check` the test rows are
    scored again and must reproduce the recorded predictions."""
    from rpcli.services.serving.inference import load_run as _load

    return _load(sess, run, seed=seed, check=check)


def __getattr__(name: str):
    """`import_dataset` and `add_model` (rp data import, rp model add) are re-exported when their module exists."""
    lazy = {"import_dataset": "rpcli.services.data.importer", "add_model": "rpcli.services.data.models"}
    if name in lazy:
        import importlib

        try:
            return getattr(importlib.import_module(lazy[name]), name)
        except (ImportError, AttributeError):
            raise AttributeError(f"rpcli.{name} is not available in this version of rp") from None
    raise AttributeError(f"module 'rpcli.api' has no attribute {name!r}")
