"""python3 -m vm.derive, the command's name: see vm/kernel/derive.py."""

from vm.kernel.derive import main

if __name__ == "__main__":
    main()
