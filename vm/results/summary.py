"""The results folder of one run and its one-screen summary."""

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from vm.kernel.identity import BuildRecord
from vm.results.status import ExitStatus

# A list of more items than this goes on one line of summary.md.
LONG_LIST = 8


def new_run_dir(results_root: Path, prefix: str = "") -> Path:
    """results/<prefix><run-id>/, the run id being the start time (unique per second)."""
    stamp = prefix + time.strftime("%Y%m%d-%H%M%S")
    for n in range(100):
        run_dir = results_root / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            run_dir.mkdir(parents=True)
            return run_dir
        except FileExistsError:
            continue
    raise RuntimeError(f"cannot make a run folder under {results_root}")


def status_name(status: int | None) -> str:
    if status is None:
        return "-"
    try:
        return ExitStatus(status).name.lower().replace("_", " ")
    except ValueError:
        return "unknown"


@dataclass
class Summary:
    """What a developer or CI wants to see at the end of a run."""

    kernel: str = "-"
    build: str = "-"  # identity of the build (vm/kernel/identity.py)
    booted: str = "-"  # identity the guest reported
    proc_version: str = "-"  # the guest's /proc/version, whole
    series: str = "-"
    accel: str = "-"
    how: str = "-"  # built by the run, --no-build or --prebuilt
    record: BuildRecord | None = None  # of the build that boots
    exit_status: int | None = None  # vm/results/status.py
    exit_reason: str = ""  # the first error behind it, if one
    timings: dict[str, float] = field(default_factory=dict)  # phase -> seconds
    counts: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failures: list[str] = field(default_factory=list)
    # The kernel's own selftests: targets, the config they added, the base's run.
    kselftest: dict[str, str] = field(default_factory=dict)
    # Merged parts (shards, workers) carry their provenance, not a record.
    merged_provenance: dict[str, object] | None = None
    workers: int = 0  # xdist workers, each with its own guest; 0: none
    # --kernel-build: the developer's build and what its .config lacks
    # (vm/kernel/devbuild.py KernelBuild.report()).
    kernel_build: dict[str, object] = field(default_factory=dict)

    def set_build(self, record: BuildRecord) -> None:
        """Everything said about the kernel comes from its build record."""
        self.record = record
        self.build = record.identity
        self.kernel = (f"{record.kernel_version} from {record.kernel_origin}"
                       if record.kernel_version else record.source)
        self.series = record.series

    def provenance(self) -> dict[str, object]:
        """What was booted, field by field (summary.json, KCIDB)."""
        if self.merged_provenance is not None:
            return self.merged_provenance
        r = self.record
        if r is None:
            return {}
        return {
            "how": self.how,
            "kernel_version": r.kernel_version, "kernel_source": r.kernel_origin,
            "kernel_base": r.base, "series": r.series, "series_name": r.series_name,
            "series_revision": r.series_revision, "series_key": r.series_key,
            "patchset_hash": r.patchset_hash, "fragments": list(r.fragments),
            "config_hash": r.config_hash, "build_identity": r.identity,
            "build_inputs": r.inputs, "booted_identity": self.booted, "accelerator": self.accel,
            # A build the suite did not make: what stands for its identity.
            **({"version_string": r.version_string} if r.version_string else {}),
        }

    def add(self, area: str, outcome: str, nodeid: str) -> None:
        self.counts[area][outcome] += 1
        if outcome == "failed":
            self.failures.append(nodeid)

    def totals(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for c in self.counts.values():
            total.update(c)
        return total

    def to_json(self) -> dict[str, object]:
        return {
            "kernel": self.kernel,
            "build": self.build,
            "booted": self.booted,
            "proc_version": self.proc_version,
            "series": self.series,
            "accel": self.accel,
            "provenance": self.provenance(),
            "exit_status": self.exit_status,
            "exit_meaning": status_name(self.exit_status),
            "exit_reason": self.exit_reason,
            "timings_s": {k: round(v, 1) for k, v in self.timings.items()},
            "areas": {a: dict(c) for a, c in sorted(self.counts.items())},
            "totals": dict(self.totals()),
            "failures": self.failures,
            "kselftest": self.kselftest,
            **({"kernel_build": self.kernel_build} if self.kernel_build else {}),
        }

    def to_markdown(self) -> str:
        t = self.totals()
        lines = [
            "# spawn-template suite: summary",
            "",
            f"- kernel: {self.kernel}",
            f"- build: {self.build} (booted: {self.booted})",
            f"- series: {self.series}",
            *self._provenance_lines(),
            f"- accelerator: {self.accel}",
            *(f"- kselftest {k}: {v}" for k, v in self.kselftest.items()),
            *([f"- workers: {self.workers}, one guest each (results/<run>/workers/)"]
              if self.workers else []),
            ("- wall time" + (" (summed over the workers)" if self.workers else "") + ": "
             + (", ".join(f"{k} {v:.1f} s" for k, v in self.timings.items()) or "-")),
            *self._kernel_build_lines(),
            "",
            "| area | passed | failed | skipped |",
            "|---|---:|---:|---:|",
        ]
        for area, c in sorted(self.counts.items()):
            lines.append(f"| {area} | {c['passed']} | {c['failed']} | {c['skipped']} |")
        lines.append(f"| **total** | {t['passed']} | {t['failed']} | {t['skipped']} |")
        if self.failures:
            lines += ["", "Failed:"] + [f"- {f}" for f in self.failures]
        if self.exit_status is not None:
            lines += ["", f"Exit status {self.exit_status} ({status_name(self.exit_status)})"
                      + (f": {self.exit_reason}" if self.exit_reason else "")]
        return "\n".join(lines) + "\n"

    def _kernel_build_lines(self) -> list[str]:
        """The developer's build: each field, a list as sub-items (or "none")."""
        lines = ["- kernel build (--kernel-build):"] if self.kernel_build else []
        for key, value in self.kernel_build.items():
            if isinstance(value, list) and len(value) > LONG_LIST:
                lines.append(f"  - {key}: {len(value)}: {', '.join(map(str, value))}")
            elif isinstance(value, list):
                lines.append(f"  - {key}: {len(value) or 'none'}")
                lines += [f"    - {v}" for v in value]
            else:
                lines.append(f"  - {key}: {value}")
        return lines

    def _provenance_lines(self) -> list[str]:
        p = self.provenance()
        if not p:
            return []
        fragments = p.get("fragments") or []
        assert isinstance(fragments, list)
        # A developer's build (--kernel-build) has neither a series key nor fragments.
        config = ", ".join(fragments) or ("its own" if p.get("version_string") else "-")
        return [*([f"- series key: {p['series_key']}"
                   + (f", patchset hash {str(p['patchset_hash'])[:16]}"
                      if p.get("patchset_hash") else "")] if p.get("series_key") else []),
                f"- config: {config} (.config hash {p.get('config_hash') or '-'})",
                f"- kernel from: {p.get('how', self.how)}"]

    def write(self, run_dir: Path) -> None:
        (run_dir / "summary.md").write_text(self.to_markdown())
        (run_dir / "summary.json").write_text(json.dumps(self.to_json(), indent=2) + "\n")
