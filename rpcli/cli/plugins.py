"""rp plugins: every router and profile method rp knows, built in or installed, and every plugin that failed to
load (rpcli.core.registry.catalog)."""

from __future__ import annotations

from rpcli.cli._options import JsonOpt
from rpcli.cli._output import out_console, print_json


def plugins(as_json: JsonOpt = False) -> None:
    """List every router and profile method, built in or installed, and the plugins that failed to load.

    Each with where it comes from (distribution and version, module:object), its summary and its options; routers
    with their capabilities; a plugin that failed to load with its error (only a command naming it fails). A router
    or profile method is an `rp.routers` / `rp.profiles` entry point of an installed distribution, rp's own
    included (docs/plugins.md). --json prints {"routers": [...], "profiles": [...], "problems": [...]}.

    Example: rp plugins --json | jq '.routers[] | {name, source, target}'
    """
    from rpcli.core.registry import catalog

    doc = catalog()
    if as_json:
        print_json(doc)
        return
    from rich.markup import escape
    from rich.table import Table

    for key, title in (("routers", "routers (rp route NAME)"), ("profiles", "profile methods (rp profile NAME)")):
        if not doc[key]:
            continue
        t = Table(title=title, title_justify="left")
        for c in ("name", "from", "summary", "capabilities" if key == "routers" else "graph", "options"):
            t.add_column(c, overflow="fold")
        for rec in doc[key]:
            extra = (_caps(rec["capabilities"]) if key == "routers" else rec.get("graph") or "none")
            t.add_row(rec["name"], f"{rec['source']}\n[dim]{escape(rec['target'])}[/dim]", escape(rec["summary"]),
                      extra, escape(_options(rec["options"])))
        out_console.print(t)
    if doc["problems"]:
        t = Table(title="plugins that failed to load (only a command naming one fails)", title_justify="left",
                  title_style="bold red")
        for c in ("kind", "name", "from", "error"):
            t.add_column(c, overflow="fold")
        for p in doc["problems"]:
            t.add_row(p["kind"], p["name"], f"{p['source']}\n[dim]{escape(p['target'])}[/dim]",
                      f"[red]{escape(p['error'])}[/red]")
        out_console.print(t)


def _caps(caps: dict) -> str:
    on = [k for k in ("training", "seeded", "checkpoint", "device", "cards", "labels", "cost_aware") if caps.get(k)]
    return ", ".join(on + [f"new model: {caps.get('new_model')}"])


def _options(options: list) -> str:
    parts = []
    for o in options:
        if o.get("flag") is None:
            continue
        flag = o["flag"]
        parts.append(f"{flag} ({'on' if o['default'] else 'off'})" if o["type"] == "bool"
                     else f"{flag} {_value(o['default'])}")
    return " ".join(parts) or "-"


def _value(v) -> str:
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    return "-" if v is None else str(v)
