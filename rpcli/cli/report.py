"""rp report: the study's tables (reference rows, design x router grid, the paper beside ours) from the workspace."""

from __future__ import annotations

import shlex
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._output import cli_errors, err_console
from rpcli.cli._state import options, session


class ReportFormat(str, Enum):
    markdown = "markdown"
    json = "json"


def command_line(ctx: typer.Context, fmt: ReportFormat, paper: bool, sweep: str | list | None,
                 out: Path | None) -> str:
    """The command that regenerates this report, in a fixed order (printed at the top of the report)."""
    o = options(ctx)
    parts = ["rp"]
    if o.data is not None:
        parts += ["-d", str(o.data)]
    parts.append("report")
    if fmt is not ReportFormat.markdown:
        parts += ["--format", fmt.value]
    if paper:
        parts.append("--paper")
    for name in ([sweep] if isinstance(sweep, str) else (sweep or [])):
        parts += ["--sweep", name]
    if out is not None:
        parts += ["--out", str(out)]
    return shlex.join(parts)


def report(ctx: typer.Context,
           fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help="markdown (a document) or json (the "
                                                                            "same content as data).")]
           = ReportFormat.markdown,
           paper: Annotated[bool, typer.Option("--paper", help="Put the paper's published values (Tables 1 and "
                                                               "2) and the deltas beside comparable cells; "
                                                               "states the encoder difference once.")] = False,
           sweep: Annotated[Optional[list[str]], typer.Option("--sweep", "-s", help="Report only the runs of the "
                                                                                    "sweep recorded as <workspace>/"
                                                                                    "sweeps/NAME.json, with its "
                                                                                    "commit, wall time and "
                                                                                    "completeness; repeat it to "
                                                                                    "report several sweeps "
                                                                                    "together.")] = None,
           out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the report to FILE instead of "
                                                                           "stdout.")] = None) -> None:
    """The study's tables regenerated from the workspace: reference rows, then per mode the profile-design x
    router grid (mean ± sd over seeds, n, 95% CI), every run, and with --paper the paper's cells beside ours.

    Only runs evaluated on the selected dataset (-d; with --sweep, the sweep's dataset by default) are reported.
    The output is deterministic, so a committed report can be regenerated and diffed.

    Example: rp -d ../shared/data/routeprofile report --paper --sweep paper-table1 --sweep best --out docs/results.md
    """
    sweep = list(sweep) if sweep else None
    cmd = command_line(ctx, fmt, paper, sweep, out)
    sess = session(ctx)
    from rpcli.services.artifacts.report import build, resolve_sweep
    from rpcli.workspace import report as R

    with cli_errors():
        o = options(ctx)
        label = None
        if o.data is not None:
            label = str(o.data)
        elif sweep is not None:
            rec = resolve_sweep(sess, sweep[0])
            label = (rec.get("data") or {}).get("root") if sess.data_root is not None else None
        if label is None:
            label = "embedded demo"
        doc = build(sess, command=cmd, paper=paper, sweep=sweep, data_label=label)
        text = R.render_json(doc) if fmt is ReportFormat.json else R.render_markdown(doc)
        if out is None:
            sys.stdout.write(text)
            sys.stdout.flush()
            return
        _write(out, text)
    err_console.print(f"wrote {out}")


def _write(path: Path, text: str) -> None:
    import os

    from rpcli.errors import RpError

    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise RpError(f"cannot write the report to {path}: {exc.strerror or exc}",
                      hint="choose another --out path") from None
