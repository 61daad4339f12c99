"""Booting the built kernel in a guest, and running and judging checks in it.

  accel     KVM where it can work, TCG otherwise
  vng       one virtme-ng guest driven through pexpect: boot, command framing
  kmsg      the guest's kernel log, streamed into the shared folder
  health    kernel reports (WARN, BUG, Oops, KASAN, ...) found in that log
  ktap      a check program's KTAP result lines and -l listing, read
  runner    one command or check run in the guest and judged
  checks    check programs compiled against the build's UAPI headers, listed
  listing   check programs compiled only to be listed: collection builds no kernel
  prebuilt  an exported build: its layout, written and loaded (--prebuilt)
"""
