"""Build every prefix of a series: does each patch build on its own?

    python3 -m vm.prefixes [--series DIR|MBOX] [--kconfig NAME ...] [--kernel-tree PATH]

Applies patches 1..k for each k and builds each result with the same
config as a run, in the suite's cache (ccache keeps the later steps
incremental). Prints one line per patch and stops at the first one that
does not apply, configure or build, naming it.
"""

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

from vm.cache import Cache, contain_temporaries, locked
from vm.errors import HarnessError
from vm.kernel import series
from vm.kernel.request import KernelRequest, build_kernel
from vm.options import DEFAULT_RESULTS_DIR, DEFAULT_SERIES, fragments_with


def log(message: str) -> None:
    print(f"[prefixes] {message}", file=sys.stderr, flush=True)


def build_prefixes(full: series.Series, tree: Path | None,
                   fragments: tuple[str, ...], log_dir: Path) -> int:
    cache = Cache.default()
    with locked(cache, log):
        for k, patch in enumerate(full.patches, 1):
            request = KernelRequest(tree, replace(full, patches=full.patches[:k]), fragments)
            start = time.monotonic()
            try:
                build_kernel(request, cache, log_dir / f"build-{k:02d}.log", log)
            except HarnessError as e:
                print(f"{k}/{len(full.patches)} {patch.label}: FAILED\n  {e}")
                return 1
            print(f"{k}/{len(full.patches)} {patch.label}: builds "
                  f"({time.monotonic() - start:.0f} s)", flush=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python3 -m vm.prefixes", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", default=str(DEFAULT_SERIES))
    parser.add_argument("--kconfig", action="append", default=[])
    parser.add_argument("--kernel-tree", type=Path)
    args = parser.parse_args()
    contain_temporaries(Cache.default())
    log_dir = DEFAULT_RESULTS_DIR / ("prefixes-" + time.strftime("%Y%m%d-%H%M%S"))
    log_dir.mkdir(parents=True)
    full = series.load(args.series)
    if not full.patches:
        raise SystemExit("--series none: no patches, no prefixes to build")
    sys.exit(build_prefixes(full, args.kernel_tree,
                            fragments_with(args.kconfig), log_dir))
