"""YAML a user hands in, read within explicit limits (sweep files, model cards, endpoints files, prompt templates).

`yaml.safe_load` refuses code but not size: a 1 KB file of nested aliases (the "billion laughs" shape) expands to
billions of nodes when constructed. `safe_load` here first composes the document (aliases stay shared nodes, so this
is cheap), counts the nodes the constructed value would hold with every alias expanded, and refuses a document over
the limits before constructing anything:

| limit | default | environment variable |
|---|---|---|
| file size | 512 KiB | `RP_MAX_YAML_BYTES` |
| nodes after alias expansion | 1,000,000 | `RP_MAX_YAML_NODES` |
| nesting depth | 200 | – |

A self-referencing alias (a recursive structure) is refused too. `YamlLimitError` is a `yaml.YAMLError`, so every
caller's existing "not valid YAML" path reports it, with the file's name and the limit.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from rpcli.core.input_limits import env_limit

MAX_BYTES = 512 * 1024
# libyaml's parser where PyYAML has it (about 10x faster than the pure-Python one); the same safe constructor
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_NODES = 1_000_000
MAX_DEPTH = 200


class YamlLimitError(yaml.YAMLError):
    """A YAML document over one of the limits (the message names the limit and how to raise it)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.problem = message


def max_bytes() -> int:
    return env_limit("RP_MAX_YAML_BYTES", MAX_BYTES)


def max_nodes() -> int:
    return env_limit("RP_MAX_YAML_NODES", MAX_NODES)


def check_size(n_bytes: int) -> None:
    lim = max_bytes()
    if n_bytes > lim:
        raise YamlLimitError(f"the file is {n_bytes:,} bytes, over the limit of {lim:,} "
                             f"(set RP_MAX_YAML_BYTES to raise it)")


def expanded_nodes(node, limit: int | None = None) -> int:
    """Nodes of `node` with every alias expanded (each shared node counted once per reference); raises
    YamlLimitError past `limit`, past MAX_DEPTH, or on a recursive alias."""
    limit = max_nodes() if limit is None else limit
    memo: dict[int, int] = {}
    active: set[int] = set()

    def walk(n, depth: int) -> int:
        key = id(n)
        if key in memo:
            return memo[key]
        if key in active:
            raise YamlLimitError("an alias refers to a node that contains it (a recursive structure)")
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"nested deeper than {MAX_DEPTH} levels")
        active.add(key)
        total = 1
        if isinstance(n, yaml.SequenceNode):
            for c in n.value:
                total += walk(c, depth + 1)
                if total > limit:
                    break
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += walk(k, depth + 1) + walk(v, depth + 1)
                if total > limit:
                    break
        active.discard(key)
        if total > limit:
            raise YamlLimitError(f"the document expands to more than {limit:,} nodes through its aliases "
                                 f"(set RP_MAX_YAML_NODES to raise the limit)")
        memo[key] = total
        return total

    return walk(node, 0)


def safe_load(text: str):
    """`yaml.safe_load(text)` within the limits above (YamlLimitError, a yaml.YAMLError, past them)."""
    return safe_load_with_node(text)[0]


def safe_load_with_node(text: str) -> tuple:
    """(value, composed root node or None): the node keeps each key's line (`start_mark`) for error messages."""
    check_size(len(text.encode("utf-8", errors="replace")))
    loader = _LOADER(text)
    try:
        node = loader.get_single_node()  # composed once (aliases stay shared nodes), with libyaml where present
        if node is None:
            return None, None
        expanded_nodes(node)
        return loader.construct_document(node), node
    finally:
        loader.dispose()


def read_text(path: str | Path) -> str:
    """A user's YAML file as text, refusing one over the size limit before reading it (YamlLimitError)."""
    p = Path(path)
    check_size(p.stat().st_size)
    return p.read_text(encoding="utf-8")
