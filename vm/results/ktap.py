"""The run as one nested KTAP v1 stream: the suite, its programs, their tests.

Documentation/dev-tools/ktap.rst: each level indented four more spaces,
a "# Subtest:" header as KUnit prints it, a failure's report as diagnostic
lines ("# ...") before its "not ok" line, as KUnit prints its expectations.
"""

from itertools import groupby

from vm.results.records import CheckResult, Status, ordered

SUITE = "spawn_template"
KTAP_FILE = "results.ktap"
INDENT = "    "


def _diagnostics(text: str, indent: str) -> list[str]:
    return [f"{indent}# {line}".rstrip() for line in text.strip().splitlines()]


def _result(number: int, result: CheckResult, indent: str) -> list[str]:
    name = result.test
    if result.status is Status.PASS:
        return [f"{indent}ok {number} {name}"]
    if result.status is Status.SKIP:
        reason = result.log.strip().splitlines()[0] if result.log.strip() else "skipped"
        return [f"{indent}ok {number} {name} # SKIP {reason}"]
    # FAIL, ERROR and MISS are all "not ok"; the first diagnostic line says which.
    lines = [f"{indent}# {name}: {result.status.value}"]
    lines += _diagnostics(result.log, indent)
    return [*lines, f"{indent}not ok {number} {name}"]


def _ok(results: list[CheckResult]) -> bool:
    return all(r.status in (Status.PASS, Status.SKIP) for r in results)


def render(results: list[CheckResult]) -> str:
    """KTAP version 1: suite -> program -> test."""
    programs = [(p, list(rs)) for p, rs in groupby(ordered(results), key=lambda r: r.program)]
    one, two = INDENT, INDENT * 2
    lines = ["KTAP version 1", "1..1",
             f"{one}KTAP version 1", f"{one}# Subtest: {SUITE}", f"{one}1..{len(programs)}"]
    for number, (program, checks) in enumerate(programs, 1):
        lines += [f"{two}KTAP version 1", f"{two}# Subtest: {program}", f"{two}1..{len(checks)}"]
        for n, check in enumerate(checks, 1):
            lines += _result(n, check, two)
        counts = {s: sum(c.status is s for c in checks) for s in Status}
        lines.append(f"{one}# {program}: " + " ".join(
            f"{s.value.lower()}:{n}" for s, n in counts.items() if n))
        lines.append(f"{one}{'ok' if _ok(checks) else 'not ok'} {number} {program}")
    lines.append(f"{'ok' if _ok(results) else 'not ok'} 1 {SUITE}")
    return "\n".join(lines) + "\n"
