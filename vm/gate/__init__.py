"""Gating a revision of a series as a maintainer's CI would (python3 -m vm.gate).

  cli           the command: patch rows, guest runs, bisection, baseline, report
  rows          one row per patch: applies, checkpatch, builds, W=1, kernel-doc, UAPI
  guest_runs    the suite's own pytest on a series or a prefix, its junit read back
  first_bad     bisection over prefixes: the first bad patch of each failing check
  compare       the guest checks against the baseline's
  bench         --bench: the spawn benchmark on the revision and on its baseline
  bench_report  --bench: the two compared, as gate.json and gate.md hold it
  report        the verdict, gate.md and gate.json
"""
