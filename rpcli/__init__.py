"""rp: design, build and evaluate LLM profiles for routing.

Importing `rpcli` must stay cheap: no torch, no typer here. The Python API (rpcli/api.py, docs/api.md) is
re-exported lazily: `from rpcli import open_workspace, load_run` imports it on first use.
"""

from rpcli._version import __version__

_API = ("load_dataset", "open_workspace", "build_graph", "build_profile", "run_router", "leaderboard", "load_run",
        "import_dataset", "add_model")
_ERRORS = ("RpError", "ConfigError", "DataFileError")

__all__ = ["__version__", *_API, *_ERRORS]


def __getattr__(name: str):
    if name in _API:
        from rpcli import api

        return getattr(api, name)
    if name in _ERRORS:
        from rpcli import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'rpcli' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
