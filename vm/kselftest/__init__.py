"""The kernel's own selftests of what a series touches, judged against the base.

targets.py   which tools/testing/selftests targets guard the files a series changes
install.py   a target built and installed the kselftest way, out of the source tree
listing.py   the programs of the chosen targets, listed with no kernel (collection)
outcome.py   what one installed program printed in the guest, read back
judge.py     a program's results on the revision against those on the base kernel
base.py      the base kernel's results, kept in the cache by base, config and tests
"""
