"""The guest program's output (tests/guest/bench_spawn.c), parsed.

One record a line: `spawnbench 1`, `param NAME VALUE`, `info NAME VALUE`,
`method NAME ok|unavailable ERRNO|failed TEXT`, `s METHOD THREAD NS`,
`end WALL_NS`. Anything else is an error: the format is ours, so a line we
do not know means the program and this parser disagree.
"""

from dataclasses import dataclass, field

FORMAT_VERSION = "1"


class OutputError(ValueError):
    """The program's output is not what the format says."""


@dataclass(frozen=True)
class MethodState:
    status: str  # "ok", "unavailable" or "failed"
    detail: str = ""  # the errno name, or what failed


@dataclass
class Output:
    params: dict[str, str] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)
    methods: dict[str, MethodState] = field(default_factory=dict)
    samples: dict[str, list[int]] = field(default_factory=dict)  # ns, threads pooled
    wall_ns: int | None = None  # None: the run did not finish

    @property
    def complete(self) -> bool:
        return self.wall_ns is not None


def _int(text: str, lineno: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise OutputError(f"line {lineno}: {text!r} is not an integer") from None


def parse(text: str) -> Output:
    out = Output()
    header_seen = False
    for lineno, line in enumerate(text.splitlines(), 1):
        fields = line.split()
        if not fields:
            continue
        kind = fields[0]
        if not header_seen:
            if fields != ["spawnbench", FORMAT_VERSION]:
                raise OutputError(f"line {lineno}: expected 'spawnbench {FORMAT_VERSION}', "
                                  f"got {line!r}")
            header_seen = True
            continue
        if out.complete:
            raise OutputError(f"line {lineno}: {line!r} after the end record")
        if kind == "s" and len(fields) == 4:
            method = fields[1]
            if out.methods.get(method) != MethodState("ok"):
                raise OutputError(f"line {lineno}: sample of {method}, "
                                  "which is not declared ok")
            _int(fields[2], lineno)
            ns = _int(fields[3], lineno)
            if ns < 0:
                raise OutputError(f"line {lineno}: negative time {ns}")
            out.samples[method].append(ns)
        elif kind in ("param", "info") and len(fields) == 3:
            (out.params if kind == "param" else out.info)[fields[1]] = fields[2]
        elif kind == "method" and len(fields) >= 3:
            name, status = fields[1], fields[2]
            if status not in ("ok", "unavailable", "failed"):
                raise OutputError(f"line {lineno}: unknown method status {status!r}")
            if name in out.methods:
                raise OutputError(f"line {lineno}: method {name} declared twice")
            out.methods[name] = MethodState(status, " ".join(fields[3:]))
            if status == "ok":
                out.samples[name] = []
        elif kind == "end" and len(fields) == 2:
            out.wall_ns = _int(fields[1], lineno)
        else:
            raise OutputError(f"line {lineno}: unknown record {line!r}")
    if not header_seen:
        raise OutputError("no 'spawnbench' header: not the benchmark's output")
    return out
