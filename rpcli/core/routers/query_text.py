"""The text a router embeds for a query (spec §2.2).

| choice     | text                                                                                  |
|------------|---------------------------------------------------------------------------------------|
| formatted  | `system + "\n\n" + user` of the row's `formatted_query` when present, else the raw query |
| raw        | the raw `query` field                                                                  |

The choice is recorded in every run's params.
"""

from __future__ import annotations

QUERY_TEXT_CHOICES = ("formatted", "raw")


def query_text(row, choice: str = "formatted") -> str:
    if choice not in QUERY_TEXT_CHOICES:
        raise ValueError(f"query text must be one of {QUERY_TEXT_CHOICES}")
    fq = getattr(row, "formatted_query", None)
    if choice == "formatted" and fq:
        system = (fq.get("system") or "").strip()
        user = fq.get("user") or ""
        return f"{system}\n\n{user}" if system else user
    return row.query
