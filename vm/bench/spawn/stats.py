"""Statistics of start times: the median with a distribution-free interval,
and ratios of medians with a bootstrap interval.

- The median's 95% interval comes from order statistics: the number of
  samples below the true median is Binomial(n, 1/2) whatever the
  distribution, so [x_(k), x_(n-k+1)] covers it with probability
  1 - 2 P(Bin(n, 1/2) <= k - 1); k is the largest rank that keeps this at
  least 95%. It needs n >= 6.
- A ratio of two medians (a method against posix_spawn, or revision B
  against A) gets a percentile bootstrap interval, each sample resampled on
  its own. The bootstrap median is drawn exactly rather than by resampling
  n values: the m-th smallest of n uniform indices is ceil(n U) with
  U ~ Beta(m, n - m + 1), so one draw costs O(1) (m = the lower median's
  rank, (n + 1) // 2).
- A ratio whose interval contains 1.0 is reported as "no measurable
  difference", never as a number to read.
- Measured in passes (the sweep run several times, each point once a
  pass): the host's speed moves between the passes' windows, unequally
  for different kinds of work, which samples of one window cannot show.
  A method's ratio to another is then taken per pass; the point gets the
  median of the pass ratios and the order-statistic interval of that
  median ([min, max] of 6 passes: 1 - 2 / 2^6 = 96.9%, for passes that
  are independent draws around one median). Two runs compare by a
  percentile bootstrap over their passes, approximate with so few.

Pure Python (no numpy): the unit tests run without the plotting stack.
"""

import functools
import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

LEVEL = 0.95
BOOTSTRAP_DRAWS = 2000  # 50 draws beyond each 2.5% quantile
MIN_SAMPLES = 6  # fewer: no order-statistic interval reaches 95%

NO_DIFFERENCE = "no measurable difference"
SLOWER = "slower"
FASTER = "faster"


@dataclass(frozen=True)
class Interval:
    low: float
    high: float

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high

    def overlaps(self, other: "Interval") -> bool:
        return self.low <= other.high and other.low <= self.high

    def as_list(self) -> list[float]:
        return [self.low, self.high]


def _binom_half_cdf(n: int, k: int) -> float:
    """P(Bin(n, 1/2) <= k), summed in log space (no overflow for large n)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    log_half_n = n * math.log(0.5)
    lg_n = math.lgamma(n + 1)
    return min(1.0, sum(math.exp(lg_n - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                                 + log_half_n) for i in range(k + 1)))


def median_rank(n: int, level: float = LEVEL) -> int | None:
    """The 1-based rank k such that [x_(k), x_(n-k+1)] is the narrowest
    order-statistic interval of the median with coverage >= level; None when
    even [x_(1), x_(n)] does not reach it."""
    alpha = 1.0 - level
    log_half_n = n * math.log(0.5)
    lg_n = math.lgamma(n + 1)
    below = 0.0  # P(Bin(n, 1/2) <= k - 1), built up one term per k
    best = None
    for k in range(1, (n + 1) // 2 + 1):
        below += math.exp(lg_n - math.lgamma(k) - math.lgamma(n - k + 2) + log_half_n)
        if 2 * below > alpha:
            break
        best = k
    return best


def median_ci(samples: Sequence[float], level: float = LEVEL) -> Interval | None:
    """The median's distribution-free interval, or None for too few samples."""
    n = len(samples)
    k = median_rank(n, level)
    if k is None:
        return None
    ordered = sorted(samples)
    return Interval(float(ordered[k - 1]), float(ordered[n - k]))


def coverage(n: int, level: float = LEVEL) -> float:
    """The exact coverage of median_ci's interval for n samples."""
    k = median_rank(n, level)
    return 0.0 if k is None else 1.0 - 2 * _binom_half_cdf(n, k - 1)


def bootstrap_medians(samples: Sequence[float], draws: int,
                      rng: random.Random) -> list[float]:
    """Medians (lower median for even n) of `draws` bootstrap resamples."""
    ordered = sorted(samples)
    n = len(ordered)
    m = (n + 1) // 2
    out = []
    for _ in range(draws):
        u = rng.betavariate(m, n - m + 1)
        j = min(n, max(1, math.ceil(n * u)))
        out.append(float(ordered[j - 1]))
    return out


@functools.lru_cache(maxsize=4096)
def _bootstrap(samples: tuple[float, ...], draws: int, salt: int) -> tuple[float, ...]:
    """bootstrap_medians, seeded by the samples and a salt, kept: a sample
    (posix_spawn's, for one) takes part in many ratios. Different salts keep
    the two sides of a ratio independent even when their samples are equal."""
    return tuple(bootstrap_medians(samples, draws, random.Random(hash((samples, salt)))))


def _quantile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated quantile of sorted values."""
    pos = q * (len(sorted_values) - 1)
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def ratio_ci(numerator: Sequence[float], denominator: Sequence[float],
             level: float = LEVEL, draws: int = BOOTSTRAP_DRAWS,
             seed: int = 0) -> Interval:
    """Percentile bootstrap interval of median(numerator) / median(denominator)."""
    if not numerator or not denominator:
        raise ValueError("a ratio needs samples on both sides")
    top = _bootstrap(tuple(numerator), draws, 4 * seed + 1)
    bottom = _bootstrap(tuple(denominator), draws, 4 * seed + 2)
    ratios = sorted(t / b for t, b in zip(top, bottom, strict=True) if b > 0)
    if not ratios:
        raise ValueError("the denominator's medians are all zero")
    alpha = 1.0 - level
    return Interval(_quantile(ratios, alpha / 2), _quantile(ratios, 1 - alpha / 2))


def normalized_ratio(b: Sequence[float], b_ref: Sequence[float], a: Sequence[float],
                     a_ref: Sequence[float], level: float = LEVEL,
                     draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> "Ratio":
    """(median(b) / median(b_ref)) / (median(a) / median(a_ref)) with its
    percentile bootstrap interval: B over A with each run's drift (a slower
    machine, another load) divided out by a reference method of the same run."""
    value = ((float(statistics.median(b)) / float(statistics.median(b_ref)))
             / (float(statistics.median(a)) / float(statistics.median(a_ref))))
    draws_of = [_bootstrap(tuple(x), draws, 4 * seed + salt)
                for salt, x in enumerate((b, b_ref, a, a_ref), 1)]
    ratios = sorted((mb / mbr) / (ma / mar) for mb, mbr, ma, mar in zip(*draws_of, strict=True)
                    if mbr > 0 and ma > 0 and mar > 0)
    if not ratios:
        raise ValueError("medians of zero")
    alpha = 1.0 - level
    return Ratio(value, Interval(_quantile(ratios, alpha / 2), _quantile(ratios, 1 - alpha / 2)))


def verdict(ci: Interval) -> str:
    """What a ratio's interval lets one say: faster, slower, or nothing."""
    if ci.contains(1.0):
        return NO_DIFFERENCE
    return SLOWER if ci.low > 1.0 else FASTER


@dataclass(frozen=True)
class Summary:
    """One method at one point: n samples of the time per start (ns)."""

    n: int
    median: float
    ci: Interval | None
    mean: float
    minimum: float
    maximum: float

    @property
    def rel_halfwidth(self) -> float | None:
        """The interval's larger half, relative to the median."""
        if self.ci is None or self.median <= 0:
            return None
        return max(self.median - self.ci.low, self.ci.high - self.median) / self.median


def summarize(samples: Sequence[float], level: float = LEVEL) -> Summary:
    if not samples:
        raise ValueError("no samples")
    return Summary(n=len(samples), median=float(statistics.median(samples)),
                   ci=median_ci(samples, level), mean=float(statistics.fmean(samples)),
                   minimum=float(min(samples)), maximum=float(max(samples)))


@dataclass(frozen=True)
class Ratio:
    value: float
    ci: Interval

    @property
    def verdict(self) -> str:
        return verdict(self.ci)


def ratio(numerator: Sequence[float], denominator: Sequence[float],
          level: float = LEVEL, seed: int = 0, draws: int = BOOTSTRAP_DRAWS) -> Ratio:
    """median(numerator) / median(denominator) with its bootstrap interval."""
    value = float(statistics.median(numerator)) / float(statistics.median(denominator))
    return Ratio(value, ratio_ci(numerator, denominator, level, draws, seed))


MIN_PASSES = 6  # fewer: the pass ratios' median has no 95% interval


def _median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def pass_ratios(numerator: Sequence[Sequence[float]],
                denominator: Sequence[Sequence[float]]) -> list[float] | None:
    """median(numerator) / median(denominator) in each pass; None unless
    both sides have the same MIN_PASSES or more passes, none of them empty."""
    if len(numerator) != len(denominator) or len(numerator) < MIN_PASSES:
        return None
    if not all(n and d and _median(d) > 0 for n, d in zip(numerator, denominator, strict=True)):
        return None
    return [_median(n) / _median(d) for n, d in zip(numerator, denominator, strict=True)]


def pass_ratio(numerator: Sequence[Sequence[float]],
               denominator: Sequence[Sequence[float]],
               level: float = LEVEL) -> Ratio | None:
    """The median of pass_ratios() with the order-statistic interval of
    that median; None when there are no pass ratios."""
    ratios = pass_ratios(numerator, denominator)
    ci = None if ratios is None else median_ci(ratios, level)
    return None if ratios is None or ci is None else Ratio(_median(ratios), ci)


def pass_quotient(b: Sequence[float], a: Sequence[float], level: float = LEVEL,
                  draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> Ratio:
    """median(b) / median(a) of per-pass values of two runs (medians, or
    ratios to a reference), with a percentile bootstrap over the passes."""
    if not b or not a:
        raise ValueError("a quotient needs passes on both sides")
    rng = random.Random(seed)
    quotients = []
    for _ in range(draws):
        top = _median(rng.choices(b, k=len(b)))
        bottom = _median(rng.choices(a, k=len(a)))
        if bottom > 0:
            quotients.append(top / bottom)
    if not quotients:
        raise ValueError("medians of zero")
    quotients.sort()
    alpha = 1.0 - level
    return Ratio(_median(b) / _median(a),
                 Interval(_quantile(quotients, alpha / 2), _quantile(quotients, 1 - alpha / 2)))
