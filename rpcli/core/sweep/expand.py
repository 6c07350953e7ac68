"""Expand a validated sweep into cells: graphs -> profiles -> runs, deduplicated, parents before children.

A cell is one artifact the sweep covers. Two entries asking for the same artifact (the same graph for several
profile methods, the same profile named twice) give one cell. Cells know their parent cell, not its id: ids
depend on the parent's recorded content, so they are computed by the services layer once the parent exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rpcli.core.sweep.spec import Catalog, SweepSpec
from rpcli.workspace.hashing import canonical_json

KINDS = ("graph", "profile", "run")


@dataclass(eq=False)
class Cell:
    index: int
    kind: str  # graph | profile | run
    what: str  # graph kind | profile method | router
    mode: str
    options: dict  # every option, defaults filled in (the names the single commands record)
    parent: "Cell | None"
    key: str  # dedup key: canonical JSON of the recipe as the sweep states it
    labels: list = field(default_factory=list)  # profiles: the entry names that asked for it
    changed: dict = field(default_factory=dict)  # the options that differ from their defaults (for display)

    @property
    def graph_cell(self) -> "Cell | None":
        c = self
        while c is not None and c.kind != "graph":
            c = c.parent
        return c

    def coordinates(self) -> dict:
        """Where the cell sits in the grid: mode, graph kind, method, router and their non-default options."""
        out = {"mode": self.mode}
        chain = []
        c = self
        while c is not None:
            chain.append(c)
            c = c.parent
        for c in reversed(chain):
            field_name = {"graph": "graph", "profile": "method", "run": "router"}[c.kind]
            out[field_name] = c.what
            if c.changed:
                out[f"{field_name}_options"] = dict(c.changed)
        return out

    def label(self) -> str:
        """A one-line description: `mlp(seeds=[0, 1, 2]) <- emb-gnn(K=2) <- query-task-domain [standard]`."""
        parts = []
        c = self
        while c is not None:
            opts = ", ".join(f"{k}={v}" for k, v in c.changed.items())
            parts.append(f"{c.what}({opts})" if opts else c.what)
            c = c.parent
        return " <- ".join(parts) + f" [{self.mode}]"


def expand(spec: SweepSpec, catalog: Catalog) -> list[Cell]:
    """All cells of the sweep in build order (graphs, then profiles, then runs; file order within each)."""
    cells: dict[str, Cell] = {}
    order: list[Cell] = []

    def add(kind, what, mode, options, parent, defaults) -> Cell:
        key = canonical_json({"kind": kind, "what": what, "mode": mode, "options": options,
                              "parent": parent.key if parent else None})
        if key not in cells:
            changed = {k: v for k, v in options.items() if k not in defaults or v != defaults[k].default}
            cells[key] = Cell(len(cells), kind, what, mode, dict(options), parent, key, changed=changed)
            order.append(cells[key])
        return cells[key]

    by_mode: dict[str, list[Cell]] = {}
    for mode in spec.modes:
        profiles = by_mode.setdefault(mode, [])
        for e in spec.profiles:
            for gkind in e.graphs:
                for gopts in (spec.graph_options if gkind is not None else [None]):
                    g = add("graph", gkind, mode, gopts, None, catalog.graph_options) if gkind else None
                    for opts in e.cells():
                        p = add("profile", e.what, mode, opts, g, catalog.methods[e.what])
                        if e.name not in p.labels:
                            p.labels.append(e.name)
                        if p not in profiles:
                            profiles.append(p)
        for r in spec.routers:
            for p in profiles:
                if r.profiles is not None and not (set(r.profiles) & ({p.what} | set(p.labels))):
                    continue
                for opts in r.cells():
                    add("run", r.what, mode, opts, p, catalog.routers[r.what])
    rank = {k: i for i, k in enumerate(KINDS)}
    return sorted(order, key=lambda c: (rank[c.kind], c.index))


def summary(cells: list[Cell]) -> dict:
    return {k: sum(1 for c in cells if c.kind == k) for k in KINDS}
