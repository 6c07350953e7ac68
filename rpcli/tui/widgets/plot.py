"""CostQualityPlot: the cost-quality plane drawn by plotext and shown as Rich text.

plotext draws into one global figure, so every render clears it first and runs under a lock; the figure is sized to
the widget, and rebuilt whenever the widget is resized or given new data.
"""

from __future__ import annotations

import threading

from rich.text import Text
from textual.widget import Widget


_PLOTEXT_LOCK = threading.Lock()

RUN_COLOR = "cyan"
CURVE_COLOR = "blue"
SINGLE_COLOR = "yellow"
ORACLE_COLOR = "magenta"
FRONT_COLOR = "green"
BASELINE_COLOR = "red"

LEGEND = (("●", RUN_COLOR, "run (numbered best first)"), ("━", CURVE_COLOR, "run's cost-quality curve"),
          ("◆", SINGLE_COLOR, "single model (lettered)"), ("★", ORACLE_COLOR, "oracle"),
          ("━", FRONT_COLOR, "Pareto front (runs, curves, singles)"),
          ("┄", BASELINE_COLOR, "per-task best (train)"))


def single_letters(singles: list[dict]) -> list[str]:
    """Labels for single-model points (a, b, c, ...); the legend spells them out."""
    return [chr(ord("a") + i) if i < 26 else "?" for i in range(len(singles))]


def render_plot(data: dict, width: int, height: int, title: str = "", baseline: float | None = None) -> str:
    """The plane as an ANSI string of ``height`` lines (plotext), x in µ$/query, y in avg performance."""
    import plotext as plt

    xs_all = ([r["point"][0] for r in data["runs"]] + [s["point"][0] for s in data["singles"]]
              + [o["point"][0] for o in data["oracles"]] + [p[0] for r in data["runs"] for p in r["curve"]])
    dx = (max(xs_all) - min(xs_all)) / max(width - 10, 10) if xs_all else 0.0  # about one character along x

    with _PLOTEXT_LOCK:
        plt.terminal.limit(False, False)  # size to the widget, not to the process's terminal
        fig = plt.figure
        fig.clear()
        fig.theme("simple")
        fig.plot_size(max(width, 20), max(height, 8))

        def points(xy, marker, color, lines=False):
            xs, ys = [p[0] for p in xy], [p[1] for p in xy]
            s = fig.signal(xs, ys, marker=plt.marker(marker, plt.pixel(foreground=color)))
            if lines:
                s.lines()
            fig.draw(s)  # draw() copies the signal: set it up first

        if baseline is not None and xs_all:
            points([(min(xs_all), baseline), (max(xs_all), baseline)], "┄", BASELINE_COLOR, lines=True)
        for r in data["runs"]:
            if len(r["curve"]) > 1:
                points(r["curve"], "hd", CURVE_COLOR, lines=True)
        if len(data["front"]) > 1:
            points(data["front"], "hd", FRONT_COLOR, lines=True)
        if data["singles"]:
            points([s["point"] for s in data["singles"]], "◆", SINGLE_COLOR)
            for s, letter in zip(data["singles"], single_letters(data["singles"])):
                fig.draw(fig.text(s["point"][0] + dx, s["point"][1], plt.colorize(letter, plt.pixel(SINGLE_COLOR))))
        if data["oracles"]:
            points([o["point"] for o in data["oracles"]], "★", ORACLE_COLOR)
        if data["runs"]:
            points([r["point"] for r in data["runs"]], "●", RUN_COLOR)
            for r in data["runs"]:
                fig.draw(fig.text(r["point"][0] + dx, r["point"][1], plt.colorize(str(r["n"]), plt.pixel(RUN_COLOR))))
        if title:
            fig.title(title)
        fig.label("µ$ / query", "x")
        fig.label("avg performance", "y")
        return fig.build().string()


class CostQualityPlot(Widget):
    """Every run's operating point (and curve, when its metrics carry one), the single models, the oracle and the
    Pareto front."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._data: dict | None = None
        self._title = ""
        self._baseline: float | None = None

    def show(self, data: dict, title: str = "", baseline: float | None = None) -> None:
        self._data, self._title, self._baseline = data, title, baseline
        self.refresh()

    def render(self) -> Text:
        d = self._data
        w, h = self.content_size.width, self.content_size.height
        if not d or not (d["runs"] or d["singles"] or d["oracles"]):
            return Text("Nothing to plot yet: record a run with `rp route ...`.", style="dim")
        if w < 20 or h < 8:
            return Text("(too small to plot)", style="dim")
        try:
            return Text.from_ansi(render_plot(d, w, h, self._title, self._baseline), no_wrap=True)
        except Exception as exc:  # noqa: BLE001 - a plotting failure must not take the dashboard down
            return Text(f"could not draw the plot: {type(exc).__name__}: {exc}", style="red")
