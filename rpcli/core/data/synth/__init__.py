"""Synthetic RouteProfile-layout dataset generator.

``generate_dataset(out_dir, ...)`` writes a complete dataset in the layout of the released RouteProfile data
(spec §7): ``profile_data/`` (model, family, task and domain descriptions, benchmark scores, prices, task query
lists) and ``route_data/`` (routing test rows with every candidate's score and token counts, the default query
jsonl files, and pairwise training data for the ``standard`` and ``newllm`` modes).

Nothing here is real. The data come from a latent-skill model:

* every model has a skill per task: a general ability, plus a family x task effect (each family has a theme, e.g.
  maths and code), plus a size effect, plus model x task noise; and a skill offset per (task, sub-topic);
* every query comes from a per-task template generator whose text carries the task (and its sub-topic) and has a
  latent difficulty that grows with the query's complexity;
* a candidate's score on a query follows an item-response model,
  ``p = sigmoid(skill[m, task] + subtopic[m, task, sub] - difficulty[q] + noise * N(0, 1))``; 0/1 metrics draw
  Bernoulli(p), the one continuous metric (``commongen_coverage``) draws a coverage fraction in (0.2, 1].

With ``query_structure`` S > 0 (``--query-structure``) the queries of every routing task also come from
``n_subtopics`` sub-topics, each with its own vocabulary in the query texts and its own per-model skill offsets of
scale S (``structure``); ``route_data/synth_truth.json`` (the ground truth, not read by the loader) and
``route_data/routing_train_data.json`` (every candidate's score per training query) are written too. S = 0, the
default, leaves every file as it was.

The first ``n_candidates`` models are the routing candidates, the rest are auxiliaries (graph context only). The
strongest candidate is the held-out "new" model of newllm mode: its routing-task scores (all but one task) are null
in ``model_feature_newllm.json`` and it appears in no newllm training pair; it stays a candidate in the test rows.

Quirks of the real data that are reproduced on purpose, so that loaders meet them:

* the last candidate (unless it is the held-out one) has null prices and ``role: auxiliary`` in model_feature; its
  prices are only in ``candidate_models.json``;
* one auxiliary has null size, parameters and licence;
* a few routing-task scores are null for some candidates, auxiliaries miss tasks at random, and one task
  (``tool_calling``) is null for every model (so it never becomes a graph node) yet is listed in the domain map;
* ``task_feature.json`` carries two descriptions of tasks that nothing uses;
* the jsonl and pairwise files spell the ``math``/``gsm8k`` metrics in upper case, the test file in lower case;
* ``formatted_query`` is absent on the test rows of the tasks without a formatter (concept_gen, contest_math,
  logic_grid), and ``candidate_models.json`` has no ``router_enabled``/``role`` keys;
* the train jsonl has one extra, non-routing task (``grad_science``, like the real gpqa/math) and three training
  queries are copies of test queries (the train/test leakage of the real data), all of them in the pairwise files.

Self-contained: standard library, numpy and rpcli.errors only. Same parameters and seed give byte-identical files.

Layout, in the order generation runs: ``draw`` (the random draws), ``vocab`` (word pools, names, choice formatting),
``queries/`` (one generator per task archetype, by kind: knowledge, maths, code, language), ``tasks`` and ``models``
(the task archetypes and the model catalogue: data tables), ``structure`` (the sub-topics of --query-structure),
``stages`` (tasks, queries, latent skills, scores, held-out model, leakage), ``route_files`` and ``profile_files``
(the writers), ``generate`` (checks and runs them).
"""

from rpcli.core.data.synth.generate import generate_dataset
from rpcli.core.data.synth.tasks import ARCHETYPE_NAMES, DOMAIN_POOL, MAX_TASKS

__all__ = ["generate_dataset", "ARCHETYPE_NAMES", "MAX_TASKS", "DOMAIN_POOL"]
