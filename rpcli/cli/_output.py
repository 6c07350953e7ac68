"""stdout for data, stderr for everything else; one error boundary with a fixed exit-code table."""

from __future__ import annotations

import contextlib
import json
import sys

import typer
from rich.console import Console
from rich.panel import Panel

from rpcli.workspace.leaderboard import fmt  # noqa: F401 - the one number formatter, re-exported for the CLI

err_console = Console(stderr=True, highlight=False)
# A pipe gets a wide table rather than Rich's 80-column default; a terminal keeps its own width.
out_console = Console(highlight=False, width=None if sys.stdout.isatty() else 180)


@contextlib.contextmanager
def cli_errors():
    from rpcli.errors import RpError

    try:
        yield
    except RpError as exc:
        from rich.markup import escape

        # Names from data files may hold brackets ("[/x]" would break Rich markup): the text is escaped.
        body = escape(exc.message) + (f"\n[dim]Hint:[/dim] {escape(exc.hint)}" if exc.hint else "")
        err_console.print(Panel(body, title=f"[bold red]{exc.title}[/bold red]", border_style="red", expand=False),
                          markup=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("[red]Interrupted.[/red] Nothing was registered for the unfinished step.")
        raise typer.Exit(130) from None


def print_json(obj) -> None:
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def print_built(result, as_json: bool) -> None:
    """The scripting contract: stdout gets the id (or the whole record with --json), built now or reused."""
    entry = result.entry
    if as_json:
        print_json({**entry, "reused": not result.built})
    else:
        sys.stdout.write(entry["id"] + "\n")
        sys.stdout.flush()
    if result.built:
        err_console.print(f"[green]{entry['id']}[/green] built in {entry.get('duration_s', 0):.1f}s")

