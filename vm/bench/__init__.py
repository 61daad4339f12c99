"""Benchmarks: figures for docs/benchmarks.md.

  harness/  the suite's own speed: builds, the guest's round trip, the gate,
            prebuilt runs, collection (python3 -m vm.bench)
  spawn/    the feature's: spawn templates against posix_spawn, vfork, fork,
            clone3 and execveat, measured in the guest (python3 -m vm.spawnbench)
"""
