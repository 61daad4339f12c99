"""pytest glue: options, the session's Suite, one item per check of each check
program and per program of the kernel's own selftests (tests/kselftest/).

With pytest-xdist (-n N) each worker has its own Suite and guest, and its
own folder, results/<run>/workers/<gwN>/; the first worker to need the
kernel builds it under the cache's lock, the others find it built. The
controller runs no test: at the end it merges the workers' folders into
the run's (vm/results/merge.py)."""

import os
import sys
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from vm import usage
from vm.cache import Cache, contain_temporaries
from vm.errors import HarnessError, UsageError
from vm.guest import checks, workers
from vm.guest.runner import CheckFailed, Outcome, Verdict
from vm.kernel.identity import StaleKernelError
from vm.kselftest import judge
from vm.kselftest.base import RECORD_OPTION
from vm.options import (
    DEFAULT_FRAGMENTS,
    DEFAULT_RESULTS_DIR,
    DEFAULT_SERIES,
    DEFAULTS,
    Options,
    fragments_with,
)
from vm.paths import GUEST_CHECKS_DIR, REPO_ROOT
from vm.results import merge, routing, shard
from vm.results.ktap import KTAP_FILE
from vm.results.records import CheckResult, Status, status_of
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir
from vm.suite import TEMPORARIES, Suite

SUITE_KEY = pytest.StashKey[Suite]()
KSELFTEST_DIR = REPO_ROOT / "tests" / "kselftest"
# xdist: the run's folder, handed from the controller to each worker, and
# where under it each worker's own folder is.
RUN_DIR_INPUT = "spawn_template_run_dir"
WORKERS_DIR = "workers"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("spawn-template", "spawn-template kernel validation")
    group.addoption("--kernel-tree", type=Path, default=None, metavar="PATH",
                    help="kernel tree to test instead of Debian's linux-source-6.12 "
                    "(never modified: copied or cloned into the cache)")
    group.addoption("--series", default=None, metavar="DIR|MBOX|none",
                    help="patch series to apply with git am (default: "
                    f"{DEFAULT_SERIES}; with --no-build, the series of that build)")
    group.addoption("--kconfig", action="append", default=[], metavar="NAME|FILE",
                    help="extra config fragment, kconfigs/NAME.config or a file; "
                    f"repeatable (always: {', '.join(DEFAULT_FRAGMENTS)})")
    group.addoption("--no-build", action="store_true",
                    help="use the last build as is: no apply, config or make")
    group.addoption("--prebuilt", type=Path, default=None, metavar="PATH",
                    help="boot and check an exported build (python3 -m vm.export): "
                    "no kernel source, compiler or cache needed")
    group.addoption("--kernel-build", type=Path, default=None, metavar="DIR",
                    help="boot and check the kernel the developer built in DIR (make's output "
                    "folder: the tree, or O=) as it is: nothing is built there or written there")
    group.addoption("--shard", default=None, metavar="I/N",
                    help="run the I-th of N deterministic parts of the selected tests")
    group.addoption("--shard-durations", type=Path, default=None, metavar="JUNIT",
                    help="balance --shard by the test durations of a previous junit.xml")
    group.addoption("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR, metavar="DIR",
                    help="where results/<run-id>/ goes (default: %(default)s)")
    group.addoption("--accel", choices=("auto", "kvm", "tcg"), default=DEFAULTS.accel,
                    help="QEMU accelerator; auto: KVM if usable (vmx/svm), else TCG")
    group.addoption("--guest-memory", default=DEFAULTS.guest_memory,
                    help="guest memory (default: %(default)s)")
    group.addoption("--guest-cpus", type=int, default=None,
                    help=f"guest CPUs (default: {DEFAULTS.guest_cpus}; with -n, the host's "
                    "CPUs shared among the workers' guests, at most that)")
    group.addoption("--ktap", action="store_true",
                    help="print the run's KTAP stream (results/<run-id>/results.ktap) at the end")
    group.addoption("--check-timeout", type=float, default=DEFAULTS.check_timeout, metavar="S",
                    help="seconds a guest check may take before the guest counts as hung")
    group.addoption("--kselftest", action="append", default=[], metavar="TARGET",
                    help="also run this target of tools/testing/selftests (tests/kselftest/; "
                    "the series' own targets always run); 'none': run no target")
    group.addoption("--only", action="append", default=[], metavar="NODEID",
                    help="run only the tests with these node ids or files (repeatable): a selftest "
                    "program's, tests/kselftest/<target>::<program>, is not a path pytest "
                    "can be given")
    group.addoption(RECORD_OPTION, type=Path, default=None, metavar="JSON",
                    help="internal: the base kernel's own selftest run writes its results here")


def options_from(config: pytest.Config) -> Options:
    return Options(
        kernel_tree=config.getoption("--kernel-tree"),
        series=config.getoption("--series"),
        kconfigs=fragments_with(config.getoption("--kconfig")),
        no_build=config.getoption("--no-build"),
        prebuilt=config.getoption("--prebuilt"),
        kernel_build=config.getoption("--kernel-build"),
        accel=config.getoption("--accel"),
        guest_memory=config.getoption("--guest-memory"),
        guest_cpus=config.getoption("--guest-cpus") or DEFAULTS.guest_cpus,
        check_timeout=config.getoption("--check-timeout"),
        kselftest=tuple(config.getoption("--kselftest")),
        kselftest_base_record=config.getoption(RECORD_OPTION),
    )


def is_controller(config: pytest.Config) -> bool:
    """Whether this process hands tests to xdist workers instead of running them."""
    return (not hasattr(config, "workerinput")
            and bool(getattr(config.option, "numprocesses", 0))
            and getattr(config.option, "dist", "no") != "no")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """-n auto: as many guests as the host's CPUs and memory hold."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own override
    return workers.host_count(config.getoption("--guest-memory"))


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "guest: needs the booted guest")
    if hasattr(config, "workerinput"):
        configure_worker(config)
        return
    options = options_from(config)
    cache = Cache.default()
    if options.prebuilt is None:
        contain_temporaries(cache)
    try:
        # Before collection, and before the run folder: one line, status 4.
        usage.check(options, cache)
        if config.getoption("--shard") is not None:
            shard.parse(config.getoption("--shard"))
        if config.getoption("--shard-durations") is not None:
            shard.durations(config.getoption("--shard-durations"))
    except UsageError as e:
        raise pytest.UsageError(str(e)) from None
    run_dir = new_run_dir(config.getoption("--results-dir"))
    if options.prebuilt is not None:
        # It needs no cache and makes none: its temporaries stay in its run
        # folder until the end (Suite.finish).
        contain_temporaries(run_dir / TEMPORARIES)
    if not config.option.xmlpath:
        config.option.xmlpath = str(run_dir / "junit.xml")
    if is_controller(config):
        config.pluginmanager.register(WorkersReporter(run_dir), "spawn-template-workers")
        return
    def progress(message: str) -> None:
        # Looked up late: this hook runs before the terminal reporter exists.
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        capture = config.pluginmanager.get_plugin("capturemanager")
        if reporter is None:
            return
        if capture is None:
            write_live(reporter, message)
            return
        # Builds and boots happen while pytest captures output: show them.
        with capture.global_and_fixture_disabled():
            write_live(reporter, message)

    suite = Suite(options, run_dir, progress)
    config.stash[SUITE_KEY] = suite
    config.pluginmanager.register(SuiteReporter(suite), "spawn-template-suite")


def configure_worker(config: pytest.Config) -> None:
    """An xdist worker: a Suite of its own in results/<run>/workers/<gwN>/.
    Its progress lines go to its stderr, which is the controller's."""
    workerinput: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
    if RUN_DIR_INPUT not in workerinput:
        return  # not started by this conftest's controller
    options = options_from(config)
    if config.getoption("--guest-cpus") is None:
        # More vCPUs than host CPUs: two 2-vCPU guests on 2 cores ran the
        # checks 2.6x slower than two 1-vCPU guests (docs/benchmarks.md).
        options = replace(options, guest_cpus=workers.guest_cpus(
            len(os.sched_getaffinity(0)), int(workerinput["workercount"]), DEFAULTS.guest_cpus))
    name = str(workerinput["workerid"])
    run_dir = Path(workerinput[RUN_DIR_INPUT]) / WORKERS_DIR / name
    run_dir.mkdir(parents=True)
    contain_temporaries(run_dir / TEMPORARIES if options.prebuilt is not None
                        else Cache.default())

    def progress(message: str) -> None:
        capture = config.pluginmanager.get_plugin("capturemanager")
        line = f"[suite {name}] {message}\n"
        if capture is None:
            sys.stderr.write(line)
            sys.stderr.flush()
            return
        with capture.global_and_fixture_disabled():
            sys.stderr.write(line)
            sys.stderr.flush()

    suite = Suite(options, run_dir, progress)
    config.stash[SUITE_KEY] = suite
    config.pluginmanager.register(SuiteReporter(suite), "spawn-template-suite")


def write_live(reporter: pytest.TerminalReporter, message: str) -> None:
    # Flushed: through tox or CI stdout is a pipe, block-buffered, and a
    # 20-minute build would otherwise show its progress only at the end.
    reporter.write_line(f"[suite] {message}")
    reporter.flush()


class SuiteReporter:
    """Counts outcomes per area, sets the run's exit status, prints and saves
    the summary, stops the guest."""

    def __init__(self, suite: Suite):
        self.suite = suite
        self.interrupted = False

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
            self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        error = call.excinfo.value if call.excinfo is not None else None
        # What made a test fail decides the exit status (vm/results/routing.py).
        if report.failed and error is not None:
            self.suite.note(error)
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.suite.results.append(check_result(item, report, error))
        return report

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        status = routing.final(int(exitstatus), self.suite.causes, self.interrupted)
        session.exitstatus = status
        self.suite.finish(status)
        if hasattr(session.config, "workeroutput"):
            session.config.workeroutput[SUITE_STATUS] = int(status)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            self.suite.summary.add(area_of(report.nodeid), report.outcome, report.nodeid)

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        summary = self.suite.summary
        if summary.counts or summary.exit_reason:
            terminalreporter.write_sep("=", "spawn-template summary")
            terminalreporter.write(summary.to_markdown())
            terminalreporter.write_line(f"results: {self.suite.run_dir}")
        if terminalreporter.config.getoption("--ktap"):
            terminalreporter.write_sep("=", "KTAP")
            terminalreporter.write((self.suite.run_dir / KTAP_FILE).read_text())


SUITE_STATUS = "spawn_template_status"


class WorkersReporter:
    """The xdist controller's part: tells each worker the run's folder,
    merges their folders at the end, sets the run's exit status and prints
    the summary. Its junit.xml is pytest's, from every worker's reports."""

    def __init__(self, run_dir: Path):
        self.run_dir = run_dir
        self.statuses: list[int] = []
        self.interrupted = False
        self.summary_md = ""
        self.error = ""

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        node.workerinput[RUN_DIR_INPUT] = str(self.run_dir)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        status = getattr(node, "workeroutput", {}).get(SUITE_STATUS)
        if status is not None:
            self.statuses.append(int(status))

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        # What the workers met (a stale kernel, a broken build) decides as in one run.
        causes = [ExitStatus(s) for s in self.statuses if s in routing.PRECEDENCE]
        status = routing.final(int(exitstatus), causes, self.interrupted)
        folders = sorted(p for p in (self.run_dir / WORKERS_DIR).glob("*")
                         if (p / "summary.json").is_file())
        if folders:
            try:
                summary = merge.merge_workers(self.run_dir, folders, status)
                self.summary_md = summary.to_markdown()
            except UsageError as e:
                # Two workers booted different builds: not one run's verdict.
                status = ExitStatus.INFRASTRUCTURE
                self.error = f"the workers' results do not merge: {e}"
        session.exitstatus = status

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if not (self.summary_md or self.error):
            return
        terminalreporter.write_sep("=", "spawn-template summary")
        terminalreporter.write(self.summary_md or self.error + "\n")
        terminalreporter.write_line(f"results: {self.run_dir} (each worker's console and "
                                    f"kernel log: {WORKERS_DIR}/<worker>/)")
        ktap_file = self.run_dir / KTAP_FILE
        if terminalreporter.config.getoption("--ktap") and ktap_file.is_file():
            terminalreporter.write_sep("=", "KTAP")
            terminalreporter.write(ktap_file.read_text())


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--only, then --shard I/N, after -k and -m have selected."""
    only = tuple(config.getoption("--only"))
    if only:
        kept = [i for i in items if any(i.nodeid == o or i.nodeid.startswith(o + "::")
                                        for o in only)]
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
    spec = config.getoption("--shard")
    if spec is None:
        return
    index, total = shard.parse(spec)
    junit = config.getoption("--shard-durations")
    parts = shard.split([i.nodeid for i in items], total,
                        shard.durations(junit) if junit else None)
    mine = set(parts[index - 1])
    config.hook.pytest_deselected(items=[i for i in items if i.nodeid not in mine])
    items[:] = [i for i in items if i.nodeid in mine]


def pytest_collection_finish(session: pytest.Session) -> None:
    """The base kernel's selftest results are needed only when one is selected."""
    if SUITE_KEY in session.config.stash:
        session.config.stash[SUITE_KEY].kselftest_selected = any(
            isinstance(i, KselftestProgram) for i in session.items)


def check_result(item: pytest.Item, report: pytest.TestReport,
                 error: BaseException | None) -> CheckResult:
    """The record KTAP and KCIDB are written from."""
    if isinstance(item, GuestCheck):
        program, test = item.path.stem, item.name
    elif isinstance(item, KselftestProgram):
        program, test = f"kselftest.{item.target}", item.name
    else:
        program, test = area_of(item.nodeid), item.name
    if hasattr(report, "wasxfail"):
        log = report.wasxfail
    elif report.skipped and isinstance(report.longrepr, tuple):
        log = report.longrepr[2].removeprefix("Skipped: ")
    else:
        log = report.longreprtext if report.failed else ""
    return CheckResult(program, test, status_of(report.outcome, error), report.duration, log,
                       item.nodeid)


def area_of(nodeid: str) -> str:
    """The guest program (abi_create, creds, ...), the selftest target
    (kselftest.exec) or the host test module."""
    path = Path(nodeid.split("::", 1)[0])
    if path.parent == KSELFTEST_DIR.relative_to(REPO_ROOT):
        return f"kselftest.{path.name}"
    return path.stem.removeprefix("test_")


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Boot before a guest test: a kernel that is not the one built is an
    error of the run (pytest's "error"), never a test verdict."""
    if item.get_closest_marker("guest") is None:
        return
    try:
        item.config.stash[SUITE_KEY].guest()
    except StaleKernelError:
        raise
    except HarnessError:
        pass  # a kernel that does not boot fails the test itself, in its call


@pytest.fixture(scope="session")
def suite(request: pytest.FixtureRequest) -> Suite:
    return request.config.stash[SUITE_KEY]


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.parent == GUEST_CHECKS_DIR and checks.is_check_program(file_path):
        return CheckProgram.from_parent(parent, path=file_path)
    return None


class CheckProgram(pytest.File):
    """A check program (kselftest_harness); its checks come from `-l` of a
    binary built only to be listed (vm/guest/listing.py): collecting builds no kernel."""

    def collect(self) -> Iterator[pytest.Item]:
        suite = self.config.stash[SUITE_KEY]
        try:
            names = checks.list_checks(suite.listing_programs().binary(self.path))
        except HarnessError as e:
            # Every guest program is listed the same way: say why once, in full.
            first = suite.collect_error_shown is False
            suite.collect_error_shown = True
            raise self.CollectError(str(e) if first else
                                    f"not collected: {type(e).__name__} (see above)") from None
        for name in names:
            yield GuestCheck.from_parent(self, name=name)


class GuestCheck(pytest.Item):
    """One check: `program -r NAME` in the guest, the program compiled
    against the build's UAPI headers (the kernel is built on first need)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.add_marker("guest")

    def runtest(self) -> None:
        suite = self.config.stash[SUITE_KEY]
        report(suite.run_check(suite.check_programs().binary(self.path), self.name))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: object = None) -> str:
        error = excinfo.value
        if isinstance(error, HarnessError):
            # The same build or boot failure fails every check: in full once.
            suite = self.config.stash[SUITE_KEY]
            if suite.shown(error):
                return f"not run: {type(error).__name__} (see the first failure)"
            return str(error)
        if isinstance(error, CheckFailed):
            return str(error)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"{self.path.stem}: {self.name}"


def report(outcome: Outcome) -> None:
    """Turn an Outcome into pytest's pass, skip or failure."""
    if outcome.verdict is Verdict.SKIPPED:
        pytest.skip(outcome.message)
    if outcome.verdict is Verdict.FAILED:
        raise CheckFailed(outcome.message)


@pytest.hookimpl(tryfirst=True)
def pytest_collect_directory(path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if path == KSELFTEST_DIR:
        return Kselftests.from_parent(parent, path=path)
    return None


class Kselftests(pytest.Directory):
    """The kernel's own selftests of what the series touches: a target per
    folder name (tests/kselftest/<target>), a program per item. Listing
    them builds the base's tests against the host's headers, no kernel."""

    def collect(self) -> Iterator[pytest.Collector]:
        suite = self.config.stash[SUITE_KEY]
        try:
            programs = suite.kselftest_programs()
        except HarnessError as e:
            suite.note(e)
            raise self.CollectError(f"cannot list the kernel's selftests: {e}") from None
        for target, names in programs.items():
            yield KselftestTarget.from_parent(self, path=self.path / target, programs=names)


class KselftestTarget(pytest.File):
    def __init__(self, programs: tuple[str, ...], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.programs = programs

    def collect(self) -> Iterator[pytest.Item]:
        for name in self.programs:
            yield KselftestProgram.from_parent(self, name=name)


class KselftestProgram(pytest.Item):
    """One program of a target, run the kselftest way in the guest and
    judged against the base kernel's run of the same program
    (vm/kselftest/judge.py); each of its KTAP results is recorded too."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.add_marker("guest")
        self.target = self.path.name

    def runtest(self) -> None:
        suite = self.config.stash[SUITE_KEY]
        now = suite.run_kselftest(self.target, self.name)
        if suite.options.kselftest_base_record is not None:
            return  # the base's own run: what it printed is the next run's reference
        before = suite.kselftest_base_results().outcomes.get(f"{self.target}:{self.name}")
        if before is None:
            before = judge.NOT_RUN
        found = judge.judge(f"{self.target}/{self.name}", now, before)
        for r in found.results:
            suite.results.append(CheckResult(
                f"kselftest.{self.target}.{self.name}", f"{r.result.number} {r.result.name}",
                SUB_STATUS[r.verdict], 0.0,
                "" if r.verdict is judge.Verdict.PASSED else f"{r.verdict.value}; base: {r.base}",
                f"{self.nodeid}::{r.result.number}"))
        if found.verdict is judge.Verdict.REGRESSED:
            raise CheckFailed(found.message)
        if found.verdict is judge.Verdict.BASE_FAILS_TOO:
            pytest.xfail(found.message)
        if found.verdict is judge.Verdict.SKIPPED:
            pytest.skip(found.message)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: object = None) -> str:
        if isinstance(excinfo.value, (CheckFailed, HarnessError)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"kselftest {self.target}: {self.name}"


SUB_STATUS = {judge.Verdict.PASSED: Status.PASS, judge.Verdict.REGRESSED: Status.FAIL,
              judge.Verdict.BASE_FAILS_TOO: Status.SKIP, judge.Verdict.SKIPPED: Status.SKIP}
