"""Kernel config: fragments, merging them onto tinyconfig, what did not survive.

Like kunit_config: a fragment is a set of wanted entries; after olddefconfig
every wanted entry must be in the final .config. Why one is not is
vm/kernel/kconfig_explain.py's job.
"""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from vm.errors import ConfigError
from vm.paths import KCONFIGS_DIR

_SET = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")
_UNSET = re.compile(r"^# (CONFIG_[A-Za-z0-9_]+) is not set$")


@dataclass(frozen=True)
class ConfigEntry:
    name: str  # with the CONFIG_ prefix
    value: str  # "n" for "is not set"

    def __str__(self) -> str:
        if self.value == "n":
            return f"# {self.name} is not set"
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class Fragment:
    path: Path
    entries: tuple[ConfigEntry, ...]


def parse(text: str, origin: str = "<text>") -> tuple[ConfigEntry, ...]:
    """Entries of a fragment or .config; anything else must be a comment."""
    entries = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _SET.match(line):
            entries.append(ConfigEntry(m.group(1), m.group(2)))
        elif m := _UNSET.match(line):
            entries.append(ConfigEntry(m.group(1), "n"))
        elif line and not line.startswith("#"):
            raise ConfigError(f"{origin}:{lineno}: not a config entry: {raw!r}")
    return tuple(entries)


def as_dict(entries: Iterable[ConfigEntry]) -> dict[str, str]:
    """Later entries win, as they do for kconfig itself."""
    return {e.name: e.value for e in entries}


def resolve_fragment(name: str, kconfigs: Path = KCONFIGS_DIR) -> Path:
    """--kconfig NAME (kconfigs/NAME.config) or --kconfig FILE."""
    candidate = kconfigs / f"{name}.config"
    if candidate.is_file():
        return candidate
    path = Path(name)
    if path.is_file():
        return path
    known = ", ".join(sorted(p.stem for p in kconfigs.glob("*.config")))
    raise ConfigError(f"--kconfig {name}: no such fragment (known: {known}) or file")


def load_fragments(names: Iterable[str], kconfigs: Path = KCONFIGS_DIR) -> tuple[Fragment, ...]:
    fragments = []
    for name in names:
        path = resolve_fragment(name, kconfigs)
        fragments.append(Fragment(path, parse(path.read_text(), str(path))))
    return tuple(fragments)


def merged(fragments: Iterable[Fragment]) -> dict[str, str]:
    return as_dict(e for f in fragments for e in f.entries)


def render(wanted: Mapping[str, str]) -> str:
    return "".join(f"{ConfigEntry(k, v)}\n" for k, v in wanted.items())


def overlay(config_text: str, wanted: Mapping[str, str]) -> str:
    """A .config with every wanted entry replacing or adding its line."""
    lines = []
    for line in config_text.splitlines():
        m = _SET.match(line) or _UNSET.match(line)
        if m and m.group(1) in wanted:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n" + render(wanted)


def missing(wanted: Mapping[str, str], final: Mapping[str, str]) -> list[ConfigEntry]:
    """Wanted entries that the final .config does not have."""
    out = []
    for name, value in wanted.items():
        have = final.get(name, "n")
        if have != value:
            out.append(ConfigEntry(name, value))
    return out
