"""The text a router embeds for a query (spec §2.2).

| choice     | text                                                                                          |
|------------|-----------------------------------------------------------------------------------------------|
| formatted  | the row's `formatted_query` when present, else our own per-task template (below); the text is |
|            | `system + "\n\n" + user` when the system prompt is non-empty, else `user`                     |
| raw        | the raw `query` field                                                                         |

The templates reproduce the prompts the released test file carries as `formatted_query` (the original's
`generate_task_query` could not build them: its YAML templates are missing from llmrouter 0.4.0, spec §9.1 item 6).
They also apply to training pairs, which never carry `formatted_query`, so training and test texts match.

| tasks                                      | system                   | user                                    |
|--------------------------------------------|--------------------------|-----------------------------------------|
| mmlu                                       | multiple-choice, letter  | `## Question:` block, `## Options:` A.  |
| commonsense_qa, openbook_qa, arc_challenge | multiple-choice, letter  | `Question: ...` then `(A) ...` lines    |
| gsm8k                                      | step by step             | `Question: ...`                         |
| mbpp                                       | expert Python programmer | `Task: ...` and the tests               |
| human_eval                                 | expert Python, body only | `Complete the following function:` ...  |
| natural_qa, trivia_qa, any other task      | none                     | the raw query                           |

When a template cannot be filled (unparseable `choices`), the raw query is used. The choice is recorded in every
run's params.
"""

from __future__ import annotations

import ast

QUERY_TEXT_CHOICES = ("formatted", "raw")

MC_SYSTEM = ("Answer the following multiple-choice question by selecting the correct option (A, B, C, or D). "
             "You MUST put your final answer letter in a parenthesis.\n")
MATH_SYSTEM = "Answer the following math question step by step.\n"
MBPP_SYSTEM = ("You are an expert Python programmer. Implement the function with no irrelevant words or comments. "
               "Put your code in this format: [BEGIN] <Your Code> [Done]\n")
HUMAN_EVAL_SYSTEM = ("You are an expert Python programmer. Implement the function body only. Do not repeat the "
                     "function signature or docstring. Put the code in this format: [BEGIN] <Your Code - function "
                     "body only> [Done]\n")

LETTERED_TASKS = ("mmlu",)
PAREN_TASKS = ("commonsense_qa", "openbook_qa", "arc_challenge")
RAW_TASKS = ("natural_qa", "trivia_qa")
TEMPLATED_TASKS = LETTERED_TASKS + PAREN_TASKS + ("gsm8k", "mbpp", "human_eval") + RAW_TASKS


def parse_choices(choices):
    """`choices` as stored (a Python-literal string, a list, a dict or None) -> list/dict, or None."""
    if choices is None:
        return None
    if isinstance(choices, (list, dict)):
        return choices
    if isinstance(choices, str):
        try:
            val = ast.literal_eval(choices)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            return None
        return val if isinstance(val, (list, dict)) else None
    return None


def _options(choices) -> list[tuple[str, str]] | None:
    """[(letter, text)] from a list of texts or a {label, text} dict."""
    c = parse_choices(choices)
    if isinstance(c, list):
        if not c or not all(isinstance(x, str) for x in c):
            return None
        return [(chr(ord("A") + i), x) for i, x in enumerate(c)]
    if isinstance(c, dict):
        texts = c.get("text")
        labels = c.get("label", c.get("labels"))
        if not isinstance(texts, list) or not texts:
            return None
        if not isinstance(labels, list) or len(labels) != len(texts):
            labels = [chr(ord("A") + i) for i in range(len(texts))]
        return [(str(a), str(b)) for a, b in zip(labels, texts)]
    return None


def format_query(task_name: str | None, query: str, choices=None) -> dict | None:
    """Our copy of the per-task prompt: {"system", "user"}, or None when the task has no template (or its
    template cannot be filled), in which case callers use the raw query."""
    if task_name in RAW_TASKS:
        return {"system": "", "user": query}
    if task_name in LETTERED_TASKS:
        opts = _options(choices)
        if opts is None:
            return None
        lines = "".join(f"{a}. {b}\n" for a, b in opts)
        return {"system": MC_SYSTEM, "user": f"## Question:\n{query}\n\n## Options:\n{lines}"}
    if task_name in PAREN_TASKS:
        opts = _options(choices)
        if opts is None:
            return None
        lines = "\n".join(f"({a}) {b}" for a, b in opts)
        return {"system": MC_SYSTEM, "user": f"Question: {query}\n\n{lines}"}
    if task_name == "gsm8k":
        return {"system": MATH_SYSTEM, "user": f"Question: {query}"}
    if task_name == "mbpp":
        tests = parse_choices(choices)
        if not isinstance(tests, list) or not all(isinstance(t, str) for t in tests):
            return None
        return {"system": MBPP_SYSTEM,
                "user": f"Task: {query}\n\nYour code should pass these tests:\n\n" + "\n".join(tests)}
    if task_name == "human_eval":
        return {"system": HUMAN_EVAL_SYSTEM, "user": f"Complete the following function:\n\n{query}"}
    return None


def join_prompt(fq: dict) -> str:
    system = (fq.get("system") or "").strip()
    user = fq.get("user") or ""
    return f"{system}\n\n{user}" if system else user


def query_text(row, choice: str = "formatted") -> str:
    """The text to embed for `row` (any object with task_name, query, choices and formatted_query attributes;
    missing attributes count as None)."""
    if choice not in QUERY_TEXT_CHOICES:
        raise ValueError(f"query text must be one of {QUERY_TEXT_CHOICES}")
    query = row.query
    if choice == "raw":
        return query
    fq = getattr(row, "formatted_query", None)
    if not fq:
        fq = format_query(getattr(row, "task_name", None), query, getattr(row, "choices", None))
    if not fq:
        return query
    text = join_prompt(fq)
    return text if text.strip() else query
