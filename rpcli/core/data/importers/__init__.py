"""Turn per-query score files into the RouteProfile layout (pure conversion: readers, the split, the pairwise rule,
the cards; `rpcli.services.data.importer` writes the files and validates them with the normal loader).

Formats read:

| format    | input                                                                                             |
|-----------|---------------------------------------------------------------------------------------------------|
| scores    | JSON (a list, or an object with a `records` list) or JSONL. A record is either one (query, model) |
|           | result: `query` or `prompt`, `task` or `dataset`, `model`, `score`, optional `prompt_tokens`,     |
|           | `completion_tokens`, `cost` (dollars), `ground_truth`, `metric`, `id`; or one query with a score  |
|           | per model: `scores: {model: score}` and optional per-model objects `prompt_tokens`,               |
|           | `completion_tokens`, `cost` (LLMRouterBench's per-instance fields)                                |
| wide-csv  | one row per query: a `prompt` (or `query`) column, a task column (`task`, `eval_name` or          |
|           | `dataset`), a score column per model named by the model, optional `<model>|cost` (or              |
|           | `<model>|total_cost`) columns in dollars (RouterBench's layout); `sample_id`, `<model>|...` other  |
|           | columns and `oracle_model_to_route_to` are ignored                                                |

A repeated (task, query, model) result (a repeated wide-csv row repeats each model's) is refused by default;
`duplicates="first"` keeps the first, `"mean"` averages them (scores, token counts and costs, nulls left out). The same
query text under another task is another query, not a repeat.

Scores are per-query quality in [0, 1] (the test rows' `task_performance`); null / an empty cell means "not
run". Cards (`--cards`, YAML or JSON) give what scores cannot: model descriptions, families, sizes, prices and
known benchmark scores (0-100, the cards' scale), task, family and domain descriptions. A missing description
becomes the neutral placeholder `placeholder(kind, name)` with a warning; `rp data check` lists them.

The split (seeded): per task, the distinct queries in first-appearance order are shuffled with
`random.Random(f"{seed}/split/{task}")` and the first round(F * n) go to the test rows (at least one, and at
least one stays for training, when the task has two or more queries; a task with one query trains only).

The pairwise rule (seeded; `pairwise_rule`): for every training query and every two candidates that both
have a score on it, the higher score is the better model; equal scores make no pair. The pairs of a task, in
(query, first model, second model) order, are its pool (`task_data_count`); when the pool is larger than
`pairs_per_task`, that many pairs are drawn without replacement with `random.Random(f"{seed}/pairs/{mode}/{task}")`
and kept in pool order. newllm builds its pool without the held-out model (so no newllm pair names it). The summary
counts, per mode and task, the pairs available (the pool) and kept.

Per-task card scores (`detailed_scores` of the routing tasks) are 100 x the mean score of each candidate over the
task's training queries only (never a test query), rounded to two decimals; a card's own score for a routing
task is ignored with a warning.

Layout: `readers` reads score files into a `Table`, `cards` reads model, family, task and domain cards, `convert`
makes the layout (the split, the pairwise rule, the files), `record` writes and reads `import.json` (the import
record); this facade re-exports their names, so every `from rpcli.core.data.importers import ...` keeps working.
"""

from rpcli.core.data.importers.cards import (Card, Cards, cards_from_doc, load_structured, parse_card,
                                             read_cards)
from rpcli.core.data.importers.convert import (DEFAULT_PAIRS_PER_TASK, DEFAULT_TEST_FRACTION, UNSPECIFIED_FAMILY,
                                               convert, pairs_kept_text, pairwise_rule, split_queries,
                                               write_files)
from rpcli.core.data.importers.readers import (CSV_META, CSV_TASK_KEYS, DUPLICATES, FORMATS, QUERY_KEYS, READERS,
                                               TASK_KEYS, QueryInfo, Result, Table, count_field, dollars_field, json_records,
                                               read_scores, read_table, read_wide_csv, score_field, text_field)

__all__ = [
    "FORMATS",
    "DUPLICATES",
    "READERS",
    "QUERY_KEYS",
    "TASK_KEYS",
    "CSV_TASK_KEYS",
    "CSV_META",
    "Result",
    "QueryInfo",
    "Table",
    "read_scores",
    "read_wide_csv",
    "read_table",
    # the field checks, shared with rp model add (rpcli.services.data.models)
    "text_field",
    "score_field",
    "count_field",
    "dollars_field",
    "json_records",
    "Card",
    "Cards",
    "load_structured",
    "parse_card",
    "read_cards",
    "cards_from_doc",
    "DEFAULT_TEST_FRACTION",
    "DEFAULT_PAIRS_PER_TASK",
    "UNSPECIFIED_FAMILY",
    "split_queries",
    "pairwise_rule",
    "pairs_kept_text",
    "convert",
    "write_files",
]
