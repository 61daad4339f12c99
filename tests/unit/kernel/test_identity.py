"""The build identity: read from a bzImage's setup header and compressed
kernel, and from a guest's /proc/version; a mismatch is refused."""

import gzip
import lzma
import struct
from pathlib import Path

import pytest

from vm.errors import GuestError, HarnessError
from vm.kernel import identity

from ..conftest import DATA

GOOD = "st-0123456789-abcdef"
OTHER = "st-0123456789-fedcba"
# As a guest of a suite build prints it (the compiler part from Debian 12).
PROC_VERSION = ("Linux version 6.12.117+ (suite@suite) (gcc (Debian 12.2.0-14+deb12u1) 12.2.0, "
                "GNU ld (GNU Binutils for Debian) 2.40) #{} SMP 2000-01-01\n")


def fake_bzimage(path: Path, setup_id: str, kernel_id: str,
                 compress: str = "gzip") -> Path:
    """A bzImage reduced to what the reader uses: the boot protocol's
    header fields, the setup version string and a compressed payload."""
    return bzimage_with(path, f"6.12.117 (suite@suite) #{setup_id} SMP PREEMPT_DYNAMIC 2000-01-01",
                        [PROC_VERSION.format(kernel_id)], compress)


def bzimage_with(path: Path, setup: str, banners: list[str], compress: str = "gzip") -> Path:
    """fake_bzimage() with any setup version string and kernel banners."""
    kernel = b"\0" * 64 + b"\0".join(b.encode() for b in banners) + b"\0" * 64
    payload = gzip.compress(kernel) if compress == "gzip" else lzma.compress(kernel)
    setup_sects = 1
    image = bytearray((setup_sects + 1) * 512)
    image[0x1F1] = setup_sects
    image[0x202:0x206] = b"HdrS"
    version = f"{setup}\0".encode()
    image[0x300:0x300 + len(version)] = version
    struct.pack_into("<H", image, 0x20E, 0x300 - 0x200)
    struct.pack_into("<II", image, 0x248, 0, len(payload))
    path.write_bytes(bytes(image) + payload)
    return path


def test_identities_are_new_per_build_and_name_their_inputs() -> None:
    a, b = identity.new_identity("0123456789abcdef"), identity.new_identity("0123456789abcdef")
    assert a != b
    assert a.startswith("st-0123456789-") and b.startswith("st-0123456789-")
    # UTS_VERSION is cut at 64 characters: "#<id> SMP PREEMPT_DYNAMIC 2000-01-01" fits.
    assert len(f"#{a} SMP PREEMPT_DYNAMIC 2000-01-01") <= 64


@pytest.mark.parametrize("compress", ["gzip", "xz"])
def test_reads_setup_header_and_compressed_kernel(tmp_path: Path, compress: str) -> None:
    image = fake_bzimage(tmp_path / "bzImage", GOOD, GOOD, compress)
    found = identity.read_bzimage(image)
    assert found == identity.ImageIdentity(setup=GOOD, kernel=(GOOD,))
    identity.verify_image(image, GOOD)


def test_stale_payload_behind_a_fresh_setup_header_is_refused(tmp_path: Path) -> None:
    # The ccache bug: setup code rebuilt, the compressed kernel an older one.
    image = fake_bzimage(tmp_path / "bzImage", GOOD, OTHER)
    with pytest.raises(identity.StaleKernelError) as e:
        identity.verify_image(image, GOOD)
    assert GOOD in str(e.value) and OTHER in str(e.value)


def test_image_from_another_build_is_refused(tmp_path: Path) -> None:
    image = fake_bzimage(tmp_path / "bzImage", OTHER, OTHER)
    with pytest.raises(identity.StaleKernelError, match="not the kernel that was built"):
        identity.verify_image(image, GOOD)


def test_not_a_bzimage(tmp_path: Path) -> None:
    (tmp_path / "bzImage").write_bytes(b"\0" * 4096)
    with pytest.raises(identity.StaleKernelError, match="not a bzImage"):
        identity.read_bzimage(tmp_path / "bzImage")


def test_recorded_proc_version() -> None:
    # /proc/version of a guest of a suite build (2026-11-30, the main job).
    recorded = (DATA / "proc-version-suite-build.txt").read_text()
    assert identity.from_proc_version(recorded) == "st-2257968bff-43ea29"
    identity.verify_booted(recorded, "st-2257968bff-43ea29", Path("bzImage"))
    with pytest.raises(identity.StaleKernelError):
        identity.verify_booted(recorded, "st-2257968bff-9e90b2", Path("bzImage"))


def test_proc_version() -> None:
    assert identity.from_proc_version(PROC_VERSION.format(GOOD)) == GOOD
    identity.verify_booted(PROC_VERSION.format(GOOD), GOOD, Path("bzImage"))
    with pytest.raises(identity.StaleKernelError) as e:
        identity.verify_booted(PROC_VERSION.format(OTHER), GOOD, Path("bzImage"))
    assert f"booted kernel {OTHER}, not the build {GOOD}" in str(e.value)


def test_record_round_trip(tmp_path: Path) -> None:
    record = identity.BuildRecord(identity=GOOD, inputs="0123456789abcdef",
                                  source="6.12.117 from Debian", series="spawn-template v1",
                                  series_key="k", config_key="c")
    record.write(tmp_path)
    assert identity.BuildRecord.read(tmp_path) == record
    (tmp_path / identity.RECORD).write_text("{not json")
    assert identity.BuildRecord.read(tmp_path) is None


def test_truncated_image_is_refused(tmp_path: Path) -> None:
    image = fake_bzimage(tmp_path / "bzImage", GOOD, GOOD)
    image.write_bytes(image.read_bytes()[:-100])
    with pytest.raises(identity.StaleKernelError, match="truncated"):
        identity.read_bzimage(image)


def test_unknown_compression_is_a_harness_error_not_a_stale_kernel(tmp_path: Path) -> None:
    image = fake_bzimage(tmp_path / "bzImage", GOOD, GOOD)
    data = bytearray(image.read_bytes())
    data[1024:1028] = b"\x89LZO"  # the payload starts right after the setup sectors
    image.write_bytes(bytes(data))
    with pytest.raises(HarnessError, match="cannot read this kernel compression") as e:
        identity.read_bzimage(image)
    assert not isinstance(e.value, identity.StaleKernelError)


def test_unreadable_proc_version_is_a_guest_error() -> None:
    with pytest.raises(GuestError):
        identity.verify_booted("sh: cat: not found\n", GOOD, Path("bzImage"))


# --kernel-build: a developer's kernel, its whole version string checked.
DEV_SETUP = "6.12.118+ (dev@box) #{} SMP PREEMPT_DYNAMIC Mon Dec  7 14:37:34 UTC 2026"
COMPILER = "gcc (Debian 12.2.0-14+deb12u1) 12.2.0, GNU ld (GNU Binutils for Debian) 2.40"
DEV_BANNER = "Linux version 6.12.118+ (dev@box) (" + COMPILER + ") #{} SMP PREEMPT_DYNAMIC " \
    "Mon Dec  7 14:37:34 UTC 2026\n"
# init/version.c's banner, made before the build's number and time are known.
EARLY_BANNER = "Linux version 6.12.118+ (dev@box) (" + COMPILER + ") # SMP PREEMPT_DYNAMIC \n"


def dev_bzimage(path: Path, setup_build: int, kernel_build: int) -> Path:
    return bzimage_with(path, DEV_SETUP.format(setup_build),
                        [EARLY_BANNER, DEV_BANNER.format(kernel_build)])


def test_version_strings_read_with_the_compilers_parentheses() -> None:
    setup = identity.parse_version(DEV_SETUP.format(3))
    banner = identity.parse_version(DEV_BANNER.format(3))
    assert banner == identity.KernelVersion(
        "6.12.118+", "dev@box", "#3 SMP PREEMPT_DYNAMIC Mon Dec  7 14:37:34 UTC 2026", COMPILER)
    assert setup is not None and setup.compiler == "" and setup.same_build(banner)
    assert banner.banner == DEV_BANNER.format(3).strip()
    assert banner.identity == setup.identity and banner.identity.startswith("dev-")
    assert identity.parse_version("sh: cat: not found") is None


def test_a_developers_image_says_its_version_once(tmp_path: Path) -> None:
    image = dev_bzimage(tmp_path / "bzImage", 3, 3)
    found = identity.image_version(image)
    assert found.uts_version.startswith("#3 ") and found.compiler == COMPILER


def test_a_developers_image_of_two_builds_is_refused(tmp_path: Path) -> None:
    image = dev_bzimage(tmp_path / "bzImage", 3, 2)
    with pytest.raises(identity.StaleKernelError, match="not one build") as e:
        identity.image_version(image)
    assert "#3 SMP" in str(e.value) and "#2 SMP" in str(e.value)


def test_a_developers_build_booted_matches_release_builder_and_uts_version() -> None:
    expected = identity.parse_version(DEV_BANNER.format(3))
    assert expected is not None
    identity.verify_booted_version(DEV_BANNER.format(3), expected, Path("bzImage"))
    # Another build of the same tree: only the build number (or the time) differs.
    with pytest.raises(identity.StaleKernelError) as e:
        identity.verify_booted_version(DEV_BANNER.format(4), expected, Path("bzImage"))
    assert "#4 SMP" in str(e.value) and "#3 SMP" in str(e.value)
    for other in (DEV_BANNER.format(3).replace("dev@box", "dev@other"),
                  DEV_BANNER.format(3).replace("14:37:34", "14:37:35"),
                  DEV_BANNER.format(3).replace("6.12.118+", "6.12.118")):
        with pytest.raises(identity.StaleKernelError):
            identity.verify_booted_version(other, expected, Path("bzImage"))
    with pytest.raises(GuestError):
        identity.verify_booted_version("sh: cat: not found\n", expected, Path("bzImage"))
