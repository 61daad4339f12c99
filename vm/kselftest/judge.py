"""A selftest program on the revision, judged against the base kernel.

The same tests, built the same way, run in the same place on the base
kernel (no series) with the same config: a difference is the finding, not
a failure that the environment causes on both (a FIFO on 9p, a socket
without CONFIG_INET). Per result, by its number:
  passes now                                  passed
  fails now, passed or skipped on the base    regressed (gating)
  skips now, passed on the base               regressed (gating)
  fails now, failed on the base too           fails on the base kernel too (not gating)
  fails now, no such result on the base       new and failing (gating)
The program's own line (its exit status, a timeout) is judged the same way
when no result line explains it.
"""

from dataclasses import dataclass, field
from enum import Enum

from vm.kselftest.outcome import ProgramOutcome, Result, Status

BASE_EXCERPT_LINES = 30
# A program the base's run does not have.
NOT_RUN = ProgramOutcome(Status.FAIL, "not run on the base kernel", (), "")


class Verdict(Enum):
    PASSED = "passed"
    SKIPPED = "skipped"
    BASE_FAILS_TOO = "fails on the base kernel too"
    REGRESSED = "regressed"


@dataclass(frozen=True)
class ResultVerdict:
    result: Result
    verdict: Verdict
    base: str  # the base's line for it, or why there is none


@dataclass
class Judgement:
    verdict: Verdict
    results: list[ResultVerdict] = field(default_factory=list)
    message: str = ""


def _result_verdict(now: Result, base: ProgramOutcome) -> ResultVerdict:
    before = base.result(now.number)
    shown = before.line() if before else "no such result"
    if now.status is Status.PASS:
        return ResultVerdict(now, Verdict.PASSED, shown)
    if now.status is Status.SKIP:
        gating = before is not None and before.status is Status.PASS
        return ResultVerdict(now, Verdict.REGRESSED if gating else Verdict.SKIPPED, shown)
    if before is not None and before.status is Status.FAIL:
        return ResultVerdict(now, Verdict.BASE_FAILS_TOO, shown)
    return ResultVerdict(now, Verdict.REGRESSED, shown)


def _program_line(outcome: ProgramOutcome) -> str:
    return f"{outcome.status.value}" + (f" ({outcome.detail})" if outcome.detail else "")


def judge(name: str, now: ProgramOutcome, base: ProgramOutcome) -> Judgement:
    """@name's outcome on the revision against the base's."""
    results = [_result_verdict(r, base) for r in now.results]
    if now.status is Status.SKIP and not results:
        return Judgement(Verdict.SKIPPED, results, f"{name}: skipped: {now.detail}")
    regressed = [r for r in results if r.verdict is Verdict.REGRESSED]
    both = [r for r in results if r.verdict is Verdict.BASE_FAILS_TOO]
    lines = [f"{r.result.line()}    (base: {r.base})" for r in regressed + both]
    program_failed = now.status in (Status.FAIL, Status.TIMEOUT)
    if program_failed and not regressed and not both:
        # Nothing in its KTAP says why: the program's own line is the result,
        # and where it stopped names the test it was in (an exec that should
        # have failed replaced the program, say).
        lines.append(f"{name}: {_program_line(now)}    (base: {_program_line(base)})")
        missing = [r for r in base.results if now.result(r.number) is None]
        if missing:
            lines.append(f"{name}: first result missing: {missing[0].number} "
                         f"({len(missing)} of the base's {len(base.results)} missing)    "
                         f"(base: {missing[0].line()})")
        if base.status is now.status:
            return Judgement(Verdict.BASE_FAILS_TOO, results,
                             _message(name, "fails on the base kernel too", lines, base))
        return Judgement(Verdict.REGRESSED, results, _message(name, "regressed", lines, base))
    if regressed:
        return Judgement(Verdict.REGRESSED, results, _message(
            name, f"{len(regressed)} result(s) regressed against the base kernel", lines, base))
    if both:
        return Judgement(Verdict.BASE_FAILS_TOO, results, _message(
            name, f"fails on the base kernel too ({len(both)} result(s))", lines, base))
    return Judgement(Verdict.PASSED, results)


def _message(name: str, what: str, lines: list[str], base: ProgramOutcome) -> str:
    excerpt = "\n".join(f"    {line}" for line in
                        base.output.splitlines()[-BASE_EXCERPT_LINES:])
    return (f"{name}: {what}:\n" + "\n".join(f"  {line}" for line in lines)
            + f"\n  the base kernel's output (last {BASE_EXCERPT_LINES} lines):\n{excerpt}")
