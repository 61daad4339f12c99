"""The guest checks of a revision against those of its baseline.

Pure functions on recorded outcomes (vm/results/outcomes.py): what regressed, what
a revision fixed, and which durations moved beyond run-to-run noise.
"""

from dataclasses import dataclass, field

from vm.results.outcomes import Outcome, Status

# Run-to-run noise of one check's duration, measured on this kind of
# machine by running the same kernel twice (docs/gate.md, "Noise"): a
# duration is flagged only when it moved by both this factor and this
# many seconds, so a 0.2 s check taking 0.5 s is not news.
NOISE_FACTOR = 2.0
NOISE_SECONDS = 2.0


@dataclass
class CheckDiff:
    regressed: list[str] = field(default_factory=list)  # not failing before, failing now
    fixed: list[str] = field(default_factory=list)  # failing before, passing now
    still_failing: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)  # not in the baseline
    new_failing: list[str] = field(default_factory=list)  # among new: failing
    removed: list[str] = field(default_factory=list)  # in the baseline only
    newly_skipped: list[str] = field(default_factory=list)  # passed before, skipped now
    slower: list[tuple[str, float, float]] = field(default_factory=list)  # (check, before, now)
    faster: list[tuple[str, float, float]] = field(default_factory=list)


def duration_moved(before: float, now: float) -> int:
    """+1 slower, -1 faster, 0 within the noise."""
    if abs(now - before) < NOISE_SECONDS:
        return 0
    low, high = sorted((before, now))
    if high < NOISE_FACTOR * max(low, 0.001):
        return 0
    return 1 if now > before else -1


def compare(now: dict[str, Outcome], before: dict[str, Outcome]) -> CheckDiff:
    diff = CheckDiff()
    for check in sorted(now):
        cur = now[check]
        old = before.get(check)
        if old is None:
            diff.new.append(check)
            if cur.status.failing:
                diff.new_failing.append(check)
            continue
        if cur.status.failing and not old.status.failing:
            diff.regressed.append(check)
        elif cur.status.failing:
            diff.still_failing.append(check)
        elif old.status.failing and cur.status is Status.PASSED:
            diff.fixed.append(check)
        elif old.status is Status.PASSED and cur.status is Status.SKIPPED:
            diff.newly_skipped.append(check)
        if cur.status is Status.PASSED and old.status is Status.PASSED:
            moved = duration_moved(old.seconds, cur.seconds)
            if moved:
                (diff.slower if moved > 0 else diff.faster).append(
                    (check, old.seconds, cur.seconds))
    diff.removed = sorted(set(before) - set(now))
    return diff
