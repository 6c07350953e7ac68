"""The registry of routers and profile methods: the one place rp learns which exist and what each accepts.

A router is one object (a subclass of `rpcli.core.plugin.Router`) in one module; a profile method likewise (a
`rpcli.core.plugin.ProfileMethod`). Both are found through Python entry points, rp's own included:

    [project.entry-points."rp.routers"]       name = "package.module:OBJECT"
    [project.entry-points."rp.profiles"]      name = "package.module:OBJECT"

Everything else is derived from what is registered here: the `rp route NAME` / `rp profile NAME` commands and their
options (from the object's `Config` dataclass), sweep validation, the services, `rp route query|batch`, `rp serve`,
`rp model add`, `rpcli.load_run`, and the labels and ordering of compare, report and the dashboard.

Entry points are read lazily, once per process, and each is imported only then; this module itself is standard
library only, so `rp --help` stays light. A plugin that fails to import (or is not a Router / ProfileMethod) is
recorded in `problems()` with its distribution and error; it is left out, and only a command that names it fails
(naming the broken plugin). Modules may also register objects directly (`register_router`), as a sweep's
`plugins:` modules do.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

from rpcli.errors import ConfigError

ROUTER_GROUP = "rp.routers"
PROFILE_GROUP = "rp.profiles"
GROUPS = {"router": ROUTER_GROUP, "profile": PROFILE_GROUP}
# rp's own subcommands of `rp route` and `rp profile`: a plugin of that name could never be reached
RESERVED = {"router": ("query", "batch"), "profile": ("import", "ls", "show")}
OWN_DISTRIBUTION = "rpcli"  # its entry points win a name clash: a plugin cannot replace a built-in


# ----------------------------------------------------------------------------------------------------------------
# options: a Config dataclass is the only place an option's name, default, type and help live
# ----------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OptionMeta:
    """What a Config field says about itself besides its name, type and default (see `option`)."""

    help: str = ""
    flag: str | None = None  # the CLI spelling: "--out-dim", "--same-task/--any-task", "--residual" (bool: one flag)
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    late: bool = False  # added after runs were recorded: enters the recipe only when it differs from its default
    cli: bool = True  # False: part of the recipe but not a command-line option (fixed by the router)


def option(default: Any, help: str = "", *, flag: str | None = None, min: float | None = None,
           max: float | None = None, choices: tuple | list | None = None, late: bool = False, cli: bool = True):
    """A Config field: `k: int = option(20, "Neighbours per query.", min=0)`."""
    meta = OptionMeta(help=help, flag=flag, min=min, max=max, choices=tuple(choices) if choices else None,
                      late=late, cli=cli)
    if isinstance(default, (list, dict, set)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata={"rp": meta})
    return dataclasses.field(default=default, metadata={"rp": meta})


@dataclass(frozen=True)
class OptionSpec:
    """One option of a router or profile method, read off its Config dataclass."""

    name: str
    type: str  # "int", "float", "bool", "str", "int-list"
    default: Any
    nullable: bool = False
    help: str = ""
    flag: str | None = None
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    late: bool = False
    cli: bool = True

    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")


_TYPES = {int: "int", float: "float", bool: "bool", str: "str"}


def _type_name(hint, default) -> tuple[str, bool]:
    """(type name, nullable) of a field's annotation."""
    nullable = False
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin is typing.Union or (hasattr(types, "UnionType") and isinstance(hint, types.UnionType)):
        rest = [a for a in args if a is not type(None)]
        nullable = len(rest) < len(args)
        hint = rest[0] if len(rest) == 1 else hint
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (list, tuple) and args and args[0] is int:
        return "int-list", nullable
    if hint in _TYPES:
        return _TYPES[hint], nullable
    if default is not None and type(default) in _TYPES:
        return _TYPES[type(default)], nullable
    return "str", nullable or default is None


def options_of(config_cls) -> list[OptionSpec]:
    """The options of a Config dataclass, in field order."""
    if config_cls is None:
        return []
    if not dataclasses.is_dataclass(config_cls):
        raise ConfigError(f"{config_cls!r} is not a dataclass: a plugin's Config must be one")
    hints = typing.get_type_hints(config_cls)
    out = []
    for f in dataclasses.fields(config_cls):
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            raise ConfigError(f"{getattr(config_cls, '__name__', config_cls)}.{f.name} has no default: every option "
                              "needs one")
        meta = f.metadata.get("rp") or OptionMeta()
        tname, nullable = _type_name(hints.get(f.name, type(default)), default)
        out.append(OptionSpec(name=f.name, type=tname, default=default, nullable=nullable or default is None,
                              help=meta.help, flag=meta.flag, min=meta.min, max=meta.max, choices=meta.choices,
                              late=meta.late, cli=meta.cli))
    return out


def defaults_of(config_cls) -> dict:
    """{option: default} of a Config dataclass."""
    return {o.name: o.default for o in options_of(config_cls)}


def non_default(config_cls, opts: dict) -> dict:
    """The options of `opts` that differ from the Config's defaults (an option absent from `opts` is its default)."""
    d = defaults_of(config_cls)
    return {k: v for k, v in opts.items() if k in d and d[k] != v}


# ----------------------------------------------------------------------------------------------------------------
# the registry
# ----------------------------------------------------------------------------------------------------------------
@dataclass
class Problem:
    """A plugin that could not be loaded."""

    kind: str  # "router" | "profile"
    name: str
    target: str  # "module:object"
    source: str  # the distribution that declares it
    error: str

    def message(self) -> str:
        return (f"the {self.kind} plugin {self.name!r} ({self.target}, from {self.source}) cannot be loaded: "
                f"{self.error}")


@dataclass
class _Registry:
    objects: dict = dataclasses.field(default_factory=dict)  # kind -> {name: object}
    sources: dict = dataclasses.field(default_factory=dict)  # (kind, name) -> {"source":, "target":}
    problems: list = dataclasses.field(default_factory=list)
    loaded: set = dataclasses.field(default_factory=set)


_REG = _Registry()


def _base(kind: str):
    from rpcli.core import plugin

    return plugin.Router if kind == "router" else plugin.ProfileMethod


def _check(kind: str, obj) -> None:
    base = _base(kind)
    if isinstance(obj, type) and issubclass(obj, base):
        raise ConfigError(f"register an instance of {obj.__name__}, not the class")
    if not isinstance(obj, base):
        raise ConfigError(f"{obj!r} is not a {base.__module__}.{base.__name__}")
    if not isinstance(getattr(obj, "name", None), str) or not obj.name.strip() or obj.name.startswith("-"):
        raise ConfigError(f"{obj!r} has no valid name")
    if obj.name in RESERVED[kind]:
        raise ConfigError(f"the name {obj.name!r} is taken by `rp {'route' if kind == 'router' else 'profile'} "
                          f"{obj.name}`: choose another")
    for attr in ("summary", "description", "example"):
        if not isinstance(getattr(obj, attr, ""), str):
            raise ConfigError(f"{type(obj).__name__}.{attr} must be a string")
    if kind == "router":
        from rpcli.core.plugin import Capabilities

        if not isinstance(obj.caps, Capabilities):
            raise ConfigError(f"{type(obj).__name__}.caps must be a rpcli.core.plugin.Capabilities")
    for o in options_of(obj.Config):  # a Config that cannot be read fails here, at registration
        if o.choices and o.default is not None and str(o.default) not in {str(c) for c in o.choices}:
            raise ConfigError(f"option {o.name!r}: its default {o.default!r} is not one of its choices {o.choices}")


def _load(kind: str) -> None:
    if kind in _REG.loaded:
        return
    _REG.loaded.add(kind)
    from importlib.metadata import entry_points

    table = _REG.objects.setdefault(kind, {})

    def own_last(ep) -> tuple:
        dist = getattr(ep, "dist", None)
        return ep.name, getattr(dist, "name", None) != OWN_DISTRIBUTION

    for ep in sorted(entry_points(group=GROUPS[kind]), key=own_last):
        dist = getattr(ep, "dist", None)
        source = f"{dist.name} {dist.version}" if dist is not None else "?"
        if ep.name in table and (kind, ep.name) in _REG.sources:
            prev = _REG.sources[(kind, ep.name)]
            if prev["target"] == ep.value:  # the same object declared twice (e.g. two installs of one package)
                continue
            _REG.problems.append(Problem(kind, ep.name, ep.value, source,
                                         f"the name is taken by {prev['target']} ({prev['source']})"))
            continue
        try:
            obj = ep.load()
            _check(kind, obj)
            if obj.name != ep.name:
                raise ConfigError(f"the entry point is named {ep.name!r} but the object calls itself {obj.name!r}")
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - a broken plugin must never break the other commands
            _REG.problems.append(Problem(kind, ep.name, ep.value, source, f"{type(exc).__name__}: {exc}"))
            continue
        table[obj.name] = obj
        _REG.sources[(kind, obj.name)] = {"source": source, "target": ep.value}


def register(kind: str, obj, source: str | None = None) -> None:
    """Register a router or profile method object directly (a sweep's `plugins:` modules, tests)."""
    _check(kind, obj)
    _load(kind)
    _REG.objects.setdefault(kind, {})[obj.name] = obj
    _REG.sources[(kind, obj.name)] = {"source": source or f"module {type(obj).__module__}",
                                      "target": f"{type(obj).__module__}:{type(obj).__name__}()"}


def register_router(obj, source: str | None = None) -> None:
    register("router", obj, source)


def register_profile_method(obj, source: str | None = None) -> None:
    register("profile", obj, source)


def unregister(kind: str, name: str) -> None:
    _REG.objects.get(kind, {}).pop(name, None)
    _REG.sources.pop((kind, name), None)


def _ordered(kind: str) -> dict:
    _load(kind)
    items = _REG.objects.get(kind, {})
    return {n: items[n] for n in sorted(items, key=lambda n: (getattr(items[n], "order", 1000), n))}


def routers() -> dict:
    """{name: Router} of every loaded router, in display order (the study's first)."""
    return _ordered("router")


def profile_methods() -> dict:
    """{name: ProfileMethod} of every loaded profile method, in display order."""
    return _ordered("profile")


def problems(kind: str | None = None) -> list[Problem]:
    """The plugins that could not be loaded (of one kind, "router" or "profile", or of both)."""
    for k in (kind,) if kind else GROUPS:
        _load(k)
    return [p for p in _REG.problems if kind is None or p.kind == kind]


def source_of(kind: str, name: str) -> dict:
    """{"source": distribution or module, "target": "module:object"} of a registered object."""
    return dict(_REG.sources.get((kind, name)) or {"source": "?", "target": "?"})


def _get(kind: str, name: str):
    table = _ordered(kind)
    if name in table:
        return table[name]
    broken = [p for p in _REG.problems if p.kind == kind and p.name == name]
    if broken:
        raise ConfigError(broken[0].message(), hint="fix or uninstall that plugin; `rp plugins` lists every plugin")
    what = "router" if kind == "router" else "profile method"
    raise ConfigError(f"unknown {what} {name!r}; choose one of {', '.join(table) or '(none registered)'}",
                      hint="`rp plugins` lists every router and profile method, built in or installed")


def router(name: str):
    """The Router called `name` (ConfigError naming the choices, or the broken plugin, otherwise)."""
    return _get("router", name)


def profile_method(name: str):
    """The ProfileMethod called `name`."""
    return _get("profile", name)


def catalog() -> dict:
    """Everything registered, as data (rp plugins --json): kind, name, source, summary, capabilities, options."""
    out: dict = {"routers": [], "profiles": [], "problems": []}
    for kind, table, key in (("router", routers(), "routers"), ("profile", profile_methods(), "profiles")):
        for name, obj in table.items():
            rec = {"name": name, **source_of(kind, name), "summary": getattr(obj, "summary", ""),
                   "options": [{"name": o.name, "type": o.type, "default": o.default, "help": o.help,
                                "flag": o.cli_flag() if o.cli else None, "choices": o.choices, "min": o.min,
                                "max": o.max} for o in options_of(obj.Config)]}
            if kind == "router":
                rec["capabilities"] = dataclasses.asdict(obj.caps)
            else:
                rec["graph"] = obj.default_graph
            out[key].append(rec)
    out["problems"] = [dataclasses.asdict(p) for p in problems()]
    return out


def label_defaults() -> dict:
    """{"routers": {name: {option: default}}, "profiles": {method: {option: default}}, "order": {...}} for the
    results view (compare, report, dashboard): a label names every option that differs from these."""
    rs, ps = routers(), profile_methods()
    return {"routers": {n: {"query_text": "formatted", **defaults_of(r.Config)} for n, r in rs.items()},
            "profiles": {n: defaults_of(p.Config) for n, p in ps.items()},
            "router_order": list(rs), "method_order": list(ps),
            "router_titles": {n: r.title for n, r in rs.items() if getattr(r, "title", None)}}
