"""What a .config the suite did not make lacks of the fragments, and whom it stops.

The suite's own builds never get here: a wanted entry that did not survive
olddefconfig stops them (vm/kernel/build.py). A developer's .config
(--kernel-build) is taken as it is; each wanted entry it does not have is
a Gap, with the fragments that ask for it, who needs it
(vm/kernel/kconfig_needs.py) and, if the tree can tell, why it is not set
(vm/kernel/kconfig_explain.py, reading the tree's Kconfig files only).
"""

from collections.abc import Mapping
from dataclasses import dataclass

from vm.kernel import kconfig_explain
from vm.kernel.kconfig import ConfigEntry, Fragment
from vm.kernel.kconfig_needs import Need, needs

# Comma-separated lists where what matters is that every name is there:
# the security modules to start (their order only ranks the exclusive
# ones, and a check whose module did not start skips by itself).
LIST_OPTIONS = frozenset({"CONFIG_LSM"})


@dataclass(frozen=True)
class Gap:
    wanted: ConfigEntry
    have: str  # its value in the .config; "n" when absent or not set
    fragments: tuple[str, ...]  # the fragments that ask for it
    need: Need
    why: str = ""  # why it is not as wanted, if the Kconfig files tell

    def __str__(self) -> str:
        have = ConfigEntry(self.wanted.name, self.have)
        text = f"{self.wanted} (the .config: {'is not set' if self.have == 'n' else have})"
        return f"{text}, from {'+'.join(self.fragments)}" + (f"; {self.why}" if self.why else "")


def met(name: str, wanted: str, have: str) -> bool:
    if name in LIST_OPTIONS and wanted != "n":
        asked, found = (set(v.strip('"').split(",")) for v in (wanted, have))
        return asked <= found
    return wanted == have


def gaps(fragments: tuple[Fragment, ...], final: Mapping[str, str],
         kconfig_files: Mapping[str, str] | None, why_not: str = "") -> list[Gap]:
    """The fragments' wanted entries that @final (a .config as a dict) does
    not meet, in the fragments' order. @kconfig_files: the tree's Kconfig
    texts to explain each with; None: @why_not says why there are none."""
    asked: dict[str, tuple[str, tuple[str, ...]]] = {}
    for fragment in fragments:
        for entry in fragment.entries:
            names = asked.get(entry.name, ("", ()))[1]
            # Later fragments win, as they do when merged onto tinyconfig.
            asked[entry.name] = entry.value, (*names, fragment.path.stem)
    who = needs(fragments)
    found = []
    for name, (value, names) in asked.items():
        have = final.get(name, "n")
        if met(name, value, have):
            continue
        entry = ConfigEntry(name, value)
        found.append(Gap(entry, have, names, who.get(name, Need()),
                         explain(entry, final, kconfig_files) if kconfig_files is not None
                         else why_not))
    return found


def explain(entry: ConfigEntry, final: Mapping[str, str],
            kconfig_files: Mapping[str, str]) -> str:
    """kconfig_explain's notes on one entry, on one line."""
    symbol = entry.name.removeprefix("CONFIG_")
    definitions = kconfig_explain.find_definitions(kconfig_files, symbol)
    if not definitions:
        return f"no Kconfig file of the tree defines {entry.name}"
    text = kconfig_explain.explain(entry, definitions, final,
                                   kconfig_explain.find_selectors(kconfig_files, symbol))
    return "; ".join(n.strip() for n in text.splitlines()[1:] if n.strip())


def skip_reason(found: list[Gap], program: str, check: str) -> str | None:
    """Why the check @check of tests/guest/@program cannot be run on this
    .config, or None when it can."""
    stopping = [g for g in found if g.need.needed_by(program, check)]
    if not stopping:
        return None
    return "the kernel's .config lacks what it needs: " + "; ".join(str(g) for g in stopping)
