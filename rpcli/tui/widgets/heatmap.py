"""TaskHeatmap: runs x tasks, each cell coloured from the task's worst run (red) to its best (green)."""

from __future__ import annotations

from rich.text import Text

from rpcli.tui.rows import heat_color
from rpcli.tui.widgets.run_table import RunTable


class TaskHeatmap(RunTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", **kwargs)

    def show(self, data: dict, task_width: int = 9) -> None:
        self.clear(columns=True)
        self.add_column("run", key="run")
        self.add_column("router / profile", key="label")
        for t in data["tasks"]:
            short = t if len(t) <= task_width else t[: task_width - 1] + "…"
            self.add_column(Text(short, justify="right"), key=f"task:{t}")
        for r in data["rows"]:
            cells = [Text(r["id"] or "-"), Text(r["label"] or "-", style="dim")]
            for t in data["tasks"]:
                v = r["values"].get(t)
                lo, hi = data["range"][t]
                bg = heat_color(v, lo, hi)
                cells.append(Text("-" if v is None else f"{v:.3f}", justify="right",
                                  style=f"#ffffff on {bg}" if bg else "dim"))
            self.add_row(*cells, key=r["id"])
