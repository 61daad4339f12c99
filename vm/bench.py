"""Rerunnable benchmark for the harness's speed targets.

    python3 -m vm.bench build   # cold build, no-change skip, one-hunk rebuild
    python3 -m vm.bench guest   # boot to first command, round trip, per-test overhead

`build` uses a fresh XDG cache in a temporary folder under the repository's
build/ (ignored by git), so the developer's cache and ccache are untouched.
Figures go to stdout as a Markdown table, for docs/benchmarks.md.
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vm import build, checks, health, kconfig, series, source
from vm.paths import DEFAULT_SERIES, REPO_ROOT
from vm.suite import Options, Suite

BENCH_DIR = REPO_ROOT / "build" / "bench"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed(fn: Callable[[], object]) -> float:
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def prepare(cache: Path, series_dir: Path, run_dir: Path) -> build.Built:
    """source -> series -> config -> build, as a run does it."""
    src = source.resolve(None, cache, log)
    return build.build_series(src, series.load(str(series_dir)),
                              kconfig.load_fragments(kconfig.DEFAULT_FRAGMENTS),
                              run_dir / "build.log", log, ccache_dir=cache / "ccache")


def edit_one_c_hunk(src_dir: Path, dst_dir: Path) -> str:
    """Copy the series and change one added line of C in one patch."""
    shutil.copytree(src_dir, dst_dir)
    for patch in sorted(dst_dir.glob("*.patch")):
        text = patch.read_text()
        # An added comment line in a .c file: changing it keeps the patch valid.
        m = re.search(r"^\+\+\+ b/(\S+\.c)\n(?:(?!^diff ).*\n)*?^\+(\s*\*\s+\S.*)$", text, re.M)
        if m:
            line = m.group(2)
            patch.write_text(text.replace("+" + line, "+" + line + " (bench)", 1))
            return f"{patch.name}: {m.group(1)}"
    raise SystemExit(f"no added C comment line to edit in {src_dir}")


def bench_build(series_dir: Path) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
        cache, run_dir = Path(tmp) / "cache", Path(tmp) / "run"
        run_dir.mkdir()
        cold = timed(lambda: prepare(cache, series_dir, run_dir))
        skip = timed(lambda: prepare(cache, series_dir, run_dir))
        edited = Path(tmp) / "edited"
        what = edit_one_c_hunk(series_dir, edited)
        rebuild = timed(lambda: prepare(cache, edited, run_dir))
    print("| step | seconds | target |")
    print("|---|---:|---:|")
    print(f"| cold build (empty cache and ccache, unpack included) | {cold:.0f} | 480 |")
    print(f"| nothing changed: decide and skip | {skip:.1f} | 5 |")
    print(f"| rebuild after editing one .c hunk ({what}) | {rebuild:.0f} | 120 |")


def bench_guest(rounds: int) -> None:
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=BENCH_DIR) as tmp:
        suite = Suite(Options(no_build=True, series="none"), Path(tmp), log)
        built = suite.kernel()
        binaries = checks.compile_all(built, log)
        # Collection: listing every program's tests, per test collected.
        programs = [p for p in sorted((REPO_ROOT / "tests" / "guest").glob("*.c"))
                    if checks.is_check_source(p)]
        start = time.monotonic()
        items = sum(len(checks.list_tests(binaries.binary(p))) for p in programs)
        collect = (time.monotonic() - start) / items
        guest = suite.guest()
        boot, qemu = guest.boot_seconds, guest.qemu_seconds
        # Framing: a whole round trip of a command that does nothing,
        # including the wait for the kernel log to catch up.
        trips = sorted(guest.run("true").seconds for _ in range(rounds))
        # Kernel log: reading this test's share and scanning it for splats.
        scans = []
        for _ in range(rounds):
            guest.run("echo '<6>bench: a line for the scan' > /dev/kmsg")
            start = time.monotonic()
            health.scan(guest.kernel_log())
            scans.append(time.monotonic() - start)
        suite.finish()
    framing, scan = statistics.median(trips), statistics.median(scans)
    print("| step | figure | target |")
    print("|---|---:|---:|")
    print(f"| vng start to first guest command ({suite.summary.accel}) | {boot:.2f} s | - |")
    if qemu is not None:
        print(f"| QEMU start to first guest command | {qemu:.2f} s | 8 s |")
    print(f"| `guest.run(\"true\")` round trip, median of {rounds} | "
          f"{framing * 1000:.0f} ms | 50 ms |")
    print(f"| harness overhead per guest test: collection {collect * 1000:.1f} ms + "
          f"framing {framing * 1000:.0f} ms + kernel log scan {scan * 1000:.1f} ms | "
          f"{(collect + framing + scan) * 1000:.0f} ms | 100 ms |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("build", "guest"))
    parser.add_argument("--series", type=Path, default=DEFAULT_SERIES)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    os.environ.setdefault("LC_ALL", "C")
    if args.what == "build":
        bench_build(args.series)
    else:
        bench_guest(args.rounds)


if __name__ == "__main__":
    main()
