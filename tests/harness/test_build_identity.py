"""The kernel that boots is the kernel just built, across incremental builds.

Once, ccache put an older kernel into a fresh bzImage: after building the
series, then the series plus a one-constant edit, then the series again,
the guest ran the edited kernel. These tests make that sequence through
the suite's own build and boot: each build boots, must report its own
identity, and must behave as its source says (the edit makes one check
fail; the series makes it pass again). Then a bzImage of another build,
copied over the current one, must be refused before it boots.
"""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from vm.cache import locked
from vm.errors import SeriesError
from vm.guest.runner import Outcome, Verdict
from vm.kernel import apply, build, series
from vm.kernel.identity import StaleKernelError
from vm.kernel.request import KernelRequest, build_kernel
from vm.paths import GUEST_CHECKS_DIR, REPO_ROOT
from vm.suite import Suite

pytestmark = pytest.mark.guest

ONE_CONSTANT_EDIT = REPO_ROOT / "tests" / "harness" / "data" / "default-close-from-fd-4.patch"
# A check that tells the two kernels apart: fd 3 survives only in the edit.
PROGRAM, CHECK = "actions", "act.default_closes_fds"


@dataclass(frozen=True)
class Step:
    label: str
    built: build.Built
    booted: str  # identity the guest reported
    outcome: Outcome  # of CHECK on that guest
    image: Path  # a copy of the step's bzImage


def build_and_boot(suite: Suite, chosen: series.Series, label: str) -> build.Built:
    """Build through the suite's cache, then boot it as the session's kernel.
    suite.guest() refuses an image or a guest that is not this build."""
    with locked(suite.cache, suite.progress):
        request = KernelRequest(suite.options.kernel_tree, chosen, suite.options.kconfigs)
        built = build_kernel(request, suite.cache, suite.run_dir / f"build-{label}.log",
                             suite.progress)
    suite.adopt(built)
    suite.reboot()
    suite.guest()
    return built


@pytest.fixture(scope="module")
def back_and_forth(suite: Suite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        list[Step]]:
    first = suite.kernel()
    if suite.options.no_build or not first.tree.series.patches:
        pytest.skip("needs a series to build (not --no-build, not --series none)")
    binary = suite.check_programs().binary(GUEST_CHECKS_DIR / f"{PROGRAM}.c")
    before = suite.run_check(binary, CHECK)
    if before.verdict is not Verdict.PASSED:
        pytest.skip(f"{CHECK} does not pass on the series itself: {before.message}")
    edited = series.with_patch(first.tree.series, ONE_CONSTANT_EDIT)
    try:
        apply.apply(first.tree.source, edited, suite.progress)
    except SeriesError as e:
        pytest.skip(f"{ONE_CONSTANT_EDIT.name} does not apply on this series: {e}")
    images = tmp_path_factory.mktemp("images")
    steps = []
    for label, chosen in (("edited", edited), ("series-again", first.tree.series)):
        built = build_and_boot(suite, chosen, label)
        image = images / label
        shutil.copyfile(built.bzimage, image)
        steps.append(Step(label, built, suite.summary.booted, suite.run_check(binary, CHECK),
                          image))
    yield steps


def test_each_build_boots_with_its_own_identity(back_and_forth: list[Step]) -> None:
    identities = [s.built.identity for s in back_and_forth]
    assert len(set(identities)) == len(identities), identities
    for step in back_and_forth:
        assert step.booted == step.built.identity, step.label


def test_each_build_behaves_as_its_source(back_and_forth: list[Step]) -> None:
    expected = {"edited": Verdict.FAILED, "series-again": Verdict.PASSED}
    for step in back_and_forth:
        assert step.outcome.verdict is expected[step.label], (
            f"{step.label} (build {step.built.identity}): {CHECK} "
            f"{step.outcome.verdict.value}, expected {expected[step.label].value}:\n"
            f"{step.outcome.message}")


def test_bzimage_of_another_build_is_refused(suite: Suite, back_and_forth: list[Step],
                                             tmp_path: Path) -> None:
    current = suite.kernel()
    other = back_and_forth[0]
    assert other.built.identity != current.identity
    good = tmp_path / "bzImage"
    image = suite.boot_image
    shutil.copyfile(image, good)
    shutil.copyfile(other.image, image)
    try:
        suite.reboot()
        with pytest.raises(StaleKernelError) as e:
            suite.guest()
        assert current.identity in str(e.value)
        assert other.built.identity in str(e.value)
    finally:
        shutil.copyfile(good, image)
        suite.adopt(current)
    assert suite.run_command("true").verdict is Verdict.PASSED
