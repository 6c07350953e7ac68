"""Explicit bounds on the files and texts a user hands in (dataset files, score files, cards, batch files).

| limit | default | environment variable | where |
|---|---|---|---|
| size of one data file (JSON, JSONL, CSV) | 512 MiB | `RP_MAX_DATA_BYTES` | the dataset loader, `rp data import`, cards |
| characters of one query text | 100,000 | `RP_MAX_QUERY_CHARS` | `rp route batch` lines |
| JSON nesting depth | the parser's (about 1,000 levels) | – | every JSON reader: a clean error, not a crash |

A file over the size limit is refused from its size on disk, before a byte is read, with an error that names the
file, the limit and the variable that raises it. YAML has its own limits (rpcli.core.bounded_yaml). The server's
limits are options of `rp serve` (docs/serving.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from rpcli.errors import DataFileError

MAX_DATA_BYTES = 512 * 1024 * 1024
MAX_QUERY_CHARS = 100_000


def env_limit(name: str, default: int) -> int:
    """A positive whole number from the environment variable `name` (underscores allowed), else `default`."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        v = int(raw.replace("_", ""))
    except ValueError:
        return default
    return v if v > 0 else default


def max_data_bytes() -> int:
    return env_limit("RP_MAX_DATA_BYTES", MAX_DATA_BYTES)


def max_query_chars() -> int:
    return env_limit("RP_MAX_QUERY_CHARS", MAX_QUERY_CHARS)


def check_file_size(path: Path, limit: int | None = None, env: str = "RP_MAX_DATA_BYTES") -> int:
    """The file's size in bytes; a DataFileError when it is over the limit (checked before reading)."""
    lim = max_data_bytes() if limit is None else limit
    try:
        size = Path(path).stat().st_size
    except OSError as exc:
        raise DataFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    if size > lim:
        raise DataFileError(path, f"the file is {size:,} bytes, over the limit of {lim:,} bytes for one input file",
                            hint=f"set {env} to a larger number of bytes if the file is genuine")
    return size


def read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes, refusing a file over the size limit; never reads more than the limit plus one byte (a file
    that grows while it is read, or a device or pipe that reports no size, is refused too)."""
    lim = max_data_bytes() if limit is None else limit
    check_file_size(path, lim)
    try:
        with open(path, "rb") as fh:
            raw = fh.read(lim + 1)
    except OSError as exc:
        raise DataFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    if len(raw) > lim:
        raise DataFileError(path, f"the file holds more than the limit of {lim:,} bytes for one input file",
                            hint="set RP_MAX_DATA_BYTES to a larger number of bytes if the file is genuine")
    return raw


def read_line(fh, limit: int | None = None) -> tuple[str | None, bool]:
    """The next line of a text file opened for reading, at most `limit` characters held in memory:
    (line, False); (None, True) for a line over the limit (the rest of it is skipped unread into memory);
    ("", False) at the end of the file."""
    lim = max_query_chars() if limit is None else limit
    line = fh.readline(lim + 1)
    if len(line) <= lim or line.endswith("\n"):
        return line, False
    while True:  # skip the rest of the over-long line in bounded chunks
        more = fh.readline(1 << 16)
        if not more or more.endswith("\n"):
            return None, True
