"""The harness's own benchmarks (python3 -m vm.bench build|guest|gate|prebuilt|collect).

  cli    the command; build, guest and gate, measured in this checkout
  clone  prebuilt and collect, measured in a clean clone with an empty cache
"""
