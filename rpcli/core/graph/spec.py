"""Graph presets: which node types and relations each of the study's five graphs has (spec §3.2).

Node types keep the original's names (`architecture`, `model`, `dataset`, `domain`, `query`) so graphs and
profiles move both ways between rp and the original code.
"""

from __future__ import annotations

from dataclasses import dataclass

# Every relation is stored in both directions as two separately named edge types.
REL_ARCH = (("architecture", "arch_to_model", "model"), ("model", "model_to_arch", "architecture"))
REL_SCORE = (("model", "model_to_dataset", "dataset"), ("dataset", "dataset_to_model", "model"))
REL_QUERY_MODEL = (("query", "query_to_model", "model"), ("model", "model_to_query", "query"))
REL_QUERY_TASK = (("query", "query_to_dataset", "dataset"), ("dataset", "dataset_to_query", "query"))
REL_DOMAIN = (("domain", "domain_to_dataset", "dataset"), ("dataset", "dataset_to_domain", "domain"))


@dataclass(frozen=True)
class GraphSpec:
    kind: str
    node_types: tuple  # insertion order
    relations: tuple  # pairs of (forward, reverse) edge types, in order

    @property
    def edge_types(self) -> list:
        return [et for pair in self.relations for et in pair]

    @property
    def has_queries(self) -> bool:
        return "query" in self.node_types


GRAPH_SPECS = {
    "task": GraphSpec("task", ("architecture", "model", "dataset"), (REL_ARCH, REL_SCORE)),
    "query": GraphSpec("query", ("architecture", "model", "query"), (REL_ARCH, REL_QUERY_MODEL)),
    "query-task": GraphSpec("query-task", ("architecture", "model", "dataset", "query"),
                            (REL_ARCH, REL_SCORE, REL_QUERY_TASK)),
    "task-domain": GraphSpec("task-domain", ("architecture", "model", "dataset", "domain"),
                             (REL_ARCH, REL_SCORE, REL_DOMAIN)),
    "query-task-domain": GraphSpec("query-task-domain", ("architecture", "model", "dataset", "domain", "query"),
                                   (REL_ARCH, REL_SCORE, REL_DOMAIN, REL_QUERY_TASK)),
}

SCORED_EDGE_TYPES = set(REL_SCORE)


def edge_key(et: tuple) -> str:
    return "__".join(et)


def parse_edge_key(key: str) -> tuple:
    return tuple(key.split("__"))
