"""RunScreen: one run in full (per-task table, selection share, new-LLM metrics, parameters, lineage,
provenance). Escape closes it."""

from __future__ import annotations

import json

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from rpcli.workspace.leaderboard import fmt


def _kv(rows: list[tuple[str, str]], title: str) -> Table:
    t = Table(title=title, title_justify="left", title_style="bold", show_header=False, box=None, padding=(0, 1),
              expand=True)
    t.add_column(style="dim", no_wrap=True)
    t.add_column(overflow="fold")
    for k, v in rows:
        t.add_row(k, v)
    return t


def _per_task(rows: list[dict]) -> Table:
    t = Table(title="per task", title_justify="left", title_style="bold", expand=True, padding=(0, 1))
    for c, j in (("task", "left"), ("n", "right"), ("avg perf", "right"), ("best-pick", "right"),
                 ("hit", "right"), ("µ$/q", "right")):
        t.add_column(c, justify=j, no_wrap=c != "task", overflow="ellipsis")

    for r in rows:
        t.add_row(r["task"], fmt(r["n"]), fmt(r["avg_performance"], 3), fmt(r["best_pick_rate"], 3),
                  fmt(r["hit_rate"], 3), fmt(r["avg_cost_micro"], 1))
    return t


def _share(share: list[tuple[str, float]], width: int = 16, name_width: int = 26) -> Group:
    lines = [Text("selection share", style="bold")]
    for model, p in share:
        n = round(p * width)
        name = model if len(model) <= name_width else model[: name_width - 1] + "…"
        lines.append(Text.assemble(f" {name:<{name_width}} {p:>6.1%} ", ("█" * n, "cyan"),
                                   ("·" * (width - n), "dim")))
    return Group(*lines)


def _lineage(lineage: list[dict]) -> Group:
    parts = [Text("lineage", style="bold")]
    for i, x in enumerate(lineage):
        arrow = "   " * i + ("└→ " if i else "")
        parts.append(Text.assemble(arrow, (x["id"] or "-", "bold"), "  ", (x["label"], "dim")))
    return Group(*parts)


def _params(params: dict) -> Table:
    rows = []
    for kind, p in params.items():
        rows.append((kind, json.dumps(p, sort_keys=True, ensure_ascii=False)))
    return _kv(rows, "parameters")


class RunScreen(Screen):
    """Details of one recorded run."""

    BINDINGS = [Binding("escape", "close", "Close"), Binding("q", "close", "Close", show=False)]

    def __init__(self, detail: dict) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        d = self.detail
        yield Static(Text.assemble((d["id"], "bold"), "  ", d["title"], "  ", (f"[{d['mode']}]", "dim")),
                     id="run-title")
        with Horizontal(id="run-body"):
            with VerticalScroll(id="run-left"):
                yield Static(_kv(d["summary"], "summary"), id="run-summary")
                yield Static(_per_task(d["per_task"]), id="run-per-task")
            with VerticalScroll(id="run-right"):
                yield Static(_lineage(d["lineage"]), id="run-lineage")
                yield Static(_share(d["selection_share"]), id="run-share")
                if d["newllm"]:
                    yield Static(_kv(d["newllm"], "new LLM"), id="run-newllm")
                yield Static(_params(d["params"]), id="run-params")
                yield Static(_kv(d["provenance"], "provenance"), id="run-provenance")
                if d["warnings"]:
                    yield Static(Text("\n".join(d["warnings"]), style="yellow"), id="run-warnings")
        yield Footer()

    def action_close(self) -> None:
        self.app.pop_screen()
