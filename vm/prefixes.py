"""python3 -m vm.prefixes, the command's name: see vm/kernel/prefixes.py."""

from vm.kernel.prefixes import main

if __name__ == "__main__":
    main()
