"""python3 -m vm.spawnbench, the spawn benchmark's command: see vm/bench/spawn/cli.py."""

import sys

from vm.bench.spawn.cli import main

if __name__ == "__main__":
    sys.exit(main())
