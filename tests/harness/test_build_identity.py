"""The kernel that boots is the kernel just built, across incremental builds.

Once, ccache put an older kernel into a fresh bzImage: after building the
series, then the series plus a one-constant edit, then the series again,
the guest ran the edited kernel. This test makes that sequence through the
suite's own build and boot: each build boots, must report its own
identity, and must behave as its source says (the edit makes one check
fail; the series makes it pass again).
"""

import pytest

from vm import build, kconfig, series
from vm.cachelock import locked
from vm.errors import SeriesError
from vm.paths import GUEST_CHECKS_DIR, REPO_ROOT
from vm.runner import Verdict
from vm.suite import Suite

pytestmark = pytest.mark.guest

ONE_CONSTANT_EDIT = REPO_ROOT / "tests" / "harness" / "data" / "default-close-from-fd-4.patch"
# A check that tells the two kernels apart: fd 3 survives only in the edit.
PROGRAM, CHECK = "actions", "act.default_closes_fds"


def build_and_boot(suite: Suite, chosen: series.Series, label: str) -> build.Built:
    """Build through the suite's cache, then boot it as the session's kernel.
    suite.guest() refuses an image or a guest that is not this build."""
    with locked(suite.cache, suite.progress):
        built = build.build_series(
            suite.kernel().tree.source, chosen,
            kconfig.load_fragments(suite.options.kconfigs),
            suite.run_dir / f"build-{label}.log", suite.progress,
            ccache_dir=suite.cache / "ccache")
    suite.adopt(built)
    suite.reboot()
    suite.guest()
    return built


def test_back_and_forth_boots_what_was_built(suite: Suite) -> None:
    first = suite.kernel()
    if suite.options.no_build or not first.tree.series.patches:
        pytest.skip("needs a series to build (not --no-build, not --series none)")
    binary = suite.check_binaries().binary(GUEST_CHECKS_DIR / f"{PROGRAM}.c")
    before = suite.run_check(binary, CHECK)
    if before.verdict is not Verdict.PASSED:
        pytest.skip(f"{CHECK} does not pass on the series itself: {before.message}")
    edited = series.with_patch(first.tree.series, ONE_CONSTANT_EDIT)
    try:
        series.apply(first.tree.source, edited, suite.progress)
    except SeriesError as e:
        pytest.skip(f"{ONE_CONSTANT_EDIT.name} does not apply on this series: {e}")

    seen = [first.identity]
    for label, chosen, verdict in (("edited", edited, Verdict.FAILED),
                                   ("series-again", first.tree.series, Verdict.PASSED)):
        built = build_and_boot(suite, chosen, label)
        assert built.identity not in seen, f"{label}: identity {built.identity} reused"
        seen.append(built.identity)
        assert suite.summary.booted == built.identity
        outcome = suite.run_check(binary, CHECK)
        assert outcome.verdict is verdict, (
            f"{label} (build {built.identity}): {CHECK} {outcome.verdict.value}, "
            f"expected {verdict.value}:\n{outcome.message}")
