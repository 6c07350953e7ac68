"""rp: design, build and evaluate LLM profiles for routing.

Importing `rpcli` must stay cheap: no torch, no typer here.
"""

__version__ = "0.1.0"
