"""Mutants of a reference series: one exact-text edit each, naming its rule.

    patches/mutants/<revision>/<name>.yaml
      rule: the contract rule it breaks, quoted or cited from the contract
      trigger: which trigger of that rule (for rules that list several)
      file: the kernel file it edits (as the whole series leaves it)
      why: one line: the bug, as a reviewer would describe it
      checks: [optional] the checks that should catch it, run first
      old: the exact text to replace; must occur exactly once in the file
      new: its replacement

A mutant that cannot be applied (its text is missing or ambiguous, or it
leaves the file unchanged) is a defect of the mutant, never a kill.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from vm.paths import GUEST_CHECKS_DIR, REPO_ROOT

REQUIRED = ("rule", "trigger", "file", "why", "old", "new")
OPTIONAL = ("checks",)
# A check as the docs name it (program.fixture[.variant].test) or as a
# pytest node id (tests/guest/program.c::fixture[.variant].test).
_NODE = re.compile(r"^(?:tests/guest/)?(?P<prog>\w+)(?:\.c::|\.)(?P<check>[\w.]+)$")


class MutantError(Exception):
    """A mutant file is malformed or its edit does not apply."""


@dataclass(frozen=True)
class Mutant:
    name: str
    rule: str
    trigger: str
    file: str
    why: str
    old: str
    new: str
    checks: tuple[str, ...]  # pytest node ids

    def edit(self, text: str) -> str:
        """@text with the edit made; MutantError unless 'old' occurs once."""
        count = text.count(self.old)
        if count != 1:
            raise MutantError(f"{self.name}: its 'old' text occurs {count} times in "
                              f"{self.file}, not once")
        return text.replace(self.old, self.new)


def node_id(check: str) -> str:
    """A check hint as the pytest node id of a guest check."""
    m = _NODE.match(check.strip())
    if m is None:
        raise MutantError(f"check {check!r}: not program.fixture.test nor a node id")
    path = (GUEST_CHECKS_DIR / f"{m['prog']}.c").relative_to(REPO_ROOT)
    return f"{path}::{m['check']}"


def load(path: Path) -> Mutant:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as e:
        raise MutantError(f"{path}: {e}") from e
    if not isinstance(data, dict):
        raise MutantError(f"{path}: must be a mapping with keys {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if not isinstance(data.get(k), str)]
    if missing:
        raise MutantError(f"{path}: missing or not text: {', '.join(missing)}")
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise MutantError(f"{path}: unknown keys: {', '.join(unknown)}")
    if not data["old"] or data["old"] == data["new"]:
        raise MutantError(f"{path}: 'old' is empty or equal to 'new'")
    if not data["rule"].strip() or not data["why"].strip():
        raise MutantError(f"{path}: 'rule' and 'why' must say something")
    checks = data.get("checks") or []
    if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
        raise MutantError(f"{path}: 'checks' must be a list of check names")
    return Mutant(name=path.stem, rule=data["rule"].strip(), trigger=data["trigger"].strip(),
                  file=data["file"].strip(), why=data["why"].strip(), old=data["old"],
                  new=data["new"], checks=tuple(node_id(c) for c in checks))


def load_dir(directory: Path, only: list[str] | None = None) -> list[Mutant]:
    """Every mutant of @directory (sorted by name), or those named in @only."""
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise MutantError(f"{directory}: no *.yaml mutant")
    mutants = [load(f) for f in files]
    if only:
        known = {m.name for m in mutants}
        unknown = [n for n in only if n not in known]
        if unknown:
            raise MutantError(f"--only: no such mutant in {directory}: {', '.join(unknown)}")
        mutants = [m for m in mutants if m.name in only]
    return mutants
