#!/usr/bin/env python3
"""Number of positions in Solvent's benchmark book, without running Swift.

The Swift benchmark `evaluate book of N accounts` (Benchmarks/.../Books.swift) evaluates
`RandomBook.input(accounts: N, seed: 7)` (Sources/SolventTestSupport/RandomBook.swift):
1-4 positions per account, so "≈ 2.5 N positions" is only an approximation.  To turn the
benchmark's wall clock into positions/s exactly, this module replays the *sequence of
random draws* RandomBook makes (SplitMix64 + the Swift standard library's
`Int.random(in:)`, `Int64.random(in:)` and `Bool.random()` algorithms) and counts the
positions.  Values are not computed, only which draws happen, because the number of
positions depends only on the draw sequence.

Swift semantics replicated (stdlib, Swift 6):
  next(upperBound: u)   Lemire's nearly-divisionless method: m = x * u (128-bit);
                        if low(m) < u: t = (2^64 - u) % u, redraw while low(m) < t;
                        result high(m)
  Int.random(in: a..<b) a + next(upperBound: b - a)
  Int.random(in: a...b) a + next(upperBound: b - a + 1)  (full range: raw next())
  Bool.random()         (next() >> 17) & 1 == 0

If RandomBook.swift changes its draws, this count must change with it; `--check`
prints the count for a few sizes so it can be compared with a Swift run.

    randombook_count.py ACCOUNTS [SEED]     # prints the number of positions
"""
from __future__ import annotations

import sys

MASK = (1 << 64) - 1


class SplitMix64:
    """Sources/SolventTestSupport/SplitMix64.swift."""

    __slots__ = ("state",)

    def __init__(self, seed: int):
        self.state = seed & MASK

    def next(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, upper: int) -> int:
        """Swift's `next(upperBound:)` (Lemire)."""
        m = self.next() * upper
        if (m & MASK) < upper:
            t = ((1 << 64) - upper) % upper
            while (m & MASK) < t:
                m = self.next() * upper
        return m >> 64

    def boolean(self) -> bool:
        return (self.next() >> 17) & 1 == 0

    def decimal(self, low: float, high: float, digits: int) -> int:
        """RandomBook.decimal: Int64.random(in: lo...hi) on the scaled integers."""
        scale = 10 ** digits
        lo = _swift_round(low * scale)
        hi = _swift_round(high * scale)
        return lo + self.below(hi - lo + 1)


def _swift_round(x: float) -> int:
    """Double.rounded() (to nearest, ties away from zero)."""
    import math
    return int(math.floor(abs(x) + 0.5)) * (1 if x >= 0 else -1)


def count_positions(accounts: int, seed: int = 7) -> int:
    """Positions in RandomBook.input(accounts:seed:)."""
    rng = SplitMix64(seed)
    # RandomBook.market: btc, eth, then three mark offsets.
    rng.decimal(20_000, 90_000, 1)
    rng.decimal(1_000, 4_000, 2)
    rng.decimal(-50, 50, 1)
    rng.decimal(-5, 5, 2)
    rng.decimal(-50, 50, 1)
    total = 0
    for _ in range(accounts):
        inverse = rng.below(4) == 0
        n = 1 + rng.below(4)
        total += n
        cross = set()
        for _ in range(n):
            instrument = 2 if inverse else rng.below(2)
            rng.boolean()                        # side
            rng.decimal(100, 30_000_000, 0)      # target notional
            rng.decimal(0.9, 1.1, 4)             # entry factor
            if rng.boolean():                    # leverage present?
                rng.decimal(1, 100, 0)
            isolated = rng.below(3) == 0 or instrument in cross
            if isolated:
                rng.decimal(0.002, 0.3, 4)       # isolated margin factor
            else:
                cross.add(instrument)
        if inverse:
            rng.decimal(-0.5, 50, 8)
        else:
            for asset in range(4):
                if rng.boolean() or asset == 0:
                    if asset < 2:
                        rng.decimal(-1_000, 2_000_000, 2)
                    else:
                        rng.decimal(0, 20, 6)
    return total


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--check":
        for n in (1, 10, 1000, 4000):
            print(n, count_positions(n))
        sys.exit(0)
    n = int(sys.argv[1])
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    print(count_positions(n, seed))
