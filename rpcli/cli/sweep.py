"""rp sweep FILE.yaml: build a grid of graphs, profiles and runs from one YAML file."""

from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from rpcli.cli._output import cli_errors, err_console, out_console, print_json
from rpcli.cli._state import options, session


class Executor(str, Enum):
    local = "local"
    ray = "ray"


def _secs(s) -> str:
    if s is None:
        return "?"
    s = float(s)
    if s < 60:
        return f"{s:.0f}s"
    if s < 3600:
        return f"{s / 60:.1f}min"
    return f"{s / 3600:.1f}h"


class RichSweepEvents:
    """One overall bar plus one line per running cell on a terminal; one plain line per finished cell otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.interactive = err_console.is_terminal and not quiet
        self.progress = None
        self.overall = None
        self.lines: dict = {}
        self.total = 0
        self.done = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    def start(self, states) -> None:
        self.total = len(states)
        if not self.interactive:
            return
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, \
            TimeElapsedColumn

        self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(bar_width=30),
                                 MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("[dim]{task.fields[note]}"),
                                 console=err_console, transient=False)
        self.progress.start()
        self.overall = self.progress.add_task("sweep", total=self.total, note="")

    def cell_started(self, st) -> None:
        if self.progress is not None:
            from rich.markup import escape

            self.lines[id(st)] = self.progress.add_task(f"  {escape(st.cell.label())[:70]}", total=None, note="")

    def cell_note(self, st, message: str) -> None:
        if self.progress is not None and id(st) in self.lines:
            from rich.markup import escape

            self.progress.update(self.lines[id(st)], note=escape(message)[:60])

    def cell_finished(self, st) -> None:
        self.done += 1
        if self.progress is not None:
            task = self.lines.pop(id(st), None)
            if task is not None:
                self.progress.remove_task(task)
            self.progress.update(self.overall, completed=self.done)
            if st.status == "failed":
                from rich.markup import escape

                self.progress.console.print(f"[red]failed[/red] {escape(st.cell.label())}: {escape(st.error or '')}",
                                            markup=True, highlight=False)
            return
        if self.quiet or st.status == "reused":
            return
        from rich.markup import escape

        colour = {"built": "green", "failed": "red", "skipped": "yellow"}.get(st.status, "white")
        tail = f" in {st.wall_s:.1f}s" if st.status == "built" and st.wall_s is not None else ""
        tail += f": {escape(st.error)}" if st.error else ""
        err_console.print(f"[dim][{self.done}/{self.total}][/dim] [{colour}]{st.status}[/{colour}] "
                          f"{st.id or '-'} {escape(st.cell.label())}{tail}")

    def message(self, text: str) -> None:
        if not self.quiet:
            err_console.print(text)


def _table(rows: list[dict], dry_run: bool) -> None:
    from rich.markup import escape
    from rich.table import Table

    t = Table(box=None, pad_edge=False, header_style="bold underline")
    for c, j in (("kind", "left"), ("status", "left"), ("id", "left"),
                 ("estimate" if dry_run else "wall", "right"), ("cell", "left")):
        t.add_column(c, justify=j, no_wrap=c != "cell")
    for r in rows:
        t.add_row(r["kind"], r["status"], r["id"] or "-",
                  _secs(r.get("estimate_s")) if dry_run and r["status"] == "to-build" else
                  ("-" if r.get("wall_s") is None or r["status"] != "built" else _secs(r["wall_s"])),
                  escape(r["label"]))
    out_console.print(t)


def sweep(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The sweep file (YAML).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would be built and what is reused, with "
                                          "a time estimate from recorded durations; build nothing.")] = False,
    jobs: Annotated[int, typer.Option("--jobs", "-j", min=1, help="Cells built at once (torch threads are divided "
                                      "among them).")] = 1,
    executor: Annotated[Executor, typer.Option(help="local: a process pool on this machine; ray: Ray tasks "
                                               "(needs the ray extra of the package).")] = Executor.local,
    address: Annotated[Optional[str], typer.Option(help="ray: the cluster to join (e.g. ray://head:10001 or "
                                                   "auto); default: start a local Ray instance.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object per artifact (id, kind, status, "
                                          "params, ...).")] = False,
) -> None:
    """Build the grid a YAML file describes (graphs -> profiles -> runs), reusing every recorded artifact.

    Interrupted or killed, it registers nothing half-built; run it again to resume. The record for `rp report` is
    written to <workspace>/sweeps/<name>.json.

    Example: rp sweep sweeps/quick.yaml --jobs 2
    """
    sess = session(ctx)
    quiet = options(ctx).quiet
    t0 = time.time()
    with cli_errors():
        from rpcli.services.sweep.driver import SweepRunner, load

        spec, cells = load(file)
        events = RichSweepEvents(quiet)
        runner = SweepRunner(sess, spec, cells, jobs=jobs, executor=executor.value, address=address, events=events)
        with events:
            outcome = runner.run(dry_run=dry_run)
    rows = outcome.rows(dry_run)
    if as_json:
        print_json(rows)
    else:
        _table(rows, dry_run)
    counts = outcome.counts()
    by_kind = ", ".join(f"{sum(1 for r in rows if r['kind'] == k)} {k}s" for k in ("graph", "profile", "run"))
    parts = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    if not quiet:
        err_console.print(f"sweep {spec.name}: {len(rows)} artifacts ({by_kind}): {parts}")
        if dry_run:
            todo = [r for r in rows if r["status"] == "to-build"]
            known = [r["estimate_s"] for r in todo if r.get("estimate_s") is not None]
            serial = sum(known)
            line = f"estimated build time: {_secs(serial)} of work"
            if jobs > 1:
                line += f", about {_secs(serial / jobs)} with --jobs {jobs}"
            if len(known) < len(todo):
                line += f" ({len(todo) - len(known)} of {len(todo)} cells have no similar recorded artifact " \
                        "and are not counted)"
            err_console.print(line)
        else:
            err_console.print(f"done in {time.time() - t0:.1f}s; record: {outcome.record_path}")
    if outcome.failed:
        err_console.print(f"[red]{outcome.failed} cell(s) failed or were skipped[/red]; fix the cause and run the "
                          "same command again to resume")
        raise typer.Exit(1)
