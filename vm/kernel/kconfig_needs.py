"""Who needs which entry of a config fragment: its `# checks:` lines.

A kernel the suite builds has every entry of its fragments (vm/kernel/build.py
refuses one that lost any). A developer's build (--kernel-build) has what
its own .config says, and what it lacks must skip the checks that need it,
not fail them. So each fragment says, next to its entries, who needs them:

    # checks: audit.c                  every check of tests/guest/audit.c
    # checks: observe.c::fanotify.*    the checks of observe.c whose name
                                       (fixture[.variant].test) matches the glob
    # checks: boot                     the guest needs them to boot and run
                                       the host's userspace: nothing to skip
    # checks: none                     only the suite's own build wants them
                                       (smaller, faster, its reports): none

A `# checks:` line covers the entries below it, up to the next one; the
words of a line, and of lines in a row, add up. Every entry of a fragment
is under one (tests/unit/kernel/test_kconfig_needs.py holds kconfigs/ to
that, and to programs and fixtures that exist).
"""

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass

from vm.errors import ConfigError
from vm.kernel.kconfig import Fragment, parse

BOOT = "boot"
NONE = "none"
_LINE = re.compile(r"^#\s*checks:\s*(.*)$")
_WORD = re.compile(r"^[\w-]+\.c(::\S+)?$")


@dataclass(frozen=True)
class Need:
    """What an entry is needed for."""

    boot: bool = False
    checks: tuple[str, ...] = ()  # "program.c" or "program.c::glob"

    def needed_by(self, program: str, check: str) -> bool:
        """Whether the check @check of tests/guest/@program needs the entry."""
        for word in self.checks:
            name, _, glob = word.partition("::")
            if name == program and (not glob or fnmatch.fnmatchcase(check, glob)):
                return True
        return False

    def __or__(self, other: "Need") -> "Need":
        return Need(self.boot or other.boot,
                    self.checks + tuple(c for c in other.checks if c not in self.checks))

    def __str__(self) -> str:
        words = ([BOOT] if self.boot else []) + list(self.checks)
        return " ".join(words) or NONE

    def brief(self) -> str:
        """For a terminal line: a program's several globs as their count."""
        by_program: dict[str, list[str]] = {}
        for word in self.checks:
            by_program.setdefault(word.partition("::")[0], []).append(word)
        words = [BOOT] if self.boot else []
        words += [w[0] if len(w) == 1 else f"{p} ({len(w)} kinds of checks)"
                  for p, w in by_program.items()]
        return ", ".join(words) or NONE


def _need(words: list[str], where: str) -> Need:
    if words == [NONE]:
        return Need()
    if not words or NONE in words:
        raise ConfigError(f"{where}: `# checks:` takes {BOOT}, {NONE} (alone) or "
                          f"PROGRAM.c[::GLOB] words, not {' '.join(words) or 'nothing'}")
    bad = [w for w in words if w != BOOT and not _WORD.match(w)]
    if bad:
        raise ConfigError(f"{where}: `# checks:` {' '.join(bad)}: not {BOOT}, {NONE} "
                          "or PROGRAM.c[::GLOB]")
    return Need(BOOT in words, tuple(w for w in words if w != BOOT))


def parse_needs(text: str, origin: str = "<text>") -> dict[str, Need]:
    """{entry name: Need} of a fragment's text; an entry above every
    `# checks:` line is an error: nobody would know who needs it."""
    found: dict[str, Need] = {}
    current: Need | None = None
    in_a_row = False  # the last line that was not a comment was a `# checks:` line
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _LINE.match(line):
            need = _need(m.group(1).split(), f"{origin}:{lineno}")
            current = current | need if in_a_row and current is not None else need
            in_a_row = True
            continue
        entries = parse(line, f"{origin}:{lineno}")
        if not entries:
            continue
        if current is None:
            raise ConfigError(f"{origin}:{lineno}: {entries[0]} is under no `# checks:` line "
                              "(vm/kernel/kconfig_needs.py: who needs it?)")
        in_a_row = False
        found[entries[0].name] = found.get(entries[0].name, Need()) | current
    return found


def needs(fragments: Iterable[Fragment]) -> dict[str, Need]:
    """Every entry of the fragments and who needs it; an entry in several
    fragments is needed by all who need it in any."""
    merged: dict[str, Need] = {}
    for fragment in fragments:
        for name, need in parse_needs(fragment.path.read_text(), str(fragment.path)).items():
            merged[name] = merged.get(name, Need()) | need
    return merged
