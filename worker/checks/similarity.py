"""SimHash fingerprints: near-identical texts get fingerprints a few bits apart.

Tuned to catch copy-paste spam that differs in case, punctuation, spacing, emoji or a word at
either end; a changed word inside a short comment moves ~8 bits and is not caught (a deliberate
bias against false positives: legitimate readers often write similar short comments).
"""

from __future__ import annotations

import re

import numpy as np

BITS = 64
BANDS = 5
BAND_BITS = 12
# At most this many differing bits counts as "the same text": with 5 bands of 12 bits, two
# fingerprints within 4 bits share at least one band exactly (pigeonhole), so bands find them;
# 12-bit bands keep chance collisions (and so the candidates to compare) rare.
MAX_DISTANCE = 4
# Character shingles keep fingerprints stable under small edits of short comments.
SHINGLE = 5
MAX_CHARS = 2000
# Short texts ("great song!") are legitimately repeated by many people: too short to judge.
MIN_WORDS = 8

_WORD = re.compile(r"\w+", re.UNICODE)


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.casefold())


def simhash(text: str) -> int | None:
    """64-bit SimHash over character 5-shingles of the folded words; None for short texts."""
    words = words_of(text)
    if len(words) < MIN_WORDS:
        return None
    # The opening is what gets copied; capping it bounds the cost of 100 KB bodies.
    folded = " ".join(words)[:MAX_CHARS]
    votes = _shingle_hashes(folded)
    bits = np.unpackbits(votes.view(np.uint8).reshape(-1, 8), axis=1)
    # Majority vote per bit position over all shingles.
    majority = bits.sum(axis=0) * 2 > len(bits)
    return int.from_bytes(np.packbits(majority).tobytes(), "big")


_MULT = np.uint64(1_000_003)
_GOLDEN, _MIX1, _MIX2 = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9),
                         np.uint64(0x94D049BB133111EB))


def _shingle_hashes(text: str) -> np.ndarray:
    """64-bit hash of every character shingle, vectorised: a polynomial rolling hash mixed by
    splitmix64 so all 64 bits vary independently (stable across processes, unlike hash())."""
    codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    width = min(SHINGLE, len(codes))
    count = len(codes) - width + 1
    h = np.zeros(count, dtype=np.uint64)
    for k in range(width):
        h = h * _MULT + codes[k:k + count]
    z = h + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def bands(fingerprint: int) -> list[int]:
    mask = (1 << BAND_BITS) - 1
    return [fingerprint >> (i * BAND_BITS) & mask for i in range(BANDS)]


def near(a: int, b: int) -> bool:
    return (a ^ b).bit_count() <= MAX_DISTANCE
