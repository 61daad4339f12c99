from vm.guest import ktap

LISTING = """\
# FIXTURE            VARIANT                   TEST
global                                         smoke
                                               other
--------------------------------------------------------------------------------
scratch              tmpfs                     write_pin
                     memfd                     noexec
--------------------------------------------------------------------------------
plain                                          one
"""


def test_listing_expands_variants_times_tests() -> None:
    assert ktap.parse_listing(LISTING) == [
        "global.smoke", "global.other",
        "scratch.tmpfs.write_pin", "scratch.tmpfs.noexec",
        "scratch.memfd.write_pin", "scratch.memfd.noexec",
        "plain.one",
    ]


# A variant name longer than its 25-character column shifts the test column.
LONG_VARIANTS = """\
# FIXTURE            VARIANT                   TEST
create               ebadf_eacces_execfd       refused_with_the_first_error
                     eacces_noexec_etxtbsy_rdwr_execfd
                     exactly_twenty_five_chars other_test
"""


def test_listing_with_names_longer_than_their_column() -> None:
    assert ktap.parse_listing(LONG_VARIANTS) == [
        "create.ebadf_eacces_execfd.refused_with_the_first_error",
        "create.ebadf_eacces_execfd.other_test",
        "create.eacces_noexec_etxtbsy_rdwr_execfd.refused_with_the_first_error",
        "create.eacces_noexec_etxtbsy_rdwr_execfd.other_test",
        "create.exactly_twenty_five_chars.refused_with_the_first_error",
        "create.exactly_twenty_five_chars.other_test",
    ]


OUTPUT = """\
TAP version 13
1..1
# Starting 1 tests from 1 test cases.
#  RUN           global.smoke ...
#      SKIP      ENOSYS: spawn_template syscalls not in this kernel
#            OK  global.smoke
ok 1 global.smoke # SKIP ENOSYS: spawn_template syscalls not in this kernel
# Totals: pass:0 fail:0 xfail:0 xpass:0 skip:1 error:0
"""


def test_skip_with_reason() -> None:
    r = ktap.result_line(OUTPUT, "global.smoke")
    assert r.status is ktap.Status.SKIP
    assert r.reason == "ENOSYS: spawn_template syscalls not in this kernel"


def test_pass_fail_and_missing() -> None:
    out = "ok 1 a.b\nnot ok 2 a.c\n"
    assert ktap.result_line(out, "a.b").status is ktap.Status.PASS
    assert ktap.result_line(out, "a.c").status is ktap.Status.FAIL
    assert ktap.result_line(out, "a.d").status is ktap.Status.ERROR


def test_indented_subtest_lines_are_not_results() -> None:
    assert ktap.parse_result_lines("    ok 1 inner\nnot ok 1 outer\n") == [
        ktap.ResultLine("outer", ktap.Status.FAIL, "")]
