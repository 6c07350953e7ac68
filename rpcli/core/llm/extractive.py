"""extractive: no generator. A node's new text is assembled from its own text and its selected neighbours,
deterministically, so text-gnn runs anywhere on a CPU.

For one node context {type, text, neighbours: [{type, name, text, score}]}:
  1. split the node's text and every neighbour's text into sentences (each cut to `max_chars`; a previous hop's
     "Scores:" line is dropped, it is rebuilt from the edges);
  2. embed the sentences with the session's encoder and L2-normalise them; the neighbourhood centroid is the
     normalised mean of the per-text mean vectors (the node's own text counts as one text);
  3. keep the node's `own` sentences closest to the centroid (in their original order);
  4. when any selected neighbour carries a score, add "Scores: name 81.30; name 44.10." listing all of them in
     selection order (early in the text, so an encoder that truncates still sees it);
  5. then the `neighbours` neighbours whose best sentence is closest to the centroid, each written as
     "<label>: <sentence>" where the label names the neighbour and its score ("gsm8k (score 81.30)",
     "Family Qwen2ForCausalLM", "Domain math", "Example query").
The text stays bounded across hops (at most own + neighbours sentences of at most max_chars, plus the score line).
"""

from __future__ import annotations

import re

import numpy as np

_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_LABEL = {"architecture": "Family", "domain": "Domain", "query": "Example query"}
_SCORES = "Scores:"


def sentences(text: str, max_chars: int) -> list[str]:
    out = []
    for s in _SPLIT.split(text or ""):
        s = s.strip().lstrip("-*• ").strip()
        if not s or not re.search(r"\w", s) or s.startswith(_SCORES):
            continue  # a previous hop's score line is rebuilt from the edges, never quoted
        if len(s) > max_chars:
            cut = s[:max_chars].rsplit(" ", 1)[0] or s[:max_chars]
            s = cut.rstrip(",;:") + "…"
        out.append(s)
    return out


def _label(nb: dict) -> str:
    t = nb["type"]
    name = nb.get("name")
    score = nb.get("score")
    if score is not None:
        return f"{name or t} (score {score:.2f})"
    if t in _LABEL:
        return _LABEL[t] if t == "query" or not name else f"{_LABEL[t]} {name}"
    return name or t.capitalize()


class ExtractiveBackend:
    id = "extractive"

    def __init__(self, encoder, *, own: int = 2, neighbours: int = 4, max_chars: int = 300,
                 batch_size: int = 64) -> None:
        self.encoder = encoder
        self.model = f"encoder:{encoder.id}"
        self.sampling = {"own": int(own), "neighbours": int(neighbours), "max_chars": int(max_chars),
                         "version": 3}  # bump whenever the composition changes: it keys the LLM cache
        self.batch_size = batch_size
        self.calls = 0  # compose/generate calls (tests count them)

    def _embed(self, texts: list[str]) -> dict:
        uniq = list(dict.fromkeys(texts))
        if not uniq:
            return {}
        v = np.asarray(self.encoder.encode(uniq), dtype=np.float32).reshape(len(uniq), -1)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        return dict(zip(uniq, v / np.where(n < 1e-8, 1.0, n)))

    def compose(self, contexts: list[dict]) -> list[str]:
        self.calls += 1
        mc = self.sampling["max_chars"]
        split = [(sentences(c["text"], mc), [sentences(nb["text"], mc) for nb in c["neighbours"]])
                 for c in contexts]
        emb = self._embed([s for own, nbs in split for s in own + [x for ss in nbs for x in ss]])
        return [self._one(c, own, nbs, emb) for c, (own, nbs) in zip(contexts, split)]

    def _one(self, ctx: dict, own: list[str], nbs: list[list[str]], emb: dict) -> str:
        groups = [g for g in [own] + nbs if g]
        if not groups:
            return ctx["text"].strip()
        means = [np.mean([emb[s] for s in g], axis=0) for g in groups]
        centre = np.mean(means, axis=0)
        centre = centre / max(float(np.linalg.norm(centre)), 1e-8)
        parts: list[str] = []
        if own:
            sims = [float(emb[s] @ centre) for s in own]
            keep = sorted(sorted(range(len(own)), key=lambda i: -sims[i])[:self.sampling["own"]])
            parts.extend(_end(own[i]) for i in keep)
        scored = [nb for nb in ctx["neighbours"] if nb.get("score") is not None]
        if scored:  # early, so that an encoder that truncates long texts still sees the scores
            parts.append(f"{_SCORES} " + "; ".join(f"{nb.get('name') or nb['type']} {nb['score']:.2f}"
                                                for nb in scored) + ".")
        best = []
        for j, ss in enumerate(nbs):
            if ss:
                sims = [float(emb[s] @ centre) for s in ss]
                k = max(range(len(ss)), key=lambda i: (sims[i], -i))
                best.append((sims[k], -j, j, ss[k]))
        best.sort(reverse=True)
        for _, _, j, s in best[:self.sampling["neighbours"]]:
            parts.append(f"{_label(ctx['neighbours'][j])}: {_end(s)}")
        return " ".join(parts)

    def generate(self, prompts: list[str]) -> list[str]:
        """Without structure: the `own + neighbours` sentences of each prompt closest to its centroid."""
        self.calls += 1
        mc = self.sampling["max_chars"]
        split = [[s for s in sentences(p, mc) if not s.startswith("#")] for p in prompts]
        emb = self._embed([s for ss in split for s in ss])
        out = []
        for ss in split:
            if not ss:
                out.append("")
                continue
            centre = np.mean([emb[s] for s in ss], axis=0)
            sims = [float(emb[s] @ centre) for s in ss]
            n = self.sampling["own"] + self.sampling["neighbours"]
            keep = sorted(sorted(range(len(ss)), key=lambda i: -sims[i])[:n])
            out.append(" ".join(_end(ss[i]) for i in keep))
        return out

    @property
    def describe(self) -> dict:
        return {"backend": self.id, "model": self.model, **self.sampling}


def _end(s: str) -> str:
    return s if s[-1:] in ".!?…" else s + "."
