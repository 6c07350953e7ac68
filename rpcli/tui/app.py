"""The rp dashboard: leaderboards per mode, the cost-quality plane, a per-task heatmap and the design-space pivot.

It reads the workspace manifest (rpcli.workspace) and nothing else: no torch, no rpcli.core. Reference rows need
the dataset, so the caller (`rp compare`) computes them and passes them in; reloading re-reads the manifest for
runs and keeps the references as given.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import DataTable, Footer, Header, Input, Static, TabbedContent, TabPane

from rpcli.tui.messages import ManifestLoaded, ManifestLoadFailed, RunSelected
from rpcli.workspace.paper import is_released
from rpcli.tui.rows import cost_quality, pivot, run_detail, short_model, task_heatmap, view_rows
from rpcli.tui.screens.run_screen import RunScreen
from rpcli.tui.widgets.heatmap import TaskHeatmap
from rpcli.tui.widgets.leaderboard import LeaderboardTable
from rpcli.tui.widgets.pivot import PivotTable
from rpcli.tui.widgets.plot import LEGEND, CostQualityPlot, single_letters
from rpcli.workspace.layout import Workspace
from rpcli.workspace.leaderboard import (BASELINE, MODES, UNPRICED_MARK, baseline_value, board, columns_for,
                                         row_key)

VIEWS = ("plot", "tasks", "pivot")


class FilterInput(Input):
    """The filter line: Enter keeps the filter and returns to the table, Escape clears it."""

    BINDINGS = [Binding("escape", "app.clear_filter", "Clear filter")]


class Dashboard(App):
    """Leaderboard of router runs recorded in a workspace."""

    CSS_PATH = "app.tcss"
    TITLE = "rp dashboard"
    BINDINGS = [
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse", show=False),
        Binding("slash", "toggle_filter", "Filter"),
        Binding("m", "toggle_mode", "Mode"),
        Binding("enter", "open_run", "Details"),
        Binding("r", "reload", "Reload"),
        Binding("1", "show_tab('standard')", "standard", show=False),
        Binding("2", "show_tab('newllm')", "newllm", show=False),
        Binding("3", "show_tab('plot')", "plot", show=False),
        Binding("4", "show_tab('tasks')", "tasks", show=False),
        Binding("5", "show_tab('pivot')", "pivot", show=False),
        Binding("q", "quit", "Quit"),
    ]

    sort_key: reactive[str] = reactive("avg_performance")
    sort_reverse: reactive[bool] = reactive(True)
    query: reactive[str] = reactive("")
    mode: reactive[str] = reactive("standard")

    def __init__(self, workspace: Workspace, references: list[dict] | tuple = (), *, dataset: dict | None = None,
                 data_hash: str | None = None, allow_mixed: bool = False, show_singles: bool = False,
                 modes: tuple[str, ...] = MODES, reload_interval: float | None = 2.0,
                 defaults: dict | None = None) -> None:
        """
        Args:
            workspace: the workspace whose manifest lists the runs.
            references: reference rows (and single-model rows, kind "single") computed by the caller, each with
                its "mode"; kept as given across reloads.
            dataset: {name, root, candidates, n_test_rows, data_hash} of the dataset the references describe;
                recognises the released data (published columns in the pivot).
            data_hash: only runs evaluated on this data are ranked (default: dataset["data_hash"]).
            allow_mixed: rank runs evaluated on different data together.
            show_singles: list single models in the leaderboards too (the plot always shows them).
            modes: the leaderboard tabs.
            reload_interval: seconds between manifest mtime checks; None disables reloading.
            defaults: the label data (rpcli.core.registry.label_defaults(), passed in by `rp compare`: the app
                never imports the registry): labels name every option that differs from it, and routers and
                methods follow its order. Without it, labels name every recorded option that is on.
        """
        super().__init__()
        self.workspace = workspace
        self.references = [dict(r) for r in references]
        self.dataset = dataset or {}
        self.data_hash = data_hash if data_hash is not None else self.dataset.get("data_hash")
        self.allow_mixed = allow_mixed
        self.show_singles = show_singles
        self.modes = tuple(m for m in MODES if m in modes) or MODES
        self.reload_interval = reload_interval
        self.defaults = defaults
        self.released = is_released(self.dataset)
        self.doc: dict = {"entries": {}}
        self.rows: list[dict] = []
        self.loaded = False
        self._stamp: tuple | None = None
        self._notice: str | None = None
        self.set_reactive(Dashboard.mode, self.modes[0])

    # ----------------------------------------------------------------------------------------------- layout
    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(initial=self.modes[0], id="tabs"):
            for m in self.modes:
                with TabPane(m, id=m):
                    yield LeaderboardTable(m, id=f"board-{m}", classes="board")
                    yield Static(self._board_legend(), classes="legend")
            with TabPane("cost-quality", id="plot"):
                yield Static(id="plot-caption", classes="caption")
                with Horizontal(id="plot-body"):
                    yield CostQualityPlot(id="plot-canvas")
                    yield Static(id="plot-legend")
            with TabPane("per task", id="tasks"):
                yield Static(id="tasks-caption", classes="caption")
                yield TaskHeatmap(id="heatmap")
            with TabPane("design space", id="pivot"):
                yield Static(id="pivot-caption", classes="caption")
                yield PivotTable(id="pivot-table")
                yield Static(id="pivot-note", classes="legend")
        yield FilterInput(placeholder="filter: router:sim hops:2 graph:task, or any words (Esc clears)",
                          id="filter", classes="-hidden")
        yield Static(id="status")
        yield Footer()

    @staticmethod
    def _board_legend() -> Text:
        return Text.assemble(("▽", "bold red"), f" does not beat {BASELINE}   ",
                             ("dim italic", "dim italic"), " reference rows   ",
                             ("s", "bold"), " sort  ", ("/", "bold"), " filter  ", ("enter", "bold"), " details  ",
                             ("1-5", "bold"), " tabs  ", ("m", "bold"), " mode of the other views")

    def on_mount(self) -> None:
        self.sub_title = str(self.workspace.root)
        self._refresh_views()
        self.load_manifest()
        if self.reload_interval:
            self.set_interval(self.reload_interval, self._reload_if_changed)

    # ----------------------------------------------------------------------------------------------- loading
    def _manifest_stamp(self) -> tuple | None:
        from rpcli.workspace.manifest import manifest_stamp

        return manifest_stamp(self.workspace)  # the store and its JSON export (the export may lag a large store)

    @work(thread=True, exclusive=True, exit_on_error=False, group="loaders")
    def load_manifest(self) -> None:
        """Read the manifest in a thread; only posts messages."""
        from rpcli.errors import RpError
        from rpcli.workspace.manifest import load_manifest

        stamp = self._manifest_stamp()
        try:
            doc = load_manifest(self.workspace)
        except RpError as exc:
            self.post_message(ManifestLoadFailed(exc.message, exc.hint))
            return
        except Exception as exc:  # noqa: BLE001 - a broken manifest must not crash the dashboard
            self.post_message(ManifestLoadFailed(f"{type(exc).__name__}: {exc}"))
            return
        self.post_message(ManifestLoaded(doc, stamp))

    def _reload_if_changed(self) -> None:
        if self._manifest_stamp() != self._stamp:
            self.load_manifest()

    @on(ManifestLoaded)
    def _manifest_loaded(self, message: ManifestLoaded) -> None:
        self._stamp = message.stamp
        try:
            rows, notice = board(self.references, message.doc, data_hash=self.data_hash,
                                 allow_mixed=self.allow_mixed, modes=self.modes, data_name=self.dataset.get("root"),
                                 defaults=self.defaults, unpriced=self.dataset.get("unpriced"))
        except Exception as exc:  # noqa: BLE001 - a malformed record must not crash the dashboard
            self.post_message(ManifestLoadFailed(f"malformed manifest entry: {type(exc).__name__}: {exc}",
                                                 "`rp ls runs` lists the runs and `rp show <id>` shows one"))
            return
        self.doc, self.rows = message.doc, rows
        if notice and notice != self._notice:
            self.notify(notice, title="Runs", severity="warning", timeout=8)
        self._notice = notice
        self.loaded = True
        self._refresh_views()

    @on(ManifestLoadFailed)
    def _manifest_failed(self, message: ManifestLoadFailed) -> None:
        self._stamp = self._manifest_stamp()  # do not retry the same broken file every tick
        body = message.error + (f"\nHint: {message.hint}" if message.hint else "")
        self.notify(body, title="Workspace", severity="error", timeout=15)
        self.rows = [dict(r) for r in self.references]
        self.loaded = True
        self._refresh_views(error=message.error)

    # ----------------------------------------------------------------------------------------------- views
    def _refresh_views(self, error: str | None = None) -> None:
        for m in self.modes:
            board = self.query_one(f"#board-{m}", LeaderboardTable)
            board.show(view_rows(self.rows, m, query=self.query, sort_key=self.sort_key,
                                 reverse=self.sort_reverse, show_singles=self.show_singles),
                       self.sort_key, self.sort_reverse)
        self._refresh_mode_views()
        self._refresh_status(error)

    def _refresh_mode_views(self) -> None:
        try:
            self._draw_mode_views(self.mode)
        except Exception as exc:  # noqa: BLE001 - one bad run record should not take the other views down
            self.notify(f"{type(exc).__name__}: {exc}", title="Views", severity="error")

    def _draw_mode_views(self, m: str) -> None:
        data = cost_quality(self.rows, self.doc, m, self.query)
        self.query_one("#plot-canvas", CostQualityPlot).show(data, baseline=baseline_value(self.rows, m))
        caption = self._caption("cost-quality plane", m)
        if self.dataset.get("unpriced"):
            caption.append(f"   {UNPRICED_MARK} without the cost of {', '.join(self.dataset['unpriced'])} (no price)",
                           style="yellow")
        self.query_one("#plot-caption", Static).update(caption)
        self.query_one("#plot-legend", Static).update(self._plot_legend(data))
        heat = task_heatmap(self.rows, self.doc, m, self.query)
        self.query_one("#heatmap", TaskHeatmap).show(heat)
        self.query_one("#tasks-caption", Static).update(
            self._caption("avg performance per task; colour from the task's worst run (red) to its best (green)", m))
        piv = pivot(self.rows, m, released=self.released, query=self.query, defaults=self.defaults)
        self.query_one("#pivot-table", PivotTable).show(piv)
        self.query_one("#pivot-caption", Static).update(
            self._caption("design space: profile method x hops down, router across", m))
        self.query_one("#pivot-note", Static).update(Text(piv["note"], style="dim"))

    def _caption(self, what: str, mode: str) -> Text:
        t = Text.assemble((what, "bold"), "   mode ", (mode, "bold cyan"))
        if len(self.modes) > 1:
            t.append("  (m switches)", style="dim")
        if self.query:
            t.append(f"   filter: {self.query}", style="yellow")
        return t

    @staticmethod
    def _plot_legend(data: dict) -> Text:
        t = Text()
        for mark, color, what in LEGEND:
            t.append(mark, style=f"bold {color}")
            t.append(f" {what}\n")
        t.append("\n")
        for s, letter in zip(data["singles"], single_letters(data["singles"])):
            t.append(f" {letter} ", style="bold yellow")
            t.append(f"{short_model(s['name'], 30)}\n")
        if data["singles"]:
            t.append("\n")
        for r in data["runs"][:20]:
            t.append(f"{r['n']:>2} ", style="bold cyan")
            t.append(f"{r['id']}\n", style="bold")
            t.append(f"   {r['label']}\n", style="dim")
        if len(data["runs"]) > 20:
            t.append(f"… and {len(data['runs']) - 20} more runs\n", style="dim")
        if not data["runs"]:
            t.append("no runs in this mode\n", style="dim")
        return t

    def _refresh_status(self, error: str | None = None) -> None:
        n_runs = sum(1 for r in self.rows if r.get("kind") == "run")
        ds = self.dataset
        bits = [Text(f"{n_runs} runs", style="bold")]
        if ds.get("name"):
            bits.append(Text(f"data {ds['name']}" + (f" ({ds['n_test_rows']} test rows)"
                                                     if ds.get("n_test_rows") else "")))
        if ds.get("unpriced"):  # cost cells marked UNPRICED_MARK are computed without these candidates' costs
            bits.append(Text(f"{UNPRICED_MARK} no price: {', '.join(ds['unpriced'])}", style="yellow"))
        label = next((c.label for c in columns_for(None) if c.key == self.sort_key), self.sort_key)
        bits.append(Text(f"sort {label} {'▼' if self.sort_reverse else '▲'}"))
        if self.query:
            bits.append(Text(f"filter: {self.query}", style="yellow"))
        if error:
            bits.append(Text(f"manifest error: {error}", style="bold red"))
        elif not self.loaded:
            bits.append(Text("reading the manifest…", style="dim"))
        elif n_runs == 0:
            bits.append(Text("no runs yet: rp route sim --profile <id> records one", style="dim"))
        self.query_one("#status", Static).update(Text("  ·  ").join(bits))

    def watch_mode(self, mode: str) -> None:
        if self.is_mounted:
            self._refresh_mode_views()

    # ----------------------------------------------------------------------------------------------- actions
    DASHBOARD_ACTIONS = frozenset({"cycle_sort", "reverse_sort", "toggle_filter", "toggle_mode", "open_run",
                                   "reload", "show_tab"})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # The run screen has its own keys; the leaderboard's keys stay off (and out of the footer) while it is open.
        if action in self.DASHBOARD_ACTIONS and isinstance(self.screen, RunScreen):
            return False
        return True

    def _active_board(self) -> LeaderboardTable | None:
        active = self.query_one("#tabs", TabbedContent).active
        if active in self.modes:
            return self.query_one(f"#board-{active}", LeaderboardTable)
        return None

    def sort_by(self, key: str, reverse: bool | None = None) -> None:
        cols = {c.key: c for c in columns_for(None)}
        if key not in cols:
            return
        if reverse is None:
            reverse = (not self.sort_reverse) if key == self.sort_key else cols[key].descending
        self.sort_key, self.sort_reverse = key, reverse
        self._refresh_views()

    def action_cycle_sort(self) -> None:
        cols = columns_for(self.mode)
        keys = [c.key for c in cols]
        i = keys.index(self.sort_key) if self.sort_key in keys else -1
        nxt = cols[(i + 1) % len(cols)]
        self.sort_by(nxt.key, nxt.descending)

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_key, not self.sort_reverse)

    @on(DataTable.HeaderSelected, ".board")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        self.sort_by(str(event.column_key.value))

    def action_toggle_filter(self) -> None:
        box = self.query_one("#filter", FilterInput)
        if box.has_class("-hidden"):
            box.remove_class("-hidden")
            box.focus()
        elif box.has_focus:
            self._focus_view()
        else:
            box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", FilterInput)
        box.value = ""
        self.query = ""
        box.add_class("-hidden")
        self._focus_view()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query = event.value.strip()

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        if not self.query:
            event.input.add_class("-hidden")
        self._focus_view()

    def watch_query(self, query: str) -> None:
        if self.is_mounted:
            self._refresh_views()

    def _focus_view(self) -> None:
        active = self.query_one("#tabs", TabbedContent).active
        target = {"plot": None, "tasks": "#heatmap", "pivot": "#pivot-table"}.get(active, f"#board-{active}")
        if target:
            self.query_one(target).focus()
        else:
            self.set_focus(None)

    def action_toggle_mode(self) -> None:
        if len(self.modes) > 1:
            self.mode = self.modes[(self.modes.index(self.mode) + 1) % len(self.modes)]

    def action_show_tab(self, tab: str) -> None:
        if tab in self.modes or tab in VIEWS:
            self.query_one("#tabs", TabbedContent).active = tab
            self._focus_view()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane.id
        if pane in self.modes:
            self.mode = pane
        self.call_after_refresh(self._focus_view)

    def action_reload(self) -> None:
        self.load_manifest()
        self.notify("re-reading the manifest", title="Workspace", timeout=2)

    def action_open_run(self) -> None:
        active = self.query_one("#tabs", TabbedContent).active
        table = self.query_one("#heatmap", TaskHeatmap) if active == "tasks" else self._active_board()
        key = table.key_at_cursor() if table else None
        if key:
            self.post_message(RunSelected(key))

    @on(RunSelected)
    def _run_selected(self, message: RunSelected) -> None:
        key = message.key
        if key in self.doc.get("entries", {}):
            try:
                detail = run_detail(self.doc, key, self.defaults)
            except Exception as exc:  # noqa: BLE001 - a malformed record becomes a notification
                self.notify(f"cannot show {key}: {type(exc).__name__}: {exc}", title="Run", severity="error")
                return
            self.push_screen(RunScreen(detail))
            return
        ref = next((r for r in self.rows if r.get("kind") != "run" and row_key(r) == key), None)
        if ref is not None:
            self.notify(ref.get("note") or "reference row", title=ref.get("name"), timeout=6)
