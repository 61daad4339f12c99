"""A mutant as the next patch of its series: a mail git am applies.

The diff is made from the file as the whole series leaves it, so that the
mutant applies on top of exactly that series; its subject and body name
the mutant and the contract rule it breaks.
"""

import difflib

from vm.mutate.mutants import Mutant

AUTHOR = "spawn-template-suite <suite@localhost>"
DATE = "Sat, 1 Jan 2000 00:00:00 +0000"
NO_NEWLINE = "\\ No newline at end of file\n"


def unified_diff(path: str, before: str, after: str) -> str:
    """A `diff --git` of one file, as git would write it (no index line)."""
    lines = list(difflib.unified_diff(before.splitlines(keepends=True),
                                      after.splitlines(keepends=True),
                                      fromfile=f"a/{path}", tofile=f"b/{path}", n=3))
    if not lines:
        return ""
    out = [f"diff --git a/{path} b/{path}\n"]
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n" + NO_NEWLINE)
    return "".join(out)


def mail(mutant: Mutant, before: str) -> str:
    """The mutant as a patch mail for @before, the file it edits."""
    diff = unified_diff(mutant.file, before, mutant.edit(before))
    added = sum(1 for x in diff.splitlines() if x.startswith("+") and not x.startswith("+++"))
    removed = sum(1 for x in diff.splitlines() if x.startswith("-") and not x.startswith("---"))
    return (f"From 0000000000000000000000000000000000000000 Mon Sep 17 00:00:00 2001\n"
            f"From: {AUTHOR}\n"
            f"Date: {DATE}\n"
            f"Subject: [PATCH] MUTANT: {mutant.name}\n"
            "\n"
            "A deliberate bug, applied on top of the reference series to show that\n"
            "the guest checks catch it (python3 -m vm.mutate, docs/mutation.md).\n"
            "\n"
            f"Breaks: {mutant.rule}\n"
            f"Trigger: {mutant.trigger}\n"
            f"Bug: {mutant.why}\n"
            "---\n"
            f" {mutant.file} | {added + removed} {'+' * added}{'-' * removed}\n"
            f" 1 file changed, {added} insertions(+), {removed} deletions(-)\n"
            "\n"
            f"{diff}"
            "-- \n"
            "2.39.5\n")
