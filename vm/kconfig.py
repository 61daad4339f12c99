"""Kernel config: fragments, merging onto tinyconfig, and verification.

Like kunit_config: a fragment is a set of wanted entries; after olddefconfig
every wanted entry must be in the final .config, or the run stops naming
the options that did not survive and what they depend on.
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
class Entry:
    name: str  # with the CONFIG_ prefix
    value: str  # "n" for "is not set"

    def __str__(self) -> str:
        if self.value == "n":
            return f"# {self.name} is not set"
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class Fragment:
    path: Path
    entries: tuple[Entry, ...]


def parse(text: str, origin: str = "<text>") -> tuple[Entry, ...]:
    """Entries of a fragment or .config; anything else must be a comment."""
    entries = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if m := _SET.match(line):
            entries.append(Entry(m.group(1), m.group(2)))
        elif m := _UNSET.match(line):
            entries.append(Entry(m.group(1), "n"))
        elif line and not line.startswith("#"):
            raise ConfigError(f"{origin}:{lineno}: not a config entry: {raw!r}")
    return tuple(entries)


def as_dict(entries: Iterable[Entry]) -> dict[str, str]:
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
    return "".join(f"{Entry(k, v)}\n" for k, v in wanted.items())


def overlay(config_text: str, wanted: Mapping[str, str]) -> str:
    """A .config with every wanted entry replacing or adding its line."""
    lines = []
    for line in config_text.splitlines():
        m = _SET.match(line) or _UNSET.match(line)
        if m and m.group(1) in wanted:
            continue
        lines.append(line)
    return "\n".join(lines) + "\n" + render(wanted)


def missing(wanted: Mapping[str, str], final: Mapping[str, str]) -> list[Entry]:
    """Wanted entries that the final .config does not have."""
    out = []
    for name, value in wanted.items():
        have = final.get(name, "n")
        if have != value:
            out.append(Entry(name, value))
    return out


@dataclass(frozen=True)
class Definition:
    """What Kconfig says about one symbol, enough to explain a refusal."""

    where: str
    depends: tuple[str, ...]
    has_prompt: bool


_BLOCK_END = re.compile(r"^(config|menuconfig|choice|endchoice|menu|endmenu|if|endif|"
                        r"source|comment|mainmenu)\b")


def _indent(line: str) -> int:
    """Width of the leading whitespace, tabs to 8 as the Kconfig lexer counts."""
    return len(line[:len(line) - len(line.lstrip(" \t"))].expandtabs(8))


def without_help(lines: list[str]) -> list[str]:
    """Kconfig lines with help text blanked: prose like "if you say Y"
    must not open an `if` block or read as a `select`."""
    out, help_indent, in_help = [], 0, False
    for line in lines:
        if in_help:
            if not line.strip():
                out.append("")
                continue
            if help_indent == 0:
                help_indent = _indent(line)
            if help_indent > 0 and _indent(line) >= help_indent:
                out.append("")
                continue
            in_help = False
        out.append(line)
        if line.strip() in ("help", "---help---"):
            in_help, help_indent = True, 0
    return out


def parse_definition(lines: list[str], start: int, where: str,
                     enclosing: tuple[str, ...] = ()) -> Definition:
    depends, has_prompt = list(enclosing), False
    i = start + 1
    while i < len(lines):
        line = lines[i].strip()
        if _BLOCK_END.match(line):
            break
        if line.startswith("depends on"):
            expr = line[len("depends on"):].strip()
            while expr.endswith("\\") and i + 1 < len(lines):
                i += 1
                expr = expr[:-1] + " " + lines[i].strip()
            depends.append(expr)
        elif re.match(r"^(bool|tristate|string|int|hex)\s+\"", line) or line.startswith("prompt"):
            has_prompt = True
        i += 1
    return Definition(where, tuple(depends), has_prompt)


def find_definitions(kconfig_files: Mapping[str, str], symbol: str) -> list[Definition]:
    """Definitions of CONFIG_symbol in {path: Kconfig text}.

    Conditions of enclosing `if` blocks and `menu ... depends on` count as
    dependencies too (within one file; `source` nesting is not followed).
    """
    pattern = re.compile(rf"^\s*(menu)?config\s+{re.escape(symbol)}\s*$")
    found = []
    for path, text in kconfig_files.items():
        lines = without_help(text.splitlines())
        blocks: list[list[str]] = []  # one list of conditions per open if/menu
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped.startswith("if "):
                blocks.append([stripped[3:].strip()])
            elif stripped.startswith("menu ") or stripped == "menu":
                blocks.append([])
            elif stripped in ("endif", "endmenu") and blocks:
                blocks.pop()
            elif (stripped.startswith("depends on") and blocks and i > 0
                  and lines[i - 1].strip().startswith("menu ")):
                blocks[-1].append(stripped[len("depends on"):].strip())
            if pattern.match(line):
                enclosing = tuple(c for block in blocks for c in block)
                found.append(parse_definition(lines, i, f"{path}:{i + 1}", enclosing))
    return found


def find_selectors(kconfig_files: Mapping[str, str], symbol: str) -> list[str]:
    """Symbols whose definition says `select symbol` (they force it on)."""
    select = re.compile(rf"^\s*select\s+{re.escape(symbol)}\b")
    define = re.compile(r"^\s*(?:menu)?config\s+(\w+)")
    found = []
    for text in kconfig_files.values():
        current = None
        for line in without_help(text.splitlines()):
            if m := define.match(line):
                current = m.group(1)
            elif current and select.match(line):
                found.append(current)
    return found


def explain(entry: Entry, definitions: list[Definition], final: Mapping[str, str],
            selectors: list[str] | None = None) -> str:
    have = final.get(entry.name, "n")
    head = f"{entry} (final .config: {Entry(entry.name, have)})"
    if not definitions:
        return f"{head}: no Kconfig in this tree defines {entry.name}"
    notes = []
    for d in definitions:
        unmet = []
        for expr in d.depends:
            symbols = re.findall(r"\b[A-Z][A-Z0-9_]+\b", expr)
            off = [s for s in symbols if final.get(f"CONFIG_{s}", "n") == "n"]
            if off:
                unmet.append(f"depends on {expr} [not set: {', '.join(off)}]")
        text = "; ".join(unmet) if unmet else "direct dependencies met"
        if not d.has_prompt:
            text += "; no prompt (only set by a select or default)"
        notes.append(f"{d.where}: {text}")
    forcing = [s for s in selectors or [] if final.get(f"CONFIG_{s}", "n") != "n"]
    if entry.value == "n" and forcing:
        notes.append(f"forced on by select from: {', '.join(sorted(set(forcing)))}")
    return head + "\n      " + "\n      ".join(notes)


def verify(wanted: Mapping[str, str], final: Mapping[str, str],
           kconfig_files: Mapping[str, str]) -> None:
    """Raise ConfigError listing every wanted entry that did not survive."""
    lost = missing(wanted, final)
    if not lost:
        return
    lines = []
    for e in lost:
        symbol = e.name.removeprefix("CONFIG_")
        lines.append(explain(e, find_definitions(kconfig_files, symbol), final,
                             find_selectors(kconfig_files, symbol)))
    raise ConfigError(
        f"{len(lost)} requested config option(s) did not survive olddefconfig:\n  - "
        + "\n  - ".join(lines)
    )
