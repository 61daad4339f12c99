"""Two developers' .config files, recorded (tests/unit/data/kernel-build/:
each one's lines for every option kconfigs/ names), against the fragments:
what each lacks, and which checks that skips."""


from vm.kernel import kconfig
from vm.kernel.kconfig_gaps import gaps, skip_reason
from vm.options import DEFAULT_FRAGMENTS
from vm.paths import KCONFIGS_DIR

from ..conftest import DATA

RECORDED = DATA / "kernel-build"


def final(name: str) -> dict[str, str]:
    path = RECORDED / f"{name}.config"
    return kconfig.as_dict(kconfig.parse(path.read_text(), str(path)))


def test_a_tree_built_by_hand_with_the_fragments_merged_lacks_nothing() -> None:
    # make O=out tinyconfig; merge_config.sh -m of the fragments; olddefconfig.
    fragments = kconfig.load_fragments((*DEFAULT_FRAGMENTS, "lkdtm"))
    assert gaps(fragments, final("make-O"), None) == []


def test_vng_build_lacks_what_its_own_config_does_not_have() -> None:
    found = gaps(kconfig.load_fragments(DEFAULT_FRAGMENTS), final("vng-b"), None)
    stopping = [g.wanted.name.removeprefix("CONFIG_") for g in found if g.need.checks]
    assert stopping == ["USER_NS", "PROC_CHILDREN", "SECURITY", "SECURITY_PATH",
                        "SECURITY_NETWORK", "SECURITY_LANDLOCK", "SECURITY_APPARMOR", "LSM",
                        "AUDIT", "AUDITSYSCALL", "FANOTIFY", "FANOTIFY_ACCESS_PERMISSIONS"]
    # virtme-ng's config boots its guest: nothing of what base says a boot needs is missing.
    assert [g for g in found if g.need.boot] == []
    # The rest only makes the suite's own build smaller: named, skips nothing.
    assert {"CONFIG_NR_CPUS", "CONFIG_KERNEL_LZ4", "CONFIG_MODULES"} <= {
        g.wanted.name for g in found if not g.need.checks}

    audit = skip_reason(found, "audit.c", "exec_rule.path.exe")
    assert audit is not None and "CONFIG_AUDIT=y" in audit and "CONFIG_AUDITSYSCALL=y" in audit
    lsm = skip_reason(found, "lsm.c", "apparmor.transition_as_execve")
    assert lsm is not None and "CONFIG_SECURITY_APPARMOR=y" in lsm
    assert "CONFIG_SECURITY_LANDLOCK" not in lsm
    children = skip_reason(found, "exec_regress.c", "exec_nproc.spawn.over_limit_then_below")
    assert children is not None and "CONFIG_PROC_CHILDREN=y" in children
    # The first run on this build failed these two kinds instead of skipping
    # them: chattr's checks prove no child through a helper, and the list of
    # active security modules comes with CONFIG_SECURITY.
    chattr = skip_reason(found, "identity.c", "key.execfd.chattr_immutable")
    assert chattr is not None and "CONFIG_PROC_CHILDREN=y" in chattr
    lsms = skip_reason(found, "identity.c", "xattrless.path.create_under_labelling_lsm")
    assert lsms is not None and "CONFIG_SECURITY=y" in lsms
    # What vng's config has runs: the proc connector, the tracepoint, the
    # checks that need no proof of "no child".
    for program, check in (("observe.c", "proc_connector.path.exec_event_per_spawn"),
                           ("observe.c", "tracepoint.execfd.sched_process_exec_per_spawn"),
                           ("exec_regress.c", "exec_open.execve.regular_file_runs"),
                           ("abi_spawn.c", "global.argv_empty"),
                           ("smoke.c", "global.create_and_spawn_true")):
        assert skip_reason(found, program, check) is None, (program, check)


def test_the_data_names_every_option_of_kconfigs() -> None:
    names = {e.name for p in KCONFIGS_DIR.glob("*.config")
             for e in kconfig.load_fragments([p.stem])[0].entries}
    for recorded in ("vng-b", "make-O"):
        assert set(final(recorded)) == names
