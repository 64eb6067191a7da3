"""Medians, percentiles and ratios with a bootstrap interval: enough statistics for a noisy machine."""

from __future__ import annotations

import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    p99: float
    p90: float
    minimum: float
    maximum: float

    @classmethod
    def of(cls, values: Sequence[float]) -> Summary:
        if not values:
            nan = float("nan")
            return cls(0, nan, nan, nan, nan, nan)
        return cls(
            n=len(values),
            median=statistics.median(values),
            p99=percentile(values, 99),
            p90=percentile(values, 90),
            minimum=min(values),
            maximum=max(values),
        )


def ratio(value: float, baseline: float) -> float:
    return value / baseline if baseline else float("nan")


def median_ratio_interval(
    values: Sequence[float],
    baseline: Sequence[float],
    *,
    paired: bool = True,
    resamples: int = 2000,
    seed: int = 7,
) -> tuple[float, float]:
    """A 95 % bootstrap interval of ``median(values) / median(baseline)``.

    ``paired``: the i-th value and the i-th baseline were measured in the same interleaved round, and
    are resampled together (the machine's drift then cancels out).
    """
    if not values or not baseline:
        return float("nan"), float("nan")
    rng = random.Random(seed)
    ratios: list[float] = []
    for _ in range(resamples):
        if paired and len(values) == len(baseline):
            picks = [rng.randrange(len(values)) for _ in values]
            a = [values[i] for i in picks]
            b = [baseline[i] for i in picks]
        else:
            a = [values[rng.randrange(len(values))] for _ in values]
            b = [baseline[rng.randrange(len(baseline))] for _ in baseline]
        ratios.append(ratio(statistics.median(a), statistics.median(b)))
    return percentile(ratios, 2.5), percentile(ratios, 97.5)
