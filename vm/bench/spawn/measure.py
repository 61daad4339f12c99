"""Running one point in the guest and reading what it printed.

The guest is reached through an `Execute` (a command and a timeout in, a
`CommandResult` out): the real one is the suite's judged `run_command`
(kernel reports in the log fail the point), a unit test's is a fake.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vm.bench.spawn import output
from vm.bench.spawn.data import FAILED, MISSING, OK, MethodResult, PointResult
from vm.bench.spawn.points import METHODS, Point


@dataclass(frozen=True)
class CommandResult:
    ok: bool  # exit status 0 and no kernel report
    output: str
    seconds: float
    message: str = ""  # why not ok


Execute = Callable[[str, float], CommandResult]


def result_of(point: Point, samples: int, out: output.Output, seconds: float,
              methods: Sequence[str] = METHODS) -> PointResult:
    """A parsed run as a point's result: each method's state and samples."""
    result = PointResult(point, samples, seconds, dict(out.info))
    if not out.complete:
        result.error = "the program did not finish (no end record)"
    for name in methods:
        state = out.methods.get(name)
        if state is None:
            result.methods[name] = MethodResult(MISSING)
        elif state.status == OK and out.complete:
            result.methods[name] = MethodResult(OK, "", list(out.samples.get(name, [])))
        elif state.status == OK:
            result.methods[name] = MethodResult(FAILED, result.error)
        else:
            result.methods[name] = MethodResult(state.status, state.detail)
    return result


def run_point(execute: Execute, binary: Path, point: Point, samples: int, warmup: int,
              timeout: float, methods: Sequence[str] = METHODS) -> PointResult:
    """One run of the guest program at a point; errors become the point's."""
    ran = execute(point.command(binary, samples, warmup, methods), timeout)
    if not ran.ok:
        failed = PointResult(point, samples, ran.seconds, error=ran.message.strip()[:2000])
        failed.methods = {m: MethodResult(FAILED, "the point's run failed") for m in methods}
        return failed
    try:
        parsed = output.parse(ran.output)
    except output.OutputError as e:
        failed = PointResult(point, samples, ran.seconds, error=f"unreadable output: {e}")
        failed.methods = {m: MethodResult(FAILED, "unreadable output") for m in methods}
        return failed
    return result_of(point, samples, parsed, ran.seconds, methods)
