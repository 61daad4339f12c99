"""Where the suite's own files are in the repository; digests for cache keys.

The cache's layout is vm/cache.py's.
"""

import hashlib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PATCHES_DIR = REPO_ROOT / "patches"
KCONFIGS_DIR = REPO_ROOT / "kconfigs"
GUEST_CHECKS_DIR = REPO_ROOT / "tests" / "guest"


def digest(*parts: str | bytes) -> str:
    """A short, stable key for cache entries built from several inputs."""
    h = hashlib.sha256()
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        # Length-prefix each part so ("ab", "c") and ("a", "bc") differ.
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()[:16]
