"""The spawn benchmark: spawn templates against posix_spawn, vfork, fork,
clone3 and execveat, measured in the suite's guest (python3 -m vm.spawnbench).

One job per module:
  points   the sweeps and their points (what the guest program is run with)
  output   the guest program's output, parsed (tests/guest/bench_spawn.c)
  measure  one point in the guest, its output as a result
  plan     samples per point: pilot run, target interval, time budget
  stats    medians, their intervals, ratios and what they let one say
  data     a run as data and its JSON file
  table    the Markdown table
  hostload what else the host ran while a run measured
  plots    matplotlib figures of a run and of a comparison
  compare  two runs: B / A per method and point, slowdowns flagged
  session  the run: the suite's kernel and guest, pilots, points
  cli      the command, run|compare|report (vm/spawnbench.py names it)
"""
