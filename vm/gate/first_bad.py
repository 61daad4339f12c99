"""First bad patch: the shortest prefix of a series at which a check fails.

A bisection over prefixes 0..n, where prefix 0 (no patch) is taken as
good, not run (the series' own checks skip there; the selftests are judged
against it; the checks of what the series leaves as it was pass on the
base kernel: docs/regressions.md) and prefix n (the whole series) is known
bad. A prefix that cannot run a check yet (ENOSYS skip) is good for
it. Checks bisected together share their probes: one build and boot of
prefix k answers for every check whose interval contains k.
"""

from collections.abc import Callable
from dataclasses import dataclass

from vm.results.outcomes import Outcome, not_yet_present

# probe(k, checks) runs @checks on prefix k and returns what it found.
Probe = Callable[[int, list[str]], dict[str, Outcome]]


@dataclass(frozen=True)
class FirstBad:
    check: str
    patch: int  # 1-based: the first prefix at which the check fails
    failure: str  # the failure text at that prefix
    before: str  # what the check did one patch earlier


def _good(outcome: Outcome | None) -> bool:
    return outcome is None or not outcome.status.failing


def _describe(outcome: Outcome | None, k: int) -> str:
    if k == 0:
        return "taken as good without the series (prefix 0 is not run)"
    if not_yet_present(outcome):
        return "not yet present (ENOSYS skip)"
    assert outcome is not None
    return outcome.status.value


def bisect(failing: dict[str, Outcome], n: int, probe: Probe) -> tuple[list[FirstBad], list[int]]:
    """@failing: the checks that fail on the whole series (prefix n), with
    their outcome there. Returns each one's first bad patch, and the
    prefixes probed, in order."""
    lo = dict.fromkeys(failing, 0)
    hi = dict.fromkeys(failing, n)
    seen: dict[int, dict[str, Outcome]] = {n: dict(failing)}
    probed: list[int] = []
    while True:
        open_checks = [c for c in failing if hi[c] - lo[c] > 1]
        if not open_checks:
            break
        widest = max(open_checks, key=lambda c: (hi[c] - lo[c], -lo[c]))
        mid = (lo[widest] + hi[widest]) // 2
        ask = [c for c in open_checks if lo[c] < mid < hi[c]]
        found = probe(mid, ask)
        probed.append(mid)
        seen.setdefault(mid, {}).update(found)
        for c in ask:
            if _good(found.get(c)):
                lo[c] = mid
            else:
                hi[c] = mid
    result = []
    for c in failing:
        at = seen[hi[c]][c]
        before = seen.get(lo[c], {}).get(c)
        result.append(FirstBad(c, hi[c], at.message, _describe(before, lo[c])))
    return result, probed
