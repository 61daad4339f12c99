"""vm/'s rooms and the way their imports run: a room imports only rooms
below it in ROOMS, never one above, and no two rooms import each other.

A room is a package of vm/ (kernel/, guest/, ...) or a module at its top
(suite.py, ...). Imports are read from the sources with ast, those inside
functions included; nothing is imported to find them.
"""

import ast
from collections import defaultdict
from pathlib import Path

from vm.paths import REPO_ROOT

VM = REPO_ROOT / "vm"

# Top to bottom.
ROOMS = (
    # the commands' names, kept where their code moved into a package
    "merge", "prefixes", "derive", "spawnbench",
    # built on the run: mutation testing, the revision gate, benchmarks
    "mutate", "gate", "bench",
    # the run: a build exported for --prebuilt, the run as one object, its options checked
    "export", "suite", "usage",
    # the pipeline, its last step first
    "results", "kselftest", "guest", "kernel",
    # shared by every part
    "options", "preflight", "cache", "proc", "progress", "paths", "errors",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def room(module: str) -> str:
    """vm.kernel.build -> kernel, vm.suite -> suite; vm itself is no room."""
    return module.split(".")[1] if module.count(".") else ""


def imported(path: Path) -> set[str]:
    """The modules below vm that @path imports, as far as the import names them
    (from vm import kernel: vm.kernel; from vm.kernel.build import Built: vm.kernel.build)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found |= {f"{base}.{alias.name}" for alias in node.names} if base == "vm" else {base}
    return {m for m in found if m.startswith("vm.")}


def arrows() -> dict[tuple[str, str], list[str]]:
    """(from room, to room) -> the imports that make that arrow."""
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for path in sorted(VM.rglob("*.py")):
        source = room(module_name(path))
        for module in sorted(imported(path)):
            target = room(module)
            if source and target != source:
                found[source, target].append(f"{path.relative_to(REPO_ROOT)} imports {module}")
    return found


def test_every_module_is_in_a_room() -> None:
    rooms = {room(module_name(p)) for p in VM.rglob("*.py")} - {""}
    assert sorted(rooms - set(ROOMS)) == [], "place them in ROOMS"
    assert sorted(set(ROOMS) - rooms) == [], "no such package or module in vm/"


def test_no_import_runs_up() -> None:
    # A room missing from ROOMS is the first test's failure.
    upward = [why for (a, b), whys in arrows().items()
              if {a, b} <= set(ROOMS) and ROOMS.index(a) > ROOMS.index(b) for why in whys]
    assert upward == []


def test_no_cycle_between_rooms() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in arrows():
        graph[a].add(b)
    done: set[str] = set()

    def cycle_from(node: str, path: list[str]) -> list[str]:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return []
        for nxt in sorted(graph[node]):
            found = cycle_from(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return []

    cycle = next(filter(None, (cycle_from(r, []) for r in ROOMS)), [])
    assert cycle == [], " -> ".join(cycle)
