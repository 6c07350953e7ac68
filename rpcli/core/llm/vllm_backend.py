"""vllm: offline batched generation with `vllm.LLM` on one or more GPUs (the original's backend, spec §4.4).

vllm is imported only when this backend is chosen, and the engine starts on the first prompt that misses the
cache. Faithful defaults: raw prompts (no chat template), temperature 0, max_tokens 500; unlike the original, the
sampling is seeded.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from rpcli.core.llm.base import BackendError, local_model_id
from rpcli.errors import ConfigError

DEFAULT_MODEL = "Qwen/Qwen2.5-7B-Instruct"


class VLLMBackend:
    id = "vllm"

    def __init__(self, model: str = DEFAULT_MODEL, *, tp: int = 1, gpu_memory_utilization: float = 0.9,
                 max_tokens: int = 500, temperature: float = 0.0, seed: int = 0, chat_template: bool = False,
                 batch_size: int = 256, max_model_len: int | None = None) -> None:
        if importlib.util.find_spec("vllm") is None:
            raise ConfigError("the vllm backend needs the vllm package, which is not installed",
                              hint="pip install '.[vllm]' (on a CUDA machine), or choose --backend transformers, "
                                   "openai or extractive")
        if tp < 1:
            raise ConfigError(f"--tp must be at least 1 (got {tp})")
        if not 0 < gpu_memory_utilization <= 1:
            raise ConfigError(f"--gpu-memory-utilization must be in (0, 1] (got {gpu_memory_utilization})")
        if max_tokens < 1:
            raise ConfigError(f"--max-tokens must be at least 1 (got {max_tokens})")
        self.path = str(model)
        local = Path(model).expanduser()
        self.model = local_model_id(local) if local.is_dir() else str(model)
        self.tp = tp
        self.gpu_memory_utilization = gpu_memory_utilization
        self.max_model_len = max_model_len
        self.batch_size = batch_size
        self.chat_template = bool(chat_template)
        self.sampling = {"max_tokens": int(max_tokens), "temperature": float(temperature), "seed": int(seed),
                         "chat_template": self.chat_template}
        self._llm = None
        self._params = None

    def _load(self):
        if self._llm is None:
            from vllm import LLM, SamplingParams

            kw = {"model": self.path, "tensor_parallel_size": self.tp,
                  "gpu_memory_utilization": self.gpu_memory_utilization, "trust_remote_code": True,
                  "seed": self.sampling["seed"]}
            if self.max_model_len:
                kw["max_model_len"] = self.max_model_len
            try:
                self._llm = LLM(**kw)
            except Exception as exc:  # noqa: BLE001 - surface engine start-up failures as one readable error
                raise BackendError(f"vllm could not start {self.path}: {exc}",
                                   hint="check the model id/path, GPU memory (--gpu-memory-utilization) and --tp") \
                    from exc
            self._params = SamplingParams(temperature=self.sampling["temperature"],
                                          max_tokens=self.sampling["max_tokens"], seed=self.sampling["seed"])
        return self._llm

    def generate(self, prompts: list[str]) -> list[str]:
        if not prompts:
            return []
        llm = self._load()
        if self.chat_template:
            outs = llm.chat([[{"role": "user", "content": p}] for p in prompts], self._params, use_tqdm=False)
        else:
            outs = llm.generate(list(prompts), self._params, use_tqdm=False)
        return [o.outputs[0].text.strip() for o in outs]

    @property
    def describe(self) -> dict:
        return {"backend": self.id, "model": self.model, "path": self.path, "tp": self.tp,
                "gpu_memory_utilization": self.gpu_memory_utilization, **self.sampling}
