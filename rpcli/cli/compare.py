"""rp compare: the leaderboard (reference rows + runs) as a dashboard, a table, JSON or CSV."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from rpcli.cli._output import cli_errors, out_console, print_json
from rpcli.cli._state import session


def compare(ctx: typer.Context,
            plain: Annotated[bool, typer.Option("--plain", help="Print a table instead of opening the "
                                                                "dashboard (the default when stdout is not a "
                                                                "terminal).")] = False,
            as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON (scripts); run rows "
                                                   "also carry paired_delta and paired_ci (paired bootstrap against "
                                                   "per-task-best (train) on the same test rows).")] = False,
            as_csv: Annotated[bool, typer.Option("--csv", help="Print the rows as CSV (spreadsheets).")] = False,
            mode: Annotated[str, typer.Option("--mode", "-m", help="standard, newllm or both.")] = "both",
            singles: Annotated[bool, typer.Option("--singles", help="Also list every single model.")] = False,
            allow_mixed: Annotated[bool, typer.Option("--allow-mixed", help="Also rank runs evaluated on other "
                                                                            "data.")] = False) -> None:
    """The leaderboard: every recorded run beside the reference rows, per mode.

    On a terminal it opens the dashboard (leaderboards, cost-quality plot, per-task heatmap, design-space pivot);
    --plain, --json and --csv print instead.

    Example: rp compare --json | jq '.[] | select(.kind=="run") | .avg_performance'
    """
    if sum((plain, as_json, as_csv)) > 1:
        raise typer.BadParameter("choose one of --plain, --json and --csv", param_hint="--plain/--json/--csv")
    from rpcli.workspace.leaderboard import MODES

    if mode not in ("both", *MODES):
        raise typer.BadParameter(f"choose {', '.join(MODES)} or both", param_hint="--mode")
    sess = session(ctx)
    from rpcli.services.artifacts.compare import compare_rows

    modes = MODES if mode == "both" else (mode,)
    if not (plain or as_json or as_csv) and _stdout_is_terminal():
        _open_dashboard(sess, modes, allow_mixed=allow_mixed, show_singles=singles)
        return
    with cli_errors():
        rows = compare_rows(sess, modes=modes, allow_mixed=allow_mixed, include_singles=singles, paired=as_json)
    if as_json:
        print_json(rows)
    elif as_csv:
        from rpcli.workspace.leaderboard import rows_to_csv

        sys.stdout.write(rows_to_csv(rows))
        sys.stdout.flush()
    else:
        _print_table(sess, rows, modes)


def _stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _open_dashboard(sess, modes: tuple, *, allow_mixed: bool, show_singles: bool) -> None:
    """The app reads the runs from the manifest itself (and again whenever it changes); the reference rows need
    the dataset and the labels the registry's defaults, so they are computed here once, single models included
    (the plot shows them)."""
    from rpcli.services.artifacts.compare import dataset_summary, label_defaults, reference_rows
    from rpcli.tui.app import Dashboard

    with cli_errors():
        references = reference_rows(sess, modes, include_singles=True)
        dataset = dataset_summary(sess)
        defaults = label_defaults()  # plain data: the dashboard never imports the registry
    Dashboard(sess.workspace, references, dataset=dataset, allow_mixed=allow_mixed, show_singles=show_singles,
              modes=modes, defaults=defaults).run()


def _print_table(sess, rows: list[dict], modes: tuple) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from rpcli.services.artifacts.compare import dataset_summary
    from rpcli.workspace.leaderboard import BASELINE, cell_text, columns_for, flag_text, unpriced_note

    # Piped output has no terminal width to fit: give the table room instead of wrapping every cell.
    console = out_console if out_console.is_terminal else Console(highlight=False, width=max(out_console.width, 160))
    ds = dataset_summary(sess)
    for m in modes:
        mrows = [r for r in rows if r.get("mode") == m]
        if not mrows:
            continue
        title = f"leaderboard: {m} ({ds['label']}, {ds['n_test_rows']} test rows)"
        cols = columns_for(m)
        if not console.is_terminal:
            # No styles off a terminal: the same box layout, written directly at the table's natural width
            # (Rich measures and renders every cell: seconds for 1,000 runs; docs/benchmarks.md).
            text = box_table(title, [("", False)] + [(c.label, c.numeric) for c in cols],
                             [[flag_text(r)] + [cell_text(r, c.key) for c in cols] for r in mrows])
            console.file.write(text)
            continue
        t = Table(title=title)
        t.add_column("", justify="left")
        for c in cols:
            t.add_column(c.label, justify="right" if c.numeric else "left", overflow="fold")  # labels in full
        for r in mrows:
            style = "" if r["kind"] == "run" else ("dim italic" if r["kind"] == "reference" else "dim")
            t.add_row(Text(flag_text(r), style="red"), *(Text(cell_text(r, c.key), style=style) for c in cols))
        console.print(t)
    console.print(f"[dim]▽ = does not beat the {BASELINE} reference; dim italic rows are references.[/dim]")
    note = unpriced_note(r for r in rows if r.get("mode") in modes)
    if note:
        console.print(note, markup=False, highlight=False)


def box_table(title: str, columns: list[tuple[str, bool]], rows: list[list[str]]) -> str:
    """A table in Rich's default box (heavy head), every column at its widest cell, the title centred above:
    what Rich prints for the same cells when the width allows, without Rich's per-cell layout work.
    `columns` are (label, right-aligned)."""
    from rich.cells import cell_len

    widths = [cell_len(label) for label, _ in columns]
    for row in rows:
        for i, v in enumerate(row):
            n = cell_len(v)
            if n > widths[i]:
                widths[i] = n

    def line(cells: list[str], sep: str) -> str:
        out = []
        for (_, right), w, v in zip(columns, widths, cells):
            pad = " " * (w - cell_len(v))
            out.append(f" {pad}{v} " if right else f" {v}{pad} ")
        return sep + sep.join(out) + sep

    def rule(left: str, fill: str, mid: str, right: str) -> str:
        return left + mid.join(fill * (w + 2) for w in widths) + right

    total = sum(widths) + 3 * len(widths) + 1
    lines = []
    if title:
        n = cell_len(title)
        left = max(0, (total - n) // 2)
        lines.append(" " * left + title + " " * max(0, total - n - left))
    lines += [rule("┏", "━", "┳", "┓"), line([label for label, _ in columns], "┃"), rule("┡", "━", "╇", "┩")]
    lines += [line(r, "│") for r in rows]
    lines.append(rule("└", "─", "┴", "┘"))
    return "\n".join(lines) + "\n"
