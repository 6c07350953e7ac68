"""index: the random-vector baseline (spec §4.1). Faithful: torch.manual_seed(seed), then one randn(D) per
model in order; not normalised. D comes from the encoder."""

from __future__ import annotations

import numpy as np


def index_profile(names: list[str], dim: int, seed: int = 56) -> np.ndarray:
    import torch

    gen = torch.Generator().manual_seed(seed)
    return np.stack([torch.randn(dim, generator=gen).numpy() for _ in names]).astype(np.float32)
