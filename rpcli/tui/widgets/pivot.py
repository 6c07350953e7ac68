"""PivotTable: the design space like the paper's Table 1 (profile method x hops down, router across). A row that
is not comparable with the paper (text-gnn without LLM text) shows "n/c" in the paper columns and is never green."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from rpcli.workspace.paper import ROUTERS

ROUTER_LABELS = {ours: theirs for theirs, ours in ROUTERS.items()}  # the paper's names of the study's routers


class PivotTable(DataTable):
    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=True, **kwargs)

    def show(self, data: dict) -> None:
        self.clear(columns=True)
        self.add_column("profile", key="method")
        self.add_column(Text("hops", justify="right"), key="hops")
        for rt in data["routers"]:
            self.add_column(Text(ROUTER_LABELS.get(rt, rt), justify="right", style="bold"), key=f"ours:{rt}")
            if data["paper"]:
                self.add_column(Text("paper", justify="right", style="italic"), key=f"paper:{rt}")
        for i, row in enumerate(data["rows"]):
            hops = "-" if row["hops"] is None else str(row["hops"])
            cells = [Text(row["label"], style="" if row["comparable"] else "dim"), Text(hops, justify="right")]
            for rt in data["routers"]:
                c = row["cells"].get(rt)
                if c and c["value"] is not None:
                    pub = row["paper"].get(rt)
                    style = "bold green" if row["comparable"] and pub is not None and c["value"] >= pub else ""
                    txt = f"{c['value']:.4f}" + (f" ({c['n']})" if c["n"] > 1 else "")
                    cells.append(Text(txt, justify="right", style=style))
                else:
                    cells.append(Text("·", justify="right", style="dim"))
                if data["paper"]:
                    pub = row["paper"].get(rt)
                    text = "n/c" if not row["comparable"] else "" if pub is None else f"{pub:.3f}"
                    cells.append(Text(text, justify="right", style="dim italic"))
            self.add_row(*cells, key=f"{row['method']}:{row['hops']}:{i}")
