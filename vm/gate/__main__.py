"""python3 -m vm.gate: see vm/gate/cli.py."""

import sys

from vm.gate.cli import main

sys.exit(main())
