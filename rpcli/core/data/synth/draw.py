"""Random draws: every draw comes from a numpy Generator (np.random.default_rng) in a fixed sequence."""

from __future__ import annotations

import numpy as np


class Draw:
    """Uniform draws for one generated item, taken from a numpy Generator in blocks."""

    __slots__ = ("_rng", "_u", "_i")

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._u = rng.random(48).tolist()
        self._i = 0

    def f(self) -> float:
        if self._i >= len(self._u):
            self._u.extend(self._rng.random(48).tolist())
        v = self._u[self._i]
        self._i += 1
        return v

    def int(self, lo: int, hi: int) -> int:  # inclusive
        return lo + min(int(self.f() * (hi - lo + 1)), hi - lo)

    def pick(self, seq):
        return seq[min(int(self.f() * len(seq)), len(seq) - 1)]

    def sample(self, seq, k: int) -> list:
        pool = list(seq)
        out = []
        for _ in range(min(k, len(pool))):
            out.append(pool.pop(min(int(self.f() * len(pool)), len(pool) - 1)))
        return out

    def shuffle(self, seq) -> list:
        return self.sample(seq, len(seq))

    def chance(self, p: float) -> bool:
        return self.f() < p


def seeded_rng(seed: int, *stream: int) -> np.random.Generator:
    """The numpy Generator of one stream: seeded by (seed, *stream), independent of every other stream."""
    return np.random.default_rng(np.random.SeedSequence([int(seed), *stream]))
