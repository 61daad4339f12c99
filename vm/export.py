"""Export a finished build, to test it elsewhere with --prebuilt.

    python3 -m vm.export [--build] [--series DIR|MBOX|none] [--kconfig NAME ...]
                         [--kernel-tree PATH] DEST        (a folder, or DEST.tar.gz)

Without --build: the last finished build of that source (the one --no-build
would boot). With --build: first build the kernel a run with the same
options would build (a CI's build job). Its check programs are compiled
against it, then everything goes to DEST; vm/guest/prebuilt.py has the layout.
Exits with vm/results/status.py's statuses: 10 if the series does not apply or the
kernel does not build, 11 for the runner's own trouble, 4 for a bad option.
"""

import argparse
import sys
from pathlib import Path

from vm import usage
from vm.cache import Cache, contain_temporaries, locked
from vm.errors import HarnessError
from vm.guest import checks, prebuilt
from vm.kernel import series
from vm.kernel.build import Built
from vm.kernel.request import KernelRequest, build_kernel, last_build
from vm.options import DEFAULT_RESULTS_DIR, Options, fragments_with
from vm.results import routing
from vm.results.status import ExitStatus
from vm.results.summary import new_run_dir


def log(message: str) -> None:
    print(f"[export] {message}", file=sys.stderr, flush=True)


def _built(options: Options, build: bool, cache: Cache) -> Built:
    if not build:
        return last_build(options.kernel_tree, cache, log)
    request = KernelRequest(options.kernel_tree, series.load(options.series_spec),
                            options.kconfigs)
    log_path = new_run_dir(DEFAULT_RESULTS_DIR) / "build.log"
    return build_kernel(request, cache, log_path, log)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m vm.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", action="store_true", help="build first, as a run would")
    parser.add_argument("--series", default=None)
    parser.add_argument("--kconfig", action="append", default=[])
    parser.add_argument("--kernel-tree", type=Path, default=None)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    options = Options(kernel_tree=args.kernel_tree, series=args.series,
                      kconfigs=fragments_with(args.kconfig), no_build=not args.build)
    cache = Cache.default()
    contain_temporaries(cache)
    try:
        usage.check(options, cache)
        with locked(cache, log):
            built = _built(options, args.build, cache)
            programs = checks.compile_all(built, log)
            out = prebuilt.export(built, programs, args.dest)
    except HarnessError as e:
        log(f"error: {e}")
        return routing.cause(e)
    log(f"build {built.identity} ({built.record.series}, "
        f"{'+'.join(built.record.fragments)}) exported to {out}")
    return ExitStatus.OK


if __name__ == "__main__":
    sys.exit(main())
