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
    from rpcli.cli._progress import RichProgress
    from rpcli.services.base import Session
    from rpcli.workspace.layout import resolve_workspace

    o = options(ctx)
    return Session(workspace=resolve_workspace(o.workspace), data_root=o.data, encoder_spec=o.encoder,
                   progress=RichProgress(quiet=o.quiet or quiet), keep_overlap=o.keep_overlap, device=o.device)
