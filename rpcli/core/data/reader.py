"""Reading the files of one dataset: the text of each file (bounded, UTF-8, hashed as read), JSON that names its
line and refuses duplicate keys, and the field checks every record goes through (`need`, `number`,
`formatted`). Every problem is a DataFileError naming the file, the record and the field. Used by
rpcli.core.data.load.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from rpcli.core.input_limits import read_bytes
from rpcli.errors import DataFileError
from rpcli.workspace.hashing import sha256_file


class _Reader:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, str] = {}

    def path(self, rel: str) -> Path:
        return self.root / rel

    def exists(self, rel: str) -> bool:
        return self.path(rel).is_file()

    def _text(self, rel: str) -> str:
        """The file's text: a missing file, a symlink loop, a folder, unreadable or non-UTF-8 bytes are clean errors."""
        p = self.path(rel)
        if p.is_symlink() and not p.exists():
            raise DataFileError(p, "a symbolic link that points nowhere or loops (" + _link_target(p) + ")")
        if not p.is_file():
            raise DataFileError(p, "file not found", hint="is --data the folder that holds profile_data/ and route_data/?")
        raw = read_bytes(p)  # bounded: RP_MAX_DATA_BYTES
        self.files[rel] = sha256_file(p)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[:exc.start].count(b"\n") + 1
            raise DataFileError(p, f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at offset {exc.start} "
                                   f"(line {line})", hint="save the file as UTF-8") from None

    def json(self, rel: str, expect: type):
        p = self.path(rel)
        text = self._text(rel)
        if not text.strip():
            raise DataFileError(p, "the file is empty")
        doc = _parse_json(p, text)
        if not isinstance(doc, expect):
            want = " or ".join(t.__name__ for t in expect) if isinstance(expect, tuple) else expect.__name__
            raise DataFileError(p, f"expected a JSON {want} at the top level, found {type(doc).__name__}")
        return doc

    def jsonl(self, rel: str) -> list[dict]:
        p = self.path(rel)
        rows = []
        for lineno, line in enumerate(self._text(rel).split("\n"), 1):
            if not line.strip():
                continue
            obj = _parse_json(p, line, record=f"line {lineno}")
            if not isinstance(obj, dict):
                raise DataFileError(p, "expected a JSON object", record=f"line {lineno}")
            rows.append((lineno, obj))
        if not rows:
            raise DataFileError(p, "the file has no records")
        return rows


def _link_target(p: Path) -> str:
    try:
        return f"-> {os.readlink(p)}"
    except OSError:
        return "unreadable link"


def _no_duplicates(p, record):
    def hook(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise DataFileError(p, f"duplicate key {k!r} in one JSON object (JSON keeps only the last; "
                                       "which one was meant is ambiguous)", record=record, field=k)
            seen.add(k)
        return dict(pairs)
    return hook


def _parse_json(p, text: str, record: str | None = None):
    """json.loads that names the line and column, refuses duplicate keys and survives pathological nesting."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates(p, record))
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}" if record is None else f"column {exc.colno}"
        raise DataFileError(p, f"malformed JSON at {where}: {exc.msg}", record=record) from None
    except RecursionError:
        raise DataFileError(p, "JSON nested too deeply to read", record=record) from None


def _need(p, rec: dict, key: str, record: str, types, allow_none: bool = False):
    if key not in rec:
        raise DataFileError(p, "missing field", record=record, field=key)
    val = rec[key]
    if val is None and allow_none:
        return None
    if not isinstance(val, types) or isinstance(val, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        tn = types.__name__ if isinstance(types, type) else "/".join(t.__name__ for t in types)
        raise DataFileError(p, f"expected {tn}, found {type(val).__name__} ({str(val)[:40]!r})", record=record, field=key)
    if isinstance(val, float) and not math.isfinite(val):
        raise DataFileError(p, f"not a finite number ({val})", record=record, field=key)
    if isinstance(val, str) and not val.strip() and not allow_none:
        raise DataFileError(p, "empty text", record=record, field=key)
    return val


def _number(p, val, record: str, field: str, allow_none: bool = True, minimum: float | None = None):
    if val is None and allow_none:
        return None
    if isinstance(val, bool) or not isinstance(val, (int, float)):
        raise DataFileError(p, f"expected a number or null, found {type(val).__name__} ({str(val)[:40]!r})",
                            record=record, field=field)
    try:
        f = float(val)
    except OverflowError:
        f = math.inf
    if not math.isfinite(f):
        raise DataFileError(p, f"not a finite number ({str(val)[:40]})", record=record, field=field)
    if minimum is not None and f < minimum:
        raise DataFileError(p, f"must be at least {minimum:g}, found {f:g}", record=record, field=field)
    return f


def _formatted(p, rec: dict, record: str):
    fq = rec.get("formatted_query")
    if fq is None:
        return None
    if not isinstance(fq, dict) or not isinstance(fq.get("user"), str):
        raise DataFileError(p, "expected an object with a 'user' text (and optional 'system')", record=record,
                            field="formatted_query")
    return {"system": fq.get("system") or "", "user": fq["user"]}
