"""Mutation testing: a guest check must catch each deliberate bug (python3 -m vm.mutate).

  mutants  patches/mutants/<revision>/*.yaml: one exact-text edit each, naming its rule
  patch    a mutant as the next patch of its series
  report   a verdict per mutant, and the run's report
  cli      the command: each mutant built, its checks run through the gate's guest runs
"""
