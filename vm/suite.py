"""The run as one object: kernel preparation, guest checks, the guest, results.

Each step runs once, when first needed, and remembers its result, so that
host-only runs never build a kernel and guest runs build and boot once.
"""

import json
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from vm.cache import Cache, locked
from vm.errors import HarnessError
from vm.guest import accel, checks, listing, prebuilt
from vm.guest.runner import CheckFailed, Judge, Outcome, Verdict, run_check, run_command
from vm.guest.vng import Guest, GuestSpec
from vm.kernel import build, devbuild, identity, kconfig, series, source
from vm.kernel.request import KernelRequest, build_kernel, last_build
from vm.kselftest import base, install, outcome, targets
from vm.kselftest import listing as kselftest_listing
from vm.options import Options
from vm.progress import Progress
from vm.results import kcidb, ktap, records, routing
from vm.results.status import ExitStatus
from vm.results.summary import Summary

# Where a --prebuilt tarball is unpacked for the run, and its $TMPDIR
# (both removed at its end).
UNPACKED = "prebuilt"
TEMPORARIES = "tmp"


@dataclass
class Suite:
    options: Options
    run_dir: Path
    progress: Progress
    cache: Cache = field(default_factory=Cache.default)
    # The transport for each boot: vng and QEMU; a unit test's fake stands in.
    new_guest: Callable[[GuestSpec], Guest] = Guest
    summary: Summary = field(default_factory=Summary)
    _built: build.Built | None = None
    # The bzImage this run boots: copied out of the shared build tree under
    # the cache lock, so that another run's build cannot replace it.
    _image: Path | None = None
    _checks: checks.CheckPrograms | None = None
    _guest: Guest | None = None
    _failure: HarnessError | None = None
    _boot_failure: HarnessError | None = None
    collect_error_shown: bool = False
    _listing: checks.CheckPrograms | None = None
    _shown: set[int] = field(default_factory=set)
    # What went wrong, as exit statuses (vm/results/routing.py), and the first message of each.
    causes: dict[ExitStatus, str] = field(default_factory=dict)
    results: list[records.CheckResult] = field(default_factory=list)
    # The kernel's own selftests (vm/kselftest/): whether any is selected,
    # the base kernel's results, what this run's programs printed.
    kselftest_selected: bool = False
    _source: source.KernelSource | None = None
    _targets: tuple[str, ...] | None = None
    _base: base.BaseResults | None = None
    _base_failure: HarnessError | None = None
    _base_record: Path | None = None  # being made by another worker
    _tests: install.Install | None = None
    kselftest_outcomes: dict[str, outcome.ProgramOutcome] = field(default_factory=dict)
    # --kernel-build: the developer's build as found (vm/kernel/devbuild.py).
    _kernel_build: devbuild.KernelBuild | None = None

    def note(self, error: BaseException) -> None:
        """Remember what an error says about the run, for its exit status."""
        lines = str(error).strip().splitlines()
        self.causes.setdefault(routing.cause(error),
                               f"{type(error).__name__}: {lines[0] if lines else ''}")

    def _timed(self, phase: str, start: float) -> None:
        self.summary.timings[phase] = self.summary.timings.get(phase, 0.0) + (
            time.monotonic() - start)

    def kernel(self) -> build.Built:
        """The built kernel: source -> series -> config -> build, each cached."""
        if self._failure is not None:
            raise self._failure
        if self._built is None and (self.options.prebuilt or self.options.kernel_build):
            # A kernel built elsewhere: an export, or the developer's own build.
            try:
                if self.options.prebuilt is not None:
                    self._load_prebuilt(self.options.prebuilt)
                elif self.options.kernel_build is not None:
                    self._load_kernel_build(self.options.kernel_build)
            except HarnessError as e:
                self._failure = e
                self.note(e)
                raise
        if self._built is None:
            try:
                fragments = self.fragments()
                # Before this run's build: the base is built in the same tree.
                self._kselftest_base(fragments)
                with locked(self.cache, self.progress):
                    self._built = self._prepare_kernel(fragments)
                    self._image = self._keep_image(self._built)
                    record = self.options.kselftest_base_record
                    if record is not None:
                        # The base's own run: its tests against its headers,
                        # before another run's build can replace them; then
                        # the tree is free (vm/kselftest/base.py).
                        self._tests = self._install_tests(self._built)
                        marker = base.built_marker(record)
                        marker.parent.mkdir(parents=True, exist_ok=True)
                        marker.write_text(self._built.identity + "\n")
            except HarnessError as e:
                # Every test that needs the kernel fails with the same cause.
                self._failure = e
                self.note(e)
                raise
        return self._built

    def _prepare_kernel(self, fragments: tuple[str, ...]) -> build.Built:
        start = time.monotonic()
        opts = self.options
        if opts.no_build:
            built = last_build(opts.kernel_tree, self.cache, self.progress)
            self.summary.how = "--no-build: the last build, as it is"
        else:
            chosen = series.load(opts.series_spec)
            request = KernelRequest(opts.kernel_tree, chosen, fragments)
            built = build_kernel(request, self.cache, self.run_dir / "build.log", self.progress)
            self.summary.how = "built by this run (or unchanged since the last)"
        # What is reported is the record of the build that boots, never the options.
        self.summary.set_build(built.record)
        shutil.copyfile(built.configured.config_path, self.run_dir / "kernel.config")
        self._timed("build", start)
        return built

    def kernel_source(self) -> source.KernelSource:
        """The pristine source, prepared once (not with --prebuilt)."""
        if self._source is None:
            with locked(self.cache, self.progress):
                self._source = source.resolve(self.options.kernel_tree, self.cache, self.progress)
        return self._source

    def kselftest_targets(self) -> tuple[str, ...]:
        """The selftest targets of this run: the series' own and --kselftest's."""
        if self._targets is None:
            chosen = series.load(self.options.series_spec)
            self._targets = targets.chosen(chosen, self.options.kselftest)
            self.summary.kselftest["targets"] = " ".join(self._targets) or "none"
        return self._targets

    def kselftest_programs(self) -> dict[str, tuple[str, ...]]:
        """Collection: each target's programs, from the base's tests; no kernel is built."""
        chosen = self.kselftest_targets()
        if self.options.kernel_build is not None:
            self.summary.kselftest["targets"] = devbuild.NO_KSELFTEST
            return {}
        if not chosen or self.options.prebuilt is not None or self.options.no_build:
            return {}
        src = self.kernel_source()
        with locked(self.cache, self.progress):
            return kselftest_listing.programs(src.repo, src.base, chosen, self.cache,
                                              self.progress)

    def fragments(self) -> tuple[str, ...]:
        """The run's config fragments: the options', then the selected
        selftest targets' own `config` files."""
        opts = self.options
        if not self.kselftest_selected or opts.no_build or opts.prebuilt is not None:
            return opts.kconfigs
        src = self.kernel_source()
        added = tuple(str(p) for p in install.config_fragments(
            src.repo, src.base, self.kselftest_targets(), self.cache))
        self.summary.kselftest["config added"] = ", ".join(added) or "none (no target has one)"
        return opts.kconfigs + tuple(f for f in added if f not in opts.kconfigs)

    def _kselftest_base(self, fragments: tuple[str, ...]) -> None:
        """The base kernel's results for the selected targets: cached, or run now."""
        opts = self.options
        if (not self.kselftest_selected or opts.no_build or opts.prebuilt is not None
                or opts.kselftest_base_record is not None
                or series.load(opts.series_spec) is series.NO_SERIES):
            return
        try:
            chosen = self.kselftest_targets()
            src = self.kernel_source()
            config_key = build.wanted_key(kconfig.merged(kconfig.load_fragments(fragments)))
            tests = install.tests_key(src.repo, src.base, chosen)
            record = base.record_path(self.cache, base.key(src.base, config_key, tests, opts))
            # Another worker runs the base: wait until its kernel is built
            # (building before would see the base's build replace this one in
            # the shared tree), then build while its guest runs.
            if base.load(record) is None and base.wait_for_base_build(record, self.progress):
                self._base_record = record
                self.summary.kselftest["base"] = "run by another worker"
                return
            self._base = self._base_results(record, chosen)
        except HarnessError as e:
            # The series' own checks do not depend on it: only the selftests fail.
            self._base_failure = e

    def _base_results(self, record: Path, chosen: tuple[str, ...]) -> base.BaseResults:
        """From the cache, or run now. Under a lock of their own (the base's
        run takes the cache's): of several workers, one runs the base."""
        with locked(self.cache, self.progress, base.lock_path(record)):
            found = base.load(record)
            if found is None:
                start = time.monotonic()
                found = base.run(record, chosen, self.options, self.run_dir / "base",
                                 self.run_dir / "base.log", self.progress)
                self._timed("kselftest base", start)
                self.summary.kselftest["base"] = f"run now: {found.run}"
            else:
                self.summary.kselftest["base"] = (f"from the cache ({record.name}), "
                                                  f"made by {found.run}")
        return found

    def _base_made_elsewhere(self, record: Path) -> base.BaseResults:
        """The results of the base run another worker started (this run built
        meanwhile). Never run again from here: that would build the base in
        the shared tree under the other workers' series build."""
        with locked(self.cache, self.progress, base.lock_path(record)):
            found = base.load(record)
        if found is None:
            raise HarnessError(f"the base kernel's run by another worker left no results in "
                               f"{record} (its log: base.log in that worker's folder, "
                               f"{self.run_dir.parent}/<worker>/)")
        self.summary.kselftest["base"] = f"run by another worker: {found.run}"
        return found

    def run_kselftest(self, target: str, program: str) -> outcome.ProgramOutcome:
        """One selftest program on this run's kernel, the kselftest way."""
        self.kernel()
        if self.options.kselftest_base_record is not None:
            assert self._tests is not None  # installed with the build
            tests = self._tests.path
        else:
            tests = self.kselftest_base_results().install
        command = outcome.command(target, program, str(tests), int(self.options.check_timeout))
        # The runner's own timeout ends a hung program; the guest's outlasts it.
        result = self.run_command(command, self.options.check_timeout + 120,
                                  judge=lambda status, output: (Verdict.PASSED, ""))
        # Its verdict against the base is the item's; the log says it ran.
        self._keep_output(f"kselftest.{target}.{program}", result,
                          "ran" if result.verdict is Verdict.PASSED else None)
        if result.verdict is Verdict.FAILED:
            raise CheckFailed(result.message)  # a crash or a kernel report
        found = outcome.parse(result.output, target, program)
        self.kselftest_outcomes[f"{target}:{program}"] = found
        return found

    def _install_tests(self, built: build.Built) -> install.Install:
        src = built.tree
        key = install.tests_key(src.path, src.commit, self.kselftest_targets())
        return install.install(src.path, key, self.kselftest_targets(), built.headers,
                               self.cache, self.progress)

    def kselftest_base_results(self) -> base.BaseResults:
        if self._base_failure is not None:
            raise self._base_failure
        if self._base is None and self._base_record is not None:
            try:
                self._base = self._base_made_elsewhere(self._base_record)
            except HarnessError as e:
                self._base_failure = e
                raise
        if self._base is None:
            raise HarnessError("no base kernel results for the selftests (--no-build, "
                               "--prebuilt and --series none have none)")
        return self._base

    def _keep_image(self, built: build.Built) -> Path:
        kept = self.run_dir / TEMPORARIES / f"bzImage-{built.identity}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built.bzimage, kept)
        return kept

    @property
    def boot_image(self) -> Path:
        """The bzImage the next boot takes; its identity is checked before it boots."""
        return self._image or self.kernel().bzimage

    def shown(self, error: BaseException) -> bool:
        """Whether @error was already reported in full; from now on it has been."""
        seen = id(error) in self._shown
        self._shown.add(id(error))
        return seen

    def listing_programs(self) -> checks.CheckPrograms:
        """Binaries to list the checks with; no kernel is built for them."""
        if self._listing is None and self.options.prebuilt is not None:
            # Its own programs: listing them compiles nothing.
            self.kernel()
            self._listing = self._checks
        if self._listing is None:
            tree = self.options.kernel_tree or (devbuild.source_tree(self.options.kernel_build)
                                                if self.options.kernel_build else None)
            try:
                harness = listing.harness_dir(tree, self.cache, self.progress)
                self._listing = listing.compile_for_listing(harness, self.cache, self.progress)
            except HarnessError as e:
                # Not the revision's fault: the suite's checks or the host's tools.
                error = HarnessError(f"cannot list the guest checks: {e}")
                self.note(error)
                raise error from e
        return self._listing

    def _load_prebuilt(self, path: Path) -> None:
        """An exported build: no source, no compile, no cache."""
        start = time.monotonic()
        self._built, self._checks = prebuilt.load(path, self.run_dir / UNPACKED)
        self.summary.how = f"--prebuilt {path}"
        self.summary.set_build(self._built.record)
        shutil.copyfile(self._built.configured.config_path, self.run_dir / "kernel.config")
        self.progress(f"build: --prebuilt, build {self._built.identity} "
                      f"({self._built.record.series}) from {path}")
        self._timed("build", start)

    def _load_kernel_build(self, folder: Path) -> None:
        """The developer's build, as it is: nothing built, applied or configured."""
        start = time.monotonic()
        with locked(self.cache, self.progress):
            found = devbuild.load(folder, self.options.kconfigs, self.cache,
                                  self.run_dir / TEMPORARIES, self.progress)
        self._kernel_build, self._built, self._image = found, found.built, found.image
        self.summary.how = devbuild.HOW
        self.summary.set_build(found.built.record)
        self.summary.kernel_build = found.report()
        self.summary.kselftest.setdefault("targets", devbuild.NO_KSELFTEST)
        shutil.copyfile(found.config, self.run_dir / "kernel.config")
        self._timed("build", start)

    def check_programs(self) -> checks.CheckPrograms:
        built = self.kernel()  # a prebuilt one comes with its programs
        if self._checks is None:
            # Under the lock: another run may be compiling into the same folder.
            try:
                with locked(self.cache, self.progress):
                    self._checks = checks.compile_all(built, self.progress)
            except HarnessError as e:
                self.note(e)
                raise
        return self._checks

    def guest(self) -> Guest:
        """The session's guest, booted on first use and again after a crash.
        A boot that fails is not noted here: it reaches the exit status
        through the tests it fails (conftest.py), and a harness test that
        expects it (a stale image refused) must not fail the run."""
        if self._guest is not None and self._guest.alive:
            return self._guest
        if self._boot_failure is not None:
            raise self._boot_failure
        built = self.kernel()
        chosen = accel.choose(self.options.accel)
        self.summary.accel = chosen
        shared = self.run_dir / "guest"
        image = self.boot_image
        spec = GuestSpec(bzimage=image, accel=chosen,
                         memory=self.options.guest_memory, cpus=self.options.guest_cpus,
                         shared_dir=shared, console_log=self.run_dir / "console.log")
        try:
            if self._kernel_build is not None:
                self._kernel_build.verify_image(image)
            else:
                identity.verify_image(image, built.identity)
        except identity.StaleKernelError as e:
            self._boot_failure = e
            raise
        reboot = self._guest is not None
        self.progress(("guest: rebooting" if reboot else "guest: booting")
                      + f" {built.bzimage.name} with {chosen.upper()}")
        start = time.monotonic()
        self._save_kernel_log()
        self._guest = self.new_guest(spec)
        try:
            seconds = self._guest.boot()
        except HarnessError as e:
            # A kernel that does not boot fails every guest test the same way.
            if self._kernel_build is not None:
                e = self._kernel_build.explain_boot_failure(e)
            self._boot_failure = e
            raise
        self._timed("boot", start)
        self._verify_booted(built)
        self.progress(f"guest: shell after {seconds:.1f} s")
        return self._guest

    def _verify_booted(self, built: build.Built) -> None:
        """No check runs on a guest whose kernel is not the build's."""
        assert self._guest is not None
        result = self._guest.run("cat /proc/version")
        try:
            if self._kernel_build is not None:
                self.summary.booted = self._kernel_build.verify_booted(result.output)
            else:
                identity.verify_booted(result.output, built.identity, built.bzimage)
                self.summary.booted = identity.from_proc_version(result.output)
        except HarnessError as e:
            self._guest.kill()
            self._boot_failure = e
            raise
        self.summary.proc_version = result.output.strip()

    def adopt(self, built: build.Built) -> None:
        """Take a newer build of the same inputs (a harness test rebuilt the
        session's tree): later boots must carry its identity."""
        self._built = built
        self._image = self._keep_image(built)
        self._boot_failure = None
        self.summary.set_build(built.record)

    def reboot(self) -> None:
        """Stop the guest: the next command boots the current build."""
        if self._guest is not None and self._guest.alive:
            self._guest.kill()

    def run_command(self, command: str, timeout: float | None = None,
                    judge: Judge | None = None) -> Outcome:
        """Run a command in the guest and judge it, kernel health included."""
        outcome = run_command(self.guest(), command,
                              timeout or self.options.check_timeout, judge)
        self._after(outcome)
        return outcome

    def run_check(self, binary: Path, name: str) -> Outcome:
        guest = self.guest()
        if self._kernel_build is not None:
            # A developer's .config may lack what a check needs: a skip, not a failure.
            why = self._kernel_build.skip_reason(f"{binary.stem}.c", name)
            if why is not None:
                return Outcome(Verdict.SKIPPED, why)
        outcome = run_check(guest, binary, name, self.options.check_timeout)
        self._keep_output(f"{binary.stem}.{name}", outcome)
        self._after(outcome)
        return outcome

    def _keep_output(self, label: str, outcome: Outcome, state: str | None = None) -> None:
        """Every check's KTAP output, passed ones too: their TH_LOG figures
        (memory before and after, counts) are part of the record. A check
        run again (on another build) is appended, each run naming the
        kernel it ran on."""
        out_dir = self.run_dir / "checks"
        out_dir.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]", "_", label)
        with open(out_dir / f"{name}.log", "a") as log:
            state = state or outcome.verdict.name.lower()
            log.write(f"# {label}: {state} in {outcome.seconds:.1f} s "
                      f"on build {self.summary.booted}\n" + outcome.output)

    def _after(self, outcome: Outcome) -> None:
        self.summary.timings["checks"] = self.summary.timings.get("checks", 0.0) + outcome.seconds
        # After an Oops or BUG the kernel may hold locks or leak state: the
        # next test gets a fresh guest rather than a tainted one.
        if outcome.needs_reboot and self._guest is not None and self._guest.alive:
            self.progress("guest: kernel crashed in that test; rebooting for the next")
            self._guest.kill()

    def _save_kernel_log(self) -> None:
        """Keep the whole kernel log of every boot in dmesg.log."""
        if self._guest is None:
            return
        with open(self.run_dir / "dmesg.log", "a") as out:
            out.write(self._guest.full_kernel_log() + "\n")

    def finish(self, exit_status: int | None = None) -> None:
        """Stop the guest; write the results folder's summary."""
        if self._guest is not None:
            self._guest.shutdown()
            self._save_kernel_log()
        # An unpacked --prebuilt tarball: the tarball itself is the record.
        shutil.rmtree(self.run_dir / UNPACKED, ignore_errors=True)
        shutil.rmtree(self.run_dir / TEMPORARIES, ignore_errors=True)
        record = self.options.kselftest_base_record
        if record is not None and self._tests is not None and self.kselftest_outcomes:
            base.save(record, self._tests.path, self.kselftest_outcomes, self.run_dir)
        if exit_status is not None:
            self.summary.exit_status = exit_status
            self.summary.exit_reason = self.causes.get(ExitStatus(exit_status), "") if (
                exit_status in ExitStatus._value2member_map_) else ""
        self.summary.write(self.run_dir)
        self.write_results()

    def write_results(self) -> None:
        """checks.json (what shards merge from), results.ktap, kcidb.json."""
        records.save(self.results, self.run_dir / records.CHECKS_FILE)
        (self.run_dir / ktap.KTAP_FILE).write_text(ktap.render(self.results))
        record = self.summary.record
        doc = kcidb.document(record, series.load(self.options.series_spec),
                             self.summary.provenance(), self.results, self.causes)
        (self.run_dir / kcidb.KCIDB_FILE).write_text(json.dumps(doc, indent=1) + "\n")

