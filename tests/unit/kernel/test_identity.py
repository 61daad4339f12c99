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
    kernel = (b"\0" * 64 + PROC_VERSION.format(kernel_id).encode() + b"\0" * 64)
    payload = gzip.compress(kernel) if compress == "gzip" else lzma.compress(kernel)
    setup_sects = 1
    image = bytearray((setup_sects + 1) * 512)
    image[0x1F1] = setup_sects
    image[0x202:0x206] = b"HdrS"
    version = f"6.12.117 (suite@suite) #{setup_id} SMP PREEMPT_DYNAMIC 2000-01-01\0".encode()
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
