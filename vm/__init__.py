"""Host side of the spawn-template validation suite: one package per step of a run.

Imports run down this list, and left to right on a line, never back
(tests/unit/test_layering.py); each package's __init__.py lists its modules.
  mutate/ gate/ bench/   built on a run: mutation testing, the revision gate, benchmarks
  export.py suite.py usage.py   the run: a build exported, the run as one object, its options
  results/   what a run leaves: the results folder, checks.json, KTAP, KCIDB, shards, statuses
  guest/     the built kernel booted, checks run in it and judged
  kernel/    from a request (tree, series, fragments) to a built kernel
  options.py preflight.py cache.py proc.py progress.py paths.py errors.py: shared by all
merge.py, prefixes.py, derive.py and spawnbench.py keep those commands' names.
"""
