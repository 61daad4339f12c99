"""Host side of the spawn-template validation suite.

Data flows one way: source -> series -> kconfig -> build -> guest -> results.
Each module does one step and hands a typed result to the next.
"""
