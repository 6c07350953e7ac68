"""Cards: model descriptions, families, sizes, prices and benchmark scores, and family, task and domain
descriptions (`--cards`, YAML or JSON; also read by rp model add)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from rpcli.core.data.importers.readers import read_text
from rpcli.errors import DataFileError


@dataclass
class Card:
    name: str
    description: str | None = None
    family: str | None = None
    size: str | None = None
    parameters: float | None = None
    input_price: float | None = None
    output_price: float | None = None
    scores: dict = field(default_factory=dict)  # benchmark -> 0-100 score
    extra: dict = field(default_factory=dict)  # the card's other keys (kept as they are)


@dataclass
class Cards:
    path: Path | None = None
    models: dict = field(default_factory=dict)  # name -> Card
    families: dict = field(default_factory=dict)  # family -> description
    tasks: dict = field(default_factory=dict)  # task -> description
    domains: dict = field(default_factory=dict)  # domain -> (description | None, [tasks])


def load_structured(path: Path):
    """A YAML or JSON file (by suffix; .json is JSON, anything else YAML, which also reads JSON)."""
    if not path.is_file():
        raise DataFileError(path, "file not found")
    text = read_text(path)
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataFileError(path, f"malformed JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except RecursionError:
            raise DataFileError(path, "JSON nested too deeply to read") from None
    import yaml

    from rpcli.core import bounded_yaml

    try:
        return bounded_yaml.safe_load(text)
    except RecursionError:
        raise DataFileError(path, "YAML nested too deeply to read") from None
    except bounded_yaml.YamlLimitError as exc:
        raise DataFileError(path, f"refused: {exc.problem}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise DataFileError(path, f"malformed YAML{at}: {getattr(exc, 'problem', None) or exc}") from None


def _opt_text(path, rec: dict, keys, where: str) -> str | None:
    for k in keys:
        if k in rec and rec[k] is not None:
            v = rec[k]
            if not isinstance(v, str) or not v.strip():
                raise DataFileError(path, f"expected a non-empty text, found {str(v)[:40]!r}", record=where, field=k)
            return v.strip()
    return None


def _opt_number(path, rec: dict, key: str, where: str, lo: float = 0.0) -> float | None:
    v = rec.get(key)
    if v is None:
        return None
    try:
        bad = isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(float(v)) or v < lo
    except OverflowError:
        bad = True
    if bad:
        raise DataFileError(path, f"expected a number >= {lo:g}, found {str(v)[:40]!r}", record=where, field=key)
    return float(v)


def parse_card(path, name: str, rec, where: str | None = None) -> Card:
    """One model card: description (or feature), family (or architecture), size, parameters, input_price and
    output_price ($ per million tokens; or prices: {input, output}), scores (or detailed_scores; 0-100)."""
    where = where or f"models.{name}"
    if not isinstance(rec, dict):
        raise DataFileError(path, f"expected a card (an object), found {type(rec).__name__}", record=where)
    prices = rec.get("prices")
    if prices is not None:
        if not isinstance(prices, dict):
            raise DataFileError(path, "expected {input: $, output: $}", record=where, field="prices")
        rec = {**rec, "input_price": prices.get("input"), "output_price": prices.get("output")}
    raw = rec.get("scores", rec.get("detailed_scores")) or {}
    if not isinstance(raw, dict):
        raise DataFileError(path, "expected an object {benchmark: score (0-100)}", record=where, field="scores")
    scores: dict = {}
    for t, v in raw.items():
        if v is None:
            scores[str(t)] = None
            continue
        try:
            ok = not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(float(v)) and \
                0 <= float(v) <= 100
        except OverflowError:
            ok = False
        if not ok:
            raise DataFileError(path, f"expected a number (0-100) or null, found {str(v)[:40]!r}", record=where,
                                field=f"scores.{t}")
        scores[str(t)] = float(v)
    size = rec.get("size")
    known = {"name", "description", "feature", "family", "architecture", "size", "parameters", "input_price",
             "output_price", "prices", "scores", "detailed_scores"}
    return Card(name=name, description=_opt_text(path, rec, ("description", "feature"), where),
                family=_opt_text(path, rec, ("family", "architecture"), where),
                size=None if size is None else str(size), parameters=_opt_number(path, rec, "parameters", where),
                input_price=_opt_number(path, rec, "input_price", where),
                output_price=_opt_number(path, rec, "output_price", where), scores=scores,
                extra={k: v for k, v in rec.items() if k not in known})


def _desc_map(path, doc, key: str) -> dict:
    m = doc.get(key) or {}
    if not isinstance(m, dict):
        raise DataFileError(path, "expected an object {name: description}", field=key)
    out = {}
    for k, v in m.items():
        if isinstance(v, dict):
            v = v.get("description")
        if not isinstance(v, str) or not v.strip():
            raise DataFileError(path, "expected a non-empty description text", record=f"{key}.{k}")
        out[str(k)] = v.strip()
    return out


def read_cards(path: str | Path | None) -> Cards:
    """Read a cards file: `models: {name: card}`, `families: {name: text}`, `tasks: {name: text}`,
    `domains: {name: {description: text, tasks: [task, ...]}}`; every section is optional."""
    if path is None:
        return Cards()
    path = Path(path)
    return cards_from_doc(path, load_structured(path))


def cards_from_doc(path: Path, doc) -> Cards:
    """`read_cards` on an already parsed document (`path` names it in errors)."""
    if doc is None:
        doc = {}
    if not isinstance(doc, dict):
        raise DataFileError(path, f"expected an object with models, families, tasks and domains sections, found "
                                  f"{type(doc).__name__}")
    unknown = sorted(set(doc) - {"models", "families", "tasks", "domains"})
    if unknown:
        raise DataFileError(path, f"unknown section(s) {unknown}", record=unknown[0],
                            hint="the sections are models, families, tasks and domains")
    models = doc.get("models") or {}
    if not isinstance(models, dict):
        raise DataFileError(path, "expected an object {model name: card}", field="models")
    cards = Cards(path=path, models={str(n): parse_card(path, str(n), r) for n, r in models.items()},
                  families=_desc_map(path, doc, "families"), tasks=_desc_map(path, doc, "tasks"))
    doms = doc.get("domains") or {}
    if not isinstance(doms, dict):
        raise DataFileError(path, "expected an object {domain: {description, tasks}}", field="domains")
    for d, r in doms.items():
        if not isinstance(r, dict) or not isinstance(r.get("tasks", []), list):
            raise DataFileError(path, "expected {description: text, tasks: [task, ...]}", record=f"domains.{d}")
        desc = r.get("description")
        if desc is not None and (not isinstance(desc, str) or not desc.strip()):
            raise DataFileError(path, "expected a non-empty description text", record=f"domains.{d}",
                                field="description")
        cards.domains[str(d)] = (desc, [str(t) for t in r.get("tasks", [])])
    return cards
