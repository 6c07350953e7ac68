"""The model catalogue (fictional families, focus areas, services) and the drawing of models from it."""

from __future__ import annotations

import numpy as np

from rpcli.core.data.synth.vocab import fmt_num

FAMILIES = [
    dict(key="acme", arch="AcmeForCausalLM", brand="Acme", org="acme-ai", license="apache-2.0",
         sizes=[0.5, 1.5, 3, 7, 14, 32, 72], versions=["2", "2.5", "3"], pattern="acme{ver}-{size}b-instruct",
         tags=["chat"], languages=["en", "zh"], tok=1.0, theme={"math": 0.45, "coding": 0.35},
         desc="A family of decoder-only Transformer language models from the fictional Acme Research lab, trained "
              "with next-token prediction on a large multilingual web, book and code corpus. Instruction-tuned "
              "variants range from under one billion to more than seventy billion parameters and share a single "
              "tokenizer. The series is known for strong mathematics and coding for its size."),
    dict(key="borealis", arch="BorealisForCausalLM", brand="Borealis", org="borealis-collective",
         license="borealis", sizes=[2, 9, 27], versions=["2", "3"], pattern="borealis-{ver}-{size}b-it",
         tags=["conversational"], languages=["en"], tok=1.08, theme={"qa": 0.35, "language": 0.35, "coding": -0.2},
         desc="An open-weight family of compact decoder-only models from the fictional Borealis collective, using "
              "grouped-query attention with alternating local and global attention layers. Models are released at "
              "a few fixed scales with instruction-tuned chat variants. They are tuned for efficient inference and "
              "fluent, well-formed answers, with weaker code generation."),
    dict(key="cobalt", arch="CobaltMoeForCausalLM", brand="Cobalt", org="cobalt-ai", license="apache-2.0",
         sizes=[(4, 3), (8, 7), (8, 22), (16, 12)], versions=["0.1", "0.2"], pattern="cobalt-{size}b-instruct-v{ver}",
         tags=["moe", "vllm"], languages=["en", "fr", "de", "es", "it"], tok=0.95,
         theme={"knowledge": 0.35, "reasoning": 0.2},
         desc="A sparse mixture-of-experts family from the fictional Cobalt AI, in which a learned router sends each "
              "token to two of its expert feed-forward blocks, so only a fraction of the total parameters is active "
              "per step. This gives large capacity at moderate inference cost. The instruction-tuned versions are "
              "broad generalists with good multilingual coverage and factual recall."),
    dict(key="dune", arch="DuneForCausalLM", brand="Dune", org="dune-foundation", license="dune-community",
         sizes=[1, 3, 8, 70, 180], versions=["3", "3.1", "3.2"], pattern="dune-{ver}-{size}b-chat",
         tags=["dune", "conversational", "text-generation-inference"], languages=["multilingual"], tok=1.03,
         theme={"knowledge": 0.3, "qa": 0.3, "math": -0.25},
         desc="A family of autoregressive Transformer models from the fictional Dune Foundation, trained with an "
              "emphasis on data quality and long training runs relative to model size. Chat variants are aligned "
              "with supervised fine-tuning and preference optimisation. Larger members are strong at open-domain "
              "knowledge and question answering but less reliable at arithmetic."),
    dict(key="ember", arch="EmberForCausalLM", brand="Ember", org="ember-labs", license="ember-research",
         sizes=[8, 12, 22, 24, 123], versions=["2407", "2410", "2501", "2506"], pattern="ember-{size}b-instruct-{ver}",
         tags=["ember-common", "vllm"], languages=["en", "fr", "de", "es", "it", "pt", "ja"], tok=0.98,
         theme={"reasoning": 0.35, "coding": 0.3},
         desc="A family of dense decoder-only models from the fictional Ember Labs, released as dated checkpoints "
              "under a research licence. The models use sliding-window attention and a large-vocabulary tokenizer. "
              "They aim at a balance of reasoning, coding and latency for agentic and API use."),
]
FOCUS = ["enterprise assistants", "on-device chat", "retrieval-augmented pipelines", "agentic tool use",
          "multilingual customer support", "research prototyping", "low-latency API serving", "long-form writing"]
SERVICES = [("SynthCloud", "https://api.synthcloud.example/v1"), ("ModelHub", "https://inference.modelhub.example/v1")]


def _size_str(s) -> str:
    return fmt_num(s)


def make_models(rng: np.random.Generator, n_models: int, n_candidates: int) -> list[dict]:
    """Draw n_models models (name, family, size); the candidates come first, through the families in a random order."""
    order = rng.permutation(len(FAMILIES)).tolist()
    models: list[dict] = []
    names: set = set()
    for i in range(n_models):
        if i < n_candidates:
            fam = FAMILIES[order[i % len(order)]]
        else:
            fam = FAMILIES[int(rng.integers(len(FAMILIES)))]
        name = None
        for attempt in range(30):
            size = fam["sizes"][int(rng.integers(len(fam["sizes"])))]
            if i < n_candidates and attempt < 10 and not isinstance(size, tuple) and size < 3 \
                    and len(fam["sizes"]) > 3:
                continue  # candidates: avoid the very smallest models
            ver = fam["versions"][int(rng.integers(len(fam["versions"])))]
            sz = f"{size[0]}x{size[1]}" if isinstance(size, tuple) else _size_str(size)
            cand = fam["pattern"].format(ver=ver, size=sz)
            if attempt >= 20:
                cand += f"-r{attempt - 19}"
            if cand not in names:
                name = cand
                break
        if name is None:
            name = f"{fam['key']}-{i}-instruct"
        names.add(name)
        if isinstance(size, tuple):
            params = round(size[0] * size[1] * float(rng.uniform(0.8, 0.86)), 3)
            size_label = f"{size[0] * size[1]}B"
        else:
            params = round(size * float(rng.uniform(0.97, 1.12)), 3)
            size_label = f"{_size_str(size)}B"
        models.append(dict(name=name, fam=fam, params=params, size=size_label, moe=isinstance(size, tuple)))
    return models
