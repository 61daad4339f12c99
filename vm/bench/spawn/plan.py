"""How many samples each point gets: from a pilot run of every point, the
count that brings the median's 95% interval to the target half-width
(5% of the median by default), within the time left.

The half-width of an order-statistic interval of the median shrinks as
1/sqrt(n), so a pilot of n0 samples with relative half-width h0 needs
n0 (h0 / target)^2. A point's cost is modelled from its pilot as a fixed
part (setting up the parent's memory and fds, the guest round trip) plus
a cost per round (one start of every method by every thread).
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vm.bench.spawn.data import PointResult
from vm.bench.spawn.points import Point

DEFAULT_TARGET = 0.05  # relative half-width of the median's interval
DEFAULT_PILOT = 10  # samples per thread per method in the pilot
DEFAULT_MIN = 20  # samples per thread: never fewer (the interval needs >= 6)
DEFAULT_MAX = 2000


@dataclass(frozen=True)
class Pilot:
    point: Point
    threads: int
    rounds: int  # warm-up and measured rounds the pilot ran
    seconds: float  # its wall time in the guest, round trip included
    round_seconds: float  # one round, from the samples
    worst_halfwidth: float | None  # the widest method's; None: no interval

    @property
    def fixed_seconds(self) -> float:
        return max(0.0, self.seconds - self.rounds * self.round_seconds)

    def cost(self, samples: int, warmup: int) -> float:
        """Modelled wall time of a run with this many samples per thread."""
        return self.fixed_seconds + (samples + warmup) * self.round_seconds


def pilot_of(result: PointResult, warmup: int) -> Pilot:
    """What a pilot run tells about its point."""
    threads = result.point.threads
    round_ns = 0.0
    widths: list[float | None] = []
    for m in result.methods.values():
        s = m.summary()
        if s is None:
            continue
        # Threads run each method's turn side by side: a round costs about
        # one start's time per method, however many threads there are.
        round_ns += s.mean
        widths.append(s.rel_halfwidth)
    rounds = result.samples_per_thread + warmup
    round_seconds = round_ns / 1e9
    if rounds * round_seconds > result.seconds > 0:
        round_seconds = result.seconds / rounds
    known = [w for w in widths if w is not None]
    worst = None if not known or len(known) < len(widths) else max(known)
    return Pilot(result.point, threads, rounds, result.seconds, round_seconds, worst)


def wanted_samples(pilot: Pilot, pilot_samples: int, target: float,
                   minimum: int, maximum: int) -> int:
    """Samples per thread for the target half-width, within [minimum, maximum]."""
    if pilot.worst_halfwidth is None:
        return maximum
    pooled = pilot_samples * pilot.threads
    need = math.ceil(pooled * (pilot.worst_halfwidth / target) ** 2 / pilot.threads)
    return max(minimum, min(maximum, need))


def fit(pilots: Sequence[Pilot], wanted: Sequence[int], budget_s: float, warmup: int,
        minimum: int) -> list[int]:
    """Scale the wanted counts down (never below minimum) until the modelled
    time fits the budget; the minimum is kept even when it does not fit."""
    def total(scale: float) -> float:
        return sum(p.cost(max(minimum, math.floor(w * scale)), warmup)
                   for p, w in zip(pilots, wanted, strict=True))

    if total(1.0) <= budget_s:
        return list(wanted)
    lo, hi = 0.0, 1.0
    for _ in range(40):
        mid = (lo + hi) / 2
        if total(mid) <= budget_s:
            lo = mid
        else:
            hi = mid
    return [max(minimum, math.floor(w * lo)) for w in wanted]
