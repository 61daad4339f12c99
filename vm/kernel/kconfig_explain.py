"""Why a wanted config option did not survive olddefconfig, from the Kconfig files.

Reads just enough of the Kconfig language to name, for each lost option,
where it is defined, which of its dependencies are not set, whether it has
a prompt at all, and which set options select it. Only read when an option
was lost: reading every Kconfig file of a kernel takes seconds.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from vm.errors import ConfigError
from vm.kernel.kconfig import ConfigEntry, missing


def kconfig_files(tree: Path) -> dict[str, str]:
    """{path relative to @tree: text} of every Kconfig file of a kernel tree."""
    return {str(p.relative_to(tree)): p.read_text(errors="replace")
            for p in tree.rglob("Kconfig*") if p.is_file()}


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


def explain(entry: ConfigEntry, definitions: list[Definition], final: Mapping[str, str],
            selectors: list[str] | None = None) -> str:
    have = final.get(entry.name, "n")
    head = f"{entry} (final .config: {ConfigEntry(entry.name, have)})"
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
