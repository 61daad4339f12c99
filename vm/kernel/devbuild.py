"""A kernel the developer built (--kernel-build DIR), booted as it is.

DIR is make's output folder: the tree itself after `make` or `vng -b` in
it, or the O= folder, whose `source` link (kbuild makes it) leads to the
tree. Nothing is configured, applied or built, and nothing is written in
DIR or in the tree: its bzImage and .config are copied into the run's
folder before they are read (a rebuild during the run cannot swap them),
its UAPI headers are installed into the cache (vm/kernel/headers.py), and
the tree is only read (its Kconfig files, the kselftest harness).

What the suite did not decide it checks. The .config against the run's
fragments: each wanted entry it lacks is named, and the checks that need
it are skipped with that reason (vm/kernel/kconfig_gaps.py). The image
has no identity of the suite's: its whole version string must be one in
the bzImage (setup header and compressed kernel) and be what the guest's
/proc/version says.
"""

import shutil
from dataclasses import dataclass
from pathlib import Path

from vm.cache import Cache
from vm.errors import HarnessError
from vm.kernel import headers, identity, kconfig, kconfig_explain
from vm.kernel.apply import AppliedTree
from vm.kernel.build import Built, Configured, config_hash
from vm.kernel.git import run_git
from vm.kernel.identity import BuildRecord, KernelVersion, StaleKernelError
from vm.kernel.kconfig_gaps import Gap, gaps, skip_reason
from vm.kernel.series import Series
from vm.kernel.source import KernelSource
from vm.paths import digest
from vm.progress import Progress

BZIMAGE = Path("arch") / "x86" / "boot" / "bzImage"
HOW = "--kernel-build: built by the developer, used as it is"
SERIES = "as in the developer's tree"
# The kernel's own selftests are judged against the base kernel built the
# same way (vm/kselftest/): a build the suite did not make has none.
NO_KSELFTEST = ("not run with --kernel-build: the selftests are judged against a base kernel "
                "the suite builds with the same config, which a developer's build does not have")


def source_tree(folder: Path) -> Path | None:
    """The tree @folder was built from: its `source` link (an O= build) or itself."""
    link = folder / "source"
    if link.is_symlink() or link.is_dir():
        return link.resolve() if (link / "Makefile").is_file() else None
    if (folder / "Makefile").is_file() and (folder / "Kconfig").is_file():
        return folder.resolve()
    return None


def problem(folder: Path) -> str | None:
    """What keeps @folder from being booted as a developer's build, in a few words."""
    if not folder.is_dir():
        return "no such directory"
    if not (folder / ".config").is_file():
        return "no .config in it (not a kernel build folder)"
    if not (folder / BZIMAGE).is_file():
        return f"no {BZIMAGE} in it (not built yet: make bzImage)"
    if source_tree(folder) is None:
        return ("no kernel source: no `source` link to the tree (an O= build's) "
                "and no Makefile and Kconfig (an in-tree build's)")
    return None


@dataclass(frozen=True)
class KernelBuild:
    folder: Path
    source: Path
    built: Built
    image: Path  # the bzImage, kept in the run's folder
    config: Path  # its .config, kept there too
    version: KernelVersion
    compared: tuple[str, ...]  # the fragments its .config is compared with
    gaps: tuple[Gap, ...]
    explained_by: str  # where the reasons of the gaps come from

    def skip_reason(self, program: str, check: str) -> str | None:
        """Why tests/guest/@program's check @check is skipped, if it is."""
        return skip_reason(list(self.gaps), program, check)

    def verify_image(self, image: Path) -> None:
        """Before a boot: the image is one build, the one the run started with."""
        found = identity.image_version(image)
        if not found.same_build(self.version):
            raise StaleKernelError(
                f"{image} is not the developer's build this run started with "
                f"({self.version.banner!r}): it says {found.banner!r}; refusing to boot it")

    def verify_booted(self, proc_version: str) -> str:
        """After a boot: the guest runs this build; its identity for the summary."""
        identity.verify_booted_version(proc_version, self.version, self.folder / BZIMAGE)
        return self.version.identity

    @property
    def boot_gaps(self) -> list[Gap]:
        return [g for g in self.gaps if g.need.boot]

    def explain_boot_failure(self, error: HarnessError) -> HarnessError:
        """A boot failure names what the guest needs to boot and the .config lacks."""
        if self.boot_gaps:
            error.args = (f"{self.folder}/.config lacks what the guest needs to boot "
                          f"(kconfigs/base.config): {'; '.join(map(str, self.boot_gaps))}\n"
                          + str(error.args[0] if error.args else error),)
        return error

    def report(self) -> dict[str, object]:
        """For the summary: the build, and the .config's gaps by what they stop."""
        for_checks = [g for g in self.gaps if g.need.checks]
        return {
            "folder": str(self.folder), "source": str(self.source),
            "version": self.version.banner, "config_hash": self.built.record.config_hash,
            "compared with": "kconfigs " + ", ".join(self.compared),
            "missing for checks (skipped)": [f"{g} -> {g.need}" for g in for_checks],
            "missing for boot": [str(g) for g in self.boot_gaps],
            "differ, no check needs them": [f"{g.wanted} (has {g.have})" for g in self.gaps
                                            if not g.need.checks and not g.need.boot],
            **({"reasons from": self.explained_by} if self.gaps else {}),
        }


def _head(tree: Path) -> str:
    """The tree's commit, if it is a git tree (uncommitted changes are in the build too)."""
    if not (tree / ".git").exists():
        return ""
    proc = run_git(tree, "rev-parse", "HEAD", check=False, read_only=True)
    return proc.stdout.strip() if proc.returncode == 0 else ""


def _explain(source: Path, progress: Progress) -> tuple[dict[str, str] | None, str]:
    """The tree's Kconfig files, read only; or why the gaps go unexplained."""
    if not (source / "Kconfig").is_file():
        return None, f"not explained: no Kconfig in {source}"
    progress(f"kernel-build: reading the Kconfig files of {source} to say why")
    return kconfig_explain.kconfig_files(source), f"the Kconfig files of {source}"


def load(folder: Path, fragment_names: tuple[str, ...], cache: Cache, keep: Path,
         progress: Progress) -> KernelBuild:
    """The developer's build in @folder: its image and .config kept in @keep,
    checked, compared with the fragments, its headers in the cache. The
    caller holds the cache's lock."""
    folder = folder.resolve()
    why = problem(folder)
    source = source_tree(folder)
    if why is not None or source is None:
        raise HarnessError(f"--kernel-build {folder}: {why}")
    keep.mkdir(parents=True, exist_ok=True)
    image, config = keep / "bzImage-kernel-build", keep / "kernel-build.config"
    shutil.copyfile(folder / BZIMAGE, image)
    shutil.copyfile(folder / ".config", config)
    version = identity.image_version(image)
    kind = "in-tree build" if source == folder else f"O= build of {source}"
    progress(f"kernel-build: {folder} ({kind}, by the developer): {version.banner}")

    fragments = kconfig.load_fragments(fragment_names)
    final = kconfig.as_dict(kconfig.parse(config.read_text(errors="replace"), str(config)))
    found = gaps(fragments, final, None)  # first without reasons: reading the tree takes seconds
    explained_by = "-"
    if found:
        files, explained_by = _explain(source, progress)
        found = gaps(fragments, final, files, why_not=explained_by)
    _tell(found, folder, fragment_names, progress)

    hdrs = headers.install(source, cache, progress)
    record = BuildRecord(
        identity=version.identity, inputs=digest(version.banner, config_hash(config)),
        source=f"{folder} (built by the developer)", series=SERIES, series_key="",
        config_key="as-is", kernel_version=version.release, kernel_origin=str(folder),
        base=_head(source), config_hash=config_hash(config), version_string=version.banner)
    tree = AppliedTree(KernelSource(source, record.base, version.release, str(folder)),
                       Series(SERIES, "", ()), record.base)
    built = Built(tree, Configured(hdrs, "as-is"), record)
    return KernelBuild(folder, source, built, image, config, version, fragment_names,
                       tuple(found), explained_by)


def _tell(found: list[Gap], folder: Path, names: tuple[str, ...], progress: Progress) -> None:
    """Each gap on the terminal, by what it stops."""
    compared = f"kconfigs {', '.join(names)}"
    checks = [g for g in found if g.need.checks]
    boot = [g for g in found if g.need.boot]
    rest = [g for g in found if not g.need.checks and not g.need.boot]
    if not checks and not boot:
        progress(f"kernel-build: {folder}/.config has what the checks and the guest need "
                 f"({compared})")
    if checks:
        progress(f"kernel-build: {folder}/.config lacks {len(checks)} option(s) of {compared} "
                 "that checks need; those checks are skipped:")
        for g in checks:
            progress(f"  {g} -> skips {g.need.brief()}")
    if boot:
        progress(f"kernel-build: {folder}/.config lacks {len(boot)} option(s) the guest needs "
                 "to boot (kconfigs/base.config); a boot failure names them:")
        for g in boot:
            progress(f"  {g}")
    if rest:
        progress(f"kernel-build: {len(rest)} option(s) differ from {compared} where no check "
                 "needs them (the suite's own build is smaller): "
                 + ", ".join(g.wanted.name for g in rest))
