"""python3 -m vm.spawnbench: see vm/spawnbench/cli.py."""

import sys

from vm.spawnbench.cli import main

sys.exit(main())
