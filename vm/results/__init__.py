"""What a run leaves in results/<run>/, and the exit status it ends with.

  summary   the run folder and its one-screen summary (summary.md, summary.json)
  records   one record per test (checks.json), what the files below are written from
  ktap      results.ktap: one nested KTAP v1 stream
  kcidb     kcidb.json: a KCIDB v5 document
  outcomes  a run's junit.xml read back, per check
  shard     --shard I/N: a deterministic part of the selected tests
  merge     the shards' results folders joined into one (python3 -m vm.merge)
  status    the exit statuses, one meaning each
  routing   which status a run ends with, from what went wrong
"""
