"""Text generators behind one small interface (base.LLMBackend), for text-gnn and anything else that writes text.

| backend      | module                  | what generates                                            | needs         |
|--------------|-------------------------|-----------------------------------------------------------|---------------|
| vllm         | vllm_backend.py         | offline vllm.LLM (tensor parallel, seeded sampling)        | GPU, .[vllm]  |
| transformers | transformers_backend.py | any local causal-LM directory, batched generate            | CPU or GPU    |
| openai       | openai_backend.py       | any OpenAI-compatible /chat/completions endpoint (openai)  | a server, .[serve] |
| extractive   | extractive.py           | no generator: central sentences of node and neighbours     | nothing       |

`make_backend(name, **settings)` builds one without loading anything heavy; weights load on the first call that
misses the LLM cache (base.generate_cached). `register_backend` adds another (tests use it for fakes).
"""

from __future__ import annotations

from typing import Callable

from rpcli.core.llm.base import LLMBackend, LLMCache, cache_key, generate_cached, identity
from rpcli.errors import ConfigError

__all__ = ["BACKENDS", "LLMBackend", "LLMCache", "cache_key", "generate_cached", "identity", "make_backend",
           "register_backend"]


_BUILTIN = {"vllm": ("rpcli.core.llm.vllm_backend", "VLLMBackend"),
            "transformers": ("rpcli.core.llm.transformers_backend", "TransformersBackend"),
            "openai": ("rpcli.core.llm.openai_backend", "OpenAIBackend"),
            "extractive": ("rpcli.core.llm.extractive", "ExtractiveBackend")}
BACKENDS: dict[str, Callable | None] = {name: None for name in _BUILTIN}  # None: the built-in class, imported late


def register_backend(name: str, factory: Callable) -> None:
    """Make `factory(**settings) -> LLMBackend` available as --backend NAME."""
    BACKENDS[name] = factory


def make_backend(name: str, **settings):
    """A backend by name. Settings it does not take are ignored, and so are None values (the default applies)."""
    import importlib
    import inspect

    if name not in BACKENDS:
        raise ConfigError(f"unknown LLM backend {name!r}; choose one of {', '.join(BACKENDS)}")
    factory = BACKENDS[name]
    if factory is None:
        module, cls = _BUILTIN[name]
        factory = getattr(importlib.import_module(module), cls)
    kw = {k: v for k, v in settings.items() if v is not None}
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = None
    if params is not None and not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kw = {k: v for k, v in kw.items() if k in params}
    return factory(**kw)
