"""python3 -m vm.mutate: see vm/mutate/cli.py."""

import sys

from vm.mutate.cli import main

sys.exit(main())
