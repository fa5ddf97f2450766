"""Random streams keyed by (seed, purpose): the order of generation never leaks into data.

Every draw in the generator comes from a stream named for what it is used for and, where
the work is split, for which block of enterprises. Two runs with the same seed give the
same streams whatever else runs before or beside them (another feed, another process).
"""

from __future__ import annotations

import hashlib
import math

import numpy as np


def stream(seed: int, *purpose: object) -> np.random.Generator:
    """A generator for one purpose, derived from the run's seed."""
    key = "|".join(str(part) for part in (seed, *purpose)).encode("utf-8")
    words = np.frombuffer(hashlib.sha256(key).digest(), dtype=np.uint32)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words.tolist())))


def affine_permutation(seed: int, purpose: str, modulus: int) -> tuple[int, int]:
    """Multiplier and offset of ``i -> (a * i + b) mod modulus``, a bijection on [0, modulus)."""
    rng = stream(seed, "permutation", purpose)
    a = int(rng.integers(modulus // 3, modulus - 1)) | 1
    while math.gcd(a, modulus) != 1:
        a += 2
    b = int(rng.integers(0, modulus))
    return a, b
