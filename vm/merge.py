"""python3 -m vm.merge, the command's name: see vm/results/merge.py."""

import sys

from vm.results.merge import main

if __name__ == "__main__":
    sys.exit(main())
