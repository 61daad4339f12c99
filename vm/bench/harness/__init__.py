"""The harness's own benchmarks (python3 -m vm.bench build|guest|gate|prebuilt|collect).

  cli    the command; build, guest and gate, measured in this checkout
  edits  the series edits the benchmarks rebuild after
  loop   the inner loop, the suite at a commit against HEAD
  clone  prebuilt and collect, measured in a clean clone with an empty cache
"""
