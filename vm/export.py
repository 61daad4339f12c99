"""Export the last finished build, to test it elsewhere with --prebuilt.

    python3 -m vm.export [--kernel-tree PATH] DEST    (a folder, or DEST.tar.gz)

The build is the one --no-build would boot (the last one of that source);
its check programs are compiled against it first. vm/prebuilt.py has the layout.
"""

import argparse
import sys
from pathlib import Path

from vm import checks, prebuilt
from vm.cache import Cache, locked
from vm.errors import HarnessError
from vm.kernel import last_build
from vm.status import ExitStatus


def log(message: str) -> None:
    print(f"[export] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m vm.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kernel-tree", type=Path, default=None)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args(argv)
    cache = Cache.default()
    try:
        with locked(cache, log):
            built = last_build(args.kernel_tree, cache, log)
            programs = checks.compile_all(built, log)
            out = prebuilt.export(built, programs, args.dest)
    except HarnessError as e:
        log(f"error: {e}")
        return ExitStatus.INFRASTRUCTURE
    log(f"build {built.identity} ({built.record.series}, "
        f"{'+'.join(built.record.fragments) or 'config as is'}) exported to {out}")
    return ExitStatus.OK


if __name__ == "__main__":
    sys.exit(main())
