"""transformers: any local causal-LM directory, batched `generate` with left padding, on CPU or GPU.

* The tokenizer's chat template wraps each prompt as one user turn when it has one (`chat_template=None`: auto;
  True/False force it); otherwise the prompt goes in raw.
* Greedy decoding at temperature 0; sampling otherwise, seeded with `seed` before every batch.
* Prompts longer than the model's context (minus max_tokens) keep their end (the task instruction) and lose
  their start; the number of truncated prompts is counted in `truncated`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from rpcli.core.llm.base import local_model_id
from rpcli.errors import ConfigError


def _has_chat_template(model_dir: Path) -> bool:
    if (model_dir / "chat_template.jinja").is_file() or (model_dir / "chat_template.json").is_file():
        return True
    cfg = model_dir / "tokenizer_config.json"
    if cfg.is_file():
        try:
            return bool(json.loads(cfg.read_text(encoding="utf-8")).get("chat_template"))
        except ValueError:
            return False
    return False


class TransformersBackend:
    id = "transformers"

    def __init__(self, model: str | Path | None = None, *, device: str = "cpu", max_tokens: int = 500,
                 temperature: float = 0.0, seed: int = 0, batch_size: int = 8,
                 chat_template: bool | None = None) -> None:
        if model is None:
            raise ConfigError("the transformers backend needs --model PATH (a local causal-LM directory)")
        self.model_dir = Path(model).expanduser().resolve()
        if not (self.model_dir / "config.json").is_file():
            raise ConfigError(f"{self.model_dir} is not a local transformers model directory (no config.json)",
                              hint="pass --model PATH to a directory saved with save_pretrained; rp never downloads")
        if max_tokens < 1:
            raise ConfigError(f"--max-tokens must be at least 1 (got {max_tokens})")
        if batch_size < 1:
            raise ConfigError(f"--batch-size must be at least 1 (got {batch_size})")
        self.model = local_model_id(self.model_dir)
        self.device = device
        self.batch_size = batch_size
        use_chat = _has_chat_template(self.model_dir) if chat_template is None else bool(chat_template)
        self.sampling = {"max_tokens": int(max_tokens), "temperature": float(temperature), "seed": int(seed),
                         "chat_template": use_chat}
        self.truncated = 0
        self.generated_tokens = 0
        self._tok = self._lm = None

    def _load(self):
        if self._lm is None:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()
            hf_logging.disable_progress_bar()
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            tok = AutoTokenizer.from_pretrained(str(self.model_dir), local_files_only=True)
            tok.padding_side = "left"
            tok.truncation_side = "left"
            if tok.pad_token is None:
                if tok.eos_token is not None:
                    tok.pad_token = tok.eos_token
                else:
                    tok.add_special_tokens({"pad_token": "<pad>"})
            dtype = torch.bfloat16 if str(self.device).startswith("cuda") else torch.float32
            import transformers

            major_minor = tuple(int(x) for x in transformers.__version__.split(".")[:2])
            dtype_kw = "dtype" if major_minor >= (4, 56) else "torch_dtype"
            lm = AutoModelForCausalLM.from_pretrained(str(self.model_dir), local_files_only=True,
                                                      **{dtype_kw: dtype})
            if len(tok) > lm.get_input_embeddings().weight.shape[0]:
                lm.resize_token_embeddings(len(tok))
            self._tok, self._lm = tok, lm.to(self.device).eval()
            if self.sampling["chat_template"] and not getattr(tok, "chat_template", None):
                raise ConfigError(f"{self.model_dir}: the tokenizer has no chat template",
                                  hint="drop --chat-template")
        return self._tok, self._lm

    def _max_input(self, lm) -> int | None:
        cfg = lm.config
        ctx = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
        if not ctx:
            return None
        return max(1, int(ctx) - self.sampling["max_tokens"])

    def generate(self, prompts: list[str]) -> list[str]:
        import torch

        if not prompts:
            return []
        tok, lm = self._load()
        if self.sampling["chat_template"]:
            texts = [tok.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                             add_generation_prompt=True) for p in prompts]
        else:
            texts = list(prompts)
        max_in = self._max_input(lm)
        enc = tok(texts, return_tensors="pt", padding=True, truncation=max_in is not None, max_length=max_in,
                  add_special_tokens=not self.sampling["chat_template"])
        if max_in is not None:
            full = tok(texts, add_special_tokens=not self.sampling["chat_template"])["input_ids"]
            self.truncated += sum(1 for ids in full if len(ids) > max_in)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        t = self.sampling["temperature"]
        kw = {"max_new_tokens": self.sampling["max_tokens"], "pad_token_id": tok.pad_token_id,
              "do_sample": t > 0}
        if t > 0:
            kw.update(temperature=t, top_k=0, top_p=1.0)
        else:
            kw.update(temperature=None, top_k=None, top_p=None)
        torch.manual_seed(self.sampling["seed"])
        with torch.inference_mode():
            out = lm.generate(**enc, **kw)
        new = out[:, enc["input_ids"].shape[1]:]
        self.generated_tokens += int((new != tok.pad_token_id).sum())
        return [s.strip() for s in tok.batch_decode(new, skip_special_tokens=True)]

    @property
    def describe(self) -> dict:
        return {"backend": self.id, "model": self.model, "path": str(self.model_dir), "device": self.device,
                "batch_size": self.batch_size, **self.sampling}
