"""python3 -m vm.bench: the harness's own benchmarks, see vm/bench/harness/cli.py."""

from vm.bench.harness.cli import main

main()
