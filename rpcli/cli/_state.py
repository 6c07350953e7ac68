"""Global options (from the root callback) and the session factory used by every command."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer


@dataclass
class GlobalOptions:
    workspace: Path | None = None
    data: Path | None = None
    encoder: str | None = None
    quiet: bool = False
    keep_overlap: bool = False
    device: str = "cpu"


def options(ctx: typer.Context) -> GlobalOptions:
    root = ctx.find_root()
    if not isinstance(root.obj, GlobalOptions):
        root.obj = GlobalOptions()
    return root.obj


def session(ctx: typer.Context, quiet: bool = False):
    """The command's Session; `quiet` silences progress (bars and notes) whatever the global --quiet says."""
    from rpcli.cli._output import cli_errors
    from rpcli.cli._progress import RichProgress
    from rpcli.services.base import Session, check_device
    from rpcli.workspace.layout import resolve_workspace

    o = options(ctx)
    with cli_errors():
        check_device(o.device, "--device")
        return Session(workspace=resolve_workspace(o.workspace), data_root=o.data, encoder_spec=o.encoder,
                       progress=RichProgress(quiet=o.quiet or quiet), keep_overlap=o.keep_overlap, device=o.device)


SEED_MAX = 2**32 - 1  # numpy's seed range; every seed option accepts 0..SEED_MAX


def check_finite(**values) -> None:
    """A usage error (exit 2) for a NaN or infinite float option; names are given as keyword arguments (lr=...)."""
    import math

    for name, v in values.items():
        if v is not None and not math.isfinite(v):
            raise typer.BadParameter(f"--{name.replace('_', '-')} must be a finite number, got {v}")
