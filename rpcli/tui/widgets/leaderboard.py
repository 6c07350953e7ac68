"""LeaderboardTable: a thin DataTable over leaderboard rows (rpcli.workspace.leaderboard formats the cells)."""

from __future__ import annotations

from rich.text import Text

from rpcli.tui.widgets.run_table import RunTable
from rpcli.workspace.leaderboard import cell_text, columns_for, flag_text, row_key


class LeaderboardTable(RunTable):
    """One mode's leaderboard. Runs are plain rows; reference rows dim italic; single models dim; a red ▽ marks a
    run that does not beat the per-task best (train)."""

    def __init__(self, mode: str, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, fixed_columns=2, **kwargs)  # flag + name stay put
        self.mode = mode

    def show(self, rows: list[dict], sort_key: str, reverse: bool) -> None:
        """Replace the rows (already filtered and sorted), keeping the cursor on the same row when it remains."""
        keep = self.key_at_cursor()
        self.clear(columns=True)
        self.add_column(Text(""), key="flag", width=1)
        cols = columns_for(self.mode)
        for c in cols:
            arrow = (" ▼" if reverse else " ▲") if c.key == sort_key else ""
            self.add_column(Text(c.label + arrow, justify="right" if c.numeric else "left",
                                 style="bold" if arrow else ""), key=c.key)
        keys = []
        for r in rows:
            kind = r.get("kind")
            style = "" if kind == "run" else ("dim italic" if kind == "reference" else "dim")
            cells = [Text(flag_text(r), style="bold red")]
            cells += [Text(cell_text(r, c.key), style=style, justify="right" if c.numeric else "left") for c in cols]
            k = row_key(r)
            keys.append(k)
            self.add_row(*cells, key=k)
        if keep in keys:
            self.move_cursor(row=keys.index(keep), animate=False)
