"""Verdicts on mutants, and the report of a mutation run.

killed: a check failed on the kernel with the mutant (the first one is
named). survived: every check that ran passed or skipped. broken: the
mutant does not apply, does not compile, or makes the compiler warn: a
defect of the mutant, not a kill. error: the harness could not get a
verdict (boot, stale kernel, pytest could not start): run it again.
"""

import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from enum import Enum
from pathlib import Path

from vm.results.outcomes import Outcome, Status


class Verdict(Enum):
    KILLED = "killed"
    SURVIVED = "survived"
    BROKEN = "broken"
    ERROR = "error"


@dataclass
class MutantResult:
    name: str
    rule: str
    trigger: str
    verdict: Verdict
    check: str = ""  # killed: the first failing check
    detail: str = ""  # its message, or why it is broken or an error
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # build, hinted, full
    checks_run: int = 0
    skipped: list[str] = field(default_factory=list)  # hinted checks that skipped
    runs: list[str] = field(default_factory=list)  # results folders of the guest runs

    def to_json(self) -> dict[str, object]:
        data = asdict(self)
        data["verdict"] = self.verdict.value
        data["seconds"] = round(self.seconds, 1)
        data["phases"] = {k: round(v, 1) for k, v in self.phases.items()}
        return data


def first_failure(outcomes: dict[str, Outcome]) -> tuple[str, Outcome] | None:
    """The first check, in run order, whose outcome is failing."""
    for check, outcome in outcomes.items():
        if outcome.status.failing:
            return check, outcome
    return None


def judge(result: MutantResult, outcomes: dict[str, Outcome]) -> bool:
    """Record one guest run on @result; True once the mutant is decided
    (killed, or an error no later run could undo)."""
    result.checks_run += len(outcomes)
    result.skipped += [c for c, o in outcomes.items() if o.status is Status.SKIPPED]
    failed = first_failure(outcomes)
    if failed is None:
        result.verdict = Verdict.SURVIVED
        return False
    check, outcome = failed
    result.check, result.detail = check, outcome.message
    result.verdict = Verdict.KILLED if outcome.status is Status.FAILED else Verdict.ERROR
    return True


def by_rule(results: list[MutantResult]) -> dict[str, dict[str, int]]:
    """Per contract rule: how many mutants got each verdict."""
    table: dict[str, dict[str, int]] = defaultdict(lambda: {v.value: 0 for v in Verdict})
    for r in results:
        table[r.rule][r.verdict.value] += 1
    return dict(sorted(table.items()))


def _cell(text: str, limit: int = 160) -> str:
    one = " ".join(text.split()).replace("|", "\\|")
    return one if len(one) <= limit else one[:limit - 1] + "…"


def to_markdown(results: list[MutantResult], meta: dict[str, str]) -> str:
    counts = {v: sum(r.verdict is v for r in results) for v in Verdict}
    lines = ["# Mutation run", ""]
    lines += [f"- {k}: {v}" for k, v in meta.items()]
    lines += ["- verdicts: " + ", ".join(f"{counts[v]} {v.value}" for v in Verdict), ""]
    lines += ["| mutant | verdict | first failing check / reason | time (s) | checks run |",
              "|---|---|---|---:|---:|"]
    for r in results:
        what = r.check or r.detail
        lines.append(f"| `{r.name}` | {r.verdict.value} | {_cell(what)} | {r.seconds:.0f} | "
                     f"{r.checks_run} |")
    lines += ["", "## Per contract rule", "",
              "| rule | killed | survived | broken | error |", "|---|---:|---:|---:|---:|"]
    for rule, c in by_rule(results).items():
        lines.append(f"| {_cell(rule, 200)} | {c['killed']} | {c['survived']} | "
                     f"{c['broken']} | {c['error']} |")
    details = [r for r in results if r.verdict is not Verdict.KILLED]
    if details:
        lines += ["", "## Not killed", ""]
        for r in details:
            lines.append(f"- `{r.name}` ({r.verdict.value}; trigger: {r.trigger}): "
                         f"{_cell(r.detail or 'every check passed', 400)}")
            if r.skipped:
                lines.append(f"  - skipped: {', '.join(r.skipped[:8])}")
    return "\n".join(lines) + "\n"


def write(results: list[MutantResult], run_dir: Path, meta: dict[str, str]) -> None:
    (run_dir / "mutants.md").write_text(to_markdown(results, meta))
    data = {"meta": meta, "mutants": [r.to_json() for r in results],
            "by_rule": by_rule(results)}
    (run_dir / "mutants.json").write_text(json.dumps(data, indent=2) + "\n")
