"""Host side of the spawn-template validation suite.

Data flows one way: source -> series -> apply -> kconfig -> build (all
through vm/kernel/request.py) -> checks -> guest -> runner -> results, vm/suite.py
holding the run together. Each module does one job and hands a typed
result to the next; README.md lists them.
"""
