"""Read and validate a sweep file before anything is built.

A sweep file (YAML) names a base recipe and list-valued axes:

    name: quick                      # optional; the record is <workspace>/sweeps/<name>.json (default: file stem)
    modes: [standard, newllm]        # one value or a list
    graph: query-task-domain         # graph kind(s) for every profile method that needs a graph
    graph_options: {max_queries_per_task: null}
    plugins: []                      # python modules imported first (they may register methods or routers)
    profiles:                        # one entry per profile method; a list-valued option is an axis
      - method: emb-gnn
        K: [1, 2, 3, 4]
      - method: trainable
        graph: task                  # this entry's own graph kind(s)
        layers: [1, 2]
        seed: [42, 43, 44]
    routers:                         # every router runs on every profile unless `profiles` narrows it
      - router: sim
      - router: mlp
        seeds: [0, 1, 2]             # one run, several training seeds (mean +/- sd); [[0], [1]] is an axis
        profiles: [emb-gnn]          # profile methods or entry names

Option names and defaults are those of the single commands (`rp profile emb-gnn --K`, `rp route mlp --epochs`),
spelt as they are recorded in params. Every error names the file, the line and the key.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.errors import RpError, did_you_mean

TOP_KEYS = ("name", "description", "modes", "graph", "graph_options", "plugins", "profiles", "routers")
PROFILE_KEYS = ("method", "name", "graph")
ROUTER_KEYS = ("router", "name", "profiles")


class SweepFileError(RpError):
    """A sweep file that cannot be read or does not validate. The message starts with file:line: key."""

    title = "Bad sweep file"


INT_LIMIT = 2**31 - 1  # integers in a sweep file (steps, epochs, seeds) beyond this are refused, not run


@dataclass(frozen=True)
class Option:
    """One option a method or router accepts: its type ('int', 'float', 'bool', 'str', 'int-list'), default,
    the values allowed (str), whether null is allowed, and a lower bound (numbers)."""

    type: str
    default: object = None
    choices: tuple | None = None
    nullable: bool = False
    minimum: float | None = None


@dataclass
class Catalog:
    """What a sweep may name: graph kinds and their options, modes, profile methods and routers with options.

    `needs_graph[method]` is False for methods that use no graph (index). The services layer fills this from its
    registries (see rpcli.services.sweep.cells.option_catalog)."""

    graph_kinds: tuple
    graph_options: dict
    modes: tuple
    methods: dict  # method -> {option: Option}
    needs_graph: dict  # method -> bool
    default_graph: dict  # method -> graph kind used when neither the entry nor the file names one
    routers: dict  # router -> {option: Option}


@dataclass
class Entry:
    """One profiles: or routers: entry after validation. `axes` maps each option to the list of its values
    (a scalar becomes a one-value list); `line` is where the entry starts."""

    what: str  # method or router name
    name: str  # the entry's label (its `name`, else the method / router)
    axes: dict
    graphs: list = field(default_factory=list)  # profiles: graph kinds (None for methods without a graph)
    profiles: list | None = None  # routers: the labels / methods it routes (None: all)
    line: int = 0

    def cells(self):
        """Every combination of the axes, as dicts, in file order (the last axis varies fastest)."""
        keys = list(self.axes)
        for values in itertools.product(*(self.axes[k] for k in keys)):
            yield dict(zip(keys, values))


@dataclass
class SweepSpec:
    file: str
    name: str
    description: str
    modes: list
    graph_options: list  # list of dicts (axis over graph options)
    profiles: list  # [Entry]
    routers: list  # [Entry]
    plugins: list
    text: str  # the file's text (hashed into the record)


# ----------------------------------------------------------------------------------------------------------------
# reading: yaml.safe_load for the values, yaml.compose for the line of every key
# ----------------------------------------------------------------------------------------------------------------


def _lines(node, path: tuple, out: dict, file: str) -> None:
    """Map each key path (tuple of keys and list indices) to its 1-based line; refuse duplicate keys."""
    import yaml

    if isinstance(node, yaml.MappingNode):
        seen = set()
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            if key in seen:
                raise SweepFileError(f"{file}:{k.start_mark.line + 1}: {_fmt(path + (key,))}: duplicate key")
            seen.add(key)
            out[path + (key,)] = k.start_mark.line + 1
            _lines(v, path + (key,), out, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out[path + (i,)] = v.start_mark.line + 1
            _lines(v, path + (i,), out, file)


def _fmt(path: tuple) -> str:
    s = ""
    for p in path:
        s += f"[{p}]" if isinstance(p, int) else (f".{p}" if s else str(p))
    return s or "(top level)"


class _Ctx:
    def __init__(self, file: str, lines: dict) -> None:
        self.file = file
        self.lines = lines

    def line(self, path: tuple) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, 1)

    def fail(self, path: tuple, message: str, hint: str | None = None):
        raise SweepFileError(f"{self.file}:{self.line(path)}: {_fmt(path)}: {message}", hint)


def load_sweep(path: str | Path, catalog: Catalog) -> SweepSpec:
    """Read, validate and normalise a sweep file. Raises SweepFileError (exit 1) naming file:line: key."""
    path = Path(path)
    from rpcli.core import bounded_yaml

    try:
        text = bounded_yaml.read_text(path)
    except bounded_yaml.YamlLimitError as exc:
        raise SweepFileError(f"{path}: refused: {exc.problem}") from None
    except OSError as exc:
        raise SweepFileError(f"{path}: cannot read the sweep file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SweepFileError(f"{path}: not UTF-8 text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}",
                             hint="save the file as UTF-8") from None
    return parse_sweep(text, str(path), catalog, default_name=path.stem)


def parse_sweep(text: str, file: str, catalog: Catalog, default_name: str = "sweep") -> SweepSpec:
    import yaml

    try:
        from rpcli.core import bounded_yaml

        doc, root = bounded_yaml.safe_load_with_node(text)
    except bounded_yaml.YamlLimitError as exc:
        raise SweepFileError(f"{file}: refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{file}:{mark.line + 1}" if mark is not None else file
        raise SweepFileError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise SweepFileError(f"{file}: nested too deeply to read") from None
    lines: dict = {}
    if root is not None:
        try:
            _lines(root, (), lines, file)
        except RecursionError:
            raise SweepFileError(f"{file}: nested too deeply to read") from None
    c = _Ctx(file, lines)
    if not isinstance(doc, dict):
        c.fail((), "a sweep file is a mapping with keys " + ", ".join(TOP_KEYS))
    for k in doc:
        if k not in TOP_KEYS:
            c.fail((k,), f"unknown key{did_you_mean(str(k), TOP_KEYS)}", hint="the top-level keys are "
                   + ", ".join(TOP_KEYS))
    name = doc.get("name", default_name)
    if not isinstance(name, str) or not name or any(ch in name for ch in "/\\\0") or name.startswith("."):
        c.fail(("name",), f"must be a plain file name (letters, digits, -, _), got {name!r}")
    desc = doc.get("description", "")
    if not isinstance(desc, str):
        c.fail(("description",), "must be text")
    modes = _str_list(c, doc, "modes", catalog.modes, default=["standard"])
    plugins = doc.get("plugins") or []
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        c.fail(("plugins",), "must be a list of python module names")
    default_graphs = None
    if "graph" in doc:
        default_graphs = _str_list(c, doc, "graph", catalog.graph_kinds)
    gopts = doc.get("graph_options") or {}
    if not isinstance(gopts, dict):
        c.fail(("graph_options",), "must be a mapping of graph options")
    graph_axes = _axes(c, ("graph_options",), gopts, catalog.graph_options, "graph")
    graph_options = [dict(zip(graph_axes, vals)) for vals in itertools.product(*graph_axes.values())]

    profiles = []
    raw = doc.get("profiles")
    if not isinstance(raw, list) or not raw:
        c.fail(("profiles",), "must be a non-empty list of profile entries (each with a `method`)")
    labels: dict = {}
    for i, e in enumerate(raw):
        p = ("profiles", i)
        if not isinstance(e, dict):
            c.fail(p, "each entry is a mapping with a `method` and its options")
        method = e.get("method")
        if method is None:
            c.fail(p, "has no `method`", hint="one of " + ", ".join(catalog.methods))
        if method not in catalog.methods:
            _refuse_broken_plugin(c, p + ("method",), "profile", method)
            c.fail(p + ("method",), f"unknown profile method {method!r}{did_you_mean(str(method), catalog.methods)}",
                   hint="choose one of " + ", ".join(catalog.methods))
        opts = {k: v for k, v in e.items() if k not in PROFILE_KEYS}
        axes = _axes(c, p, opts, catalog.methods[method], f"profile method {method!r}")
        label = e.get("name", method)
        if not isinstance(label, str) or not label:
            c.fail(p + ("name",), "must be text")
        if "name" in e and label in labels:
            c.fail(p + ("name",), f"the name {label!r} is already used by profiles[{labels[label]}]")
        labels.setdefault(label, i)
        if catalog.needs_graph.get(method, True):
            if "graph" in e:
                graphs = _str_list(c, e, "graph", catalog.graph_kinds, path=p)
            else:
                graphs = default_graphs or [catalog.default_graph.get(method) or catalog.graph_kinds[0]]
        else:
            if "graph" in e:
                c.fail(p + ("graph",), f"profile method {method!r} uses no graph")
            graphs = [None]
        profiles.append(Entry(method, label, axes, graphs=graphs, line=c.line(p)))

    routers = []
    raw = doc.get("routers") or []
    if not isinstance(raw, list):
        c.fail(("routers",), "must be a list of router entries (each with a `router`)")
    known = set(labels) | {e.what for e in profiles}
    for i, e in enumerate(raw):
        p = ("routers", i)
        if not isinstance(e, dict):
            c.fail(p, "each entry is a mapping with a `router` and its options")
        router = e.get("router")
        if router is None:
            c.fail(p, "has no `router`", hint="one of " + ", ".join(catalog.routers))
        if router not in catalog.routers:
            _refuse_broken_plugin(c, p + ("router",), "router", router)
            c.fail(p + ("router",), f"unknown router {router!r}{did_you_mean(str(router), catalog.routers)}",
                   hint="choose one of " + ", ".join(catalog.routers))
        sel = None
        if "profiles" in e:
            sel = e["profiles"]
            if isinstance(sel, str):
                sel = [sel]
            if not isinstance(sel, list) or not all(isinstance(s, str) for s in sel):
                c.fail(p + ("profiles",), "must be a list of profile methods or entry names")
            for j, s in enumerate(sel):
                if s not in known:
                    c.fail(p + ("profiles", j), f"no profile entry is called {s!r}{did_you_mean(s, known)}",
                           hint="name profile methods or the `name` of a profiles: entry")
        opts = {k: v for k, v in e.items() if k not in ROUTER_KEYS}
        axes = _axes(c, p, opts, catalog.routers[router], f"router {router!r}")
        label = e.get("name", router)
        if not isinstance(label, str) or not label:
            c.fail(p + ("name",), "must be text")
        routers.append(Entry(router, label, axes, profiles=sel, line=c.line(p)))
    return SweepSpec(file=file, name=name, description=desc, modes=modes, graph_options=graph_options,
                     profiles=profiles, routers=routers, plugins=plugins, text=text)


def _refuse_broken_plugin(c, path: tuple, kind: str, name) -> None:
    """An entry naming an installed plugin that failed to load fails with the registry's message (the plugin,
    its distribution and its error) rather than as an unknown name."""
    from rpcli.core.registry import problems

    for p in problems(kind):
        if p.name == name:
            c.fail(path, p.message(), hint="fix or uninstall that plugin; `rp plugins` lists every plugin")


def _str_list(c: _Ctx, d: dict, key: str, choices, default=None, path: tuple = ()) -> list:
    v = d.get(key, default)
    vals = v if isinstance(v, list) else [v]
    if not vals:
        c.fail(path + (key,), "must not be empty")
    for j, x in enumerate(vals):
        where = path + ((key, j) if isinstance(v, list) else (key,))
        if not isinstance(x, str):
            c.fail(where, f"expected one of {', '.join(choices)}, got {x!r} ({type(x).__name__})")
        if x not in choices:
            c.fail(where, f"unknown value {x!r}{did_you_mean(x, choices)}", hint="choose from " + ", ".join(choices))
    return list(dict.fromkeys(vals))


def _axes(c: _Ctx, path: tuple, opts: dict, allowed: dict, what: str) -> dict:
    """Every allowed option -> list of values (defaults filled in); a list value is an axis."""
    axes = {}
    for k in opts:
        if k not in allowed:
            if allowed:
                hint = f"{what} accepts " + ", ".join(sorted(allowed))
            else:
                hint = f"{what} takes no options"
            c.fail(path + (k,), f"unknown option for {what}{did_you_mean(str(k), allowed)}", hint=hint)
    for k, spec in allowed.items():
        if k not in opts:
            axes[k] = [spec.default]
            continue
        v = opts[k]
        if spec.type == "int-list":
            is_axis = isinstance(v, list) and v and all(isinstance(x, list) for x in v)
            values = v if is_axis else [v]
        else:
            is_axis = isinstance(v, list)
            values = v if is_axis else [v]
        if is_axis and not values:
            c.fail(path + (k,), "an empty list gives no cells")
        out = []
        for j, x in enumerate(values):
            out.append(check_value(c, path + ((k, j) if is_axis else (k,)), x, spec))
        axes[k] = list(_unique(out))
    return axes


def _unique(values):
    seen = []
    for v in values:
        if v not in seen:
            seen.append(v)
            yield v


def check_value(c: _Ctx, path: tuple, x, spec: Option):
    if x is None:
        if spec.nullable:
            return None
        c.fail(path, f"must not be null (expected {_type_words(spec)})")
    t = spec.type
    ok = True
    if t == "int":
        ok = isinstance(x, int) and not isinstance(x, bool)
    elif t == "float":
        ok = isinstance(x, (int, float)) and not isinstance(x, bool)
        if ok:
            x = float(x)
    elif t == "bool":
        ok = isinstance(x, bool)
    elif t == "str":
        ok = isinstance(x, str)
    elif t == "int-list":
        if isinstance(x, int) and not isinstance(x, bool):
            x = [x]
        ok = isinstance(x, list) and bool(x) and all(isinstance(i, int) and not isinstance(i, bool) for i in x)
    if not ok:
        c.fail(path, f"expected {_type_words(spec)}, got {x!r} ({type(x).__name__})")
    for n in (x if t == "int-list" else [x] if t in ("int", "float") else []):
        if t == "float" and not math.isfinite(n):
            c.fail(path, f"must be a finite number, got {n!r}")
        if isinstance(n, int) and abs(n) > INT_LIMIT:
            c.fail(path, f"{str(n)[:24]}{'...' if len(str(n)) > 24 else ''} is too large (at most {INT_LIMIT})")
    if spec.choices is not None and x not in spec.choices:
        c.fail(path, f"unknown value {x!r}{did_you_mean(str(x), spec.choices)}",
               hint="choose from " + ", ".join(map(str, spec.choices)))
    if spec.minimum is not None and t in ("int", "float") and x < spec.minimum:
        c.fail(path, f"must be at least {spec.minimum:g}, got {x!r}")
    if t == "int-list" and spec.minimum is not None and any(i < spec.minimum for i in x):
        c.fail(path, f"every value must be at least {spec.minimum:g}, got {x!r}")
    return x


def _type_words(spec: Option) -> str:
    words = {"int": "an integer", "float": "a number", "bool": "true or false", "str": "text",
             "int-list": "a list of integers"}[spec.type]
    if spec.choices:
        words = "one of " + ", ".join(map(str, spec.choices))
    return words + (" or null" if spec.nullable else "")
