"""Options shared by the command groups: mode, --force, --json, --seeds, --device."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Optional

import typer


class Mode(str, Enum):
    standard = "standard"
    newllm = "newllm"


ModeOpt = Annotated[Mode, typer.Option("--mode", "-m", help="standard or newllm.")]
ForceOpt = Annotated[bool, typer.Option(help="Rebuild even if an identical artifact is recorded.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the whole record as JSON.")]
SeedsOpt = Annotated[str, typer.Option("--seeds", help="Comma-separated seeds; one training run each, reported as "
                                       "mean ± sd (e.g. 0,1,2).")]
DeviceOpt = Annotated[Optional[str], typer.Option("--device", help="Torch device (default: the global --device). "
                                                  "Not part of the recipe: CPU and CUDA runs share one id.")]


def parse_seeds(text: str) -> list[int]:
    try:
        seeds = [int(x) for x in text.replace(" ", "").split(",") if x != ""]
    except ValueError:
        raise typer.BadParameter(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds:
        raise typer.BadParameter("--seeds needs at least one seed")
    from rpcli.cli._state import SEED_MAX

    out = [s for s in seeds if not 0 <= s <= SEED_MAX]
    if out:
        raise typer.BadParameter(f"--seeds must be between 0 and {SEED_MAX}, got {out[0]}")
    return seeds
