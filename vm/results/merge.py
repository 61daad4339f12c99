"""Merge the results folders of shards (--shard I/N), or of a run's
workers (-n N), into one.

    python3 -m vm.merge OUT RUN_DIR [RUN_DIR ...]

Writes OUT/junit.xml, results.ktap, kcidb.json, checks.json and
summary.{md,json}: the totals an unsharded run of the same build gives.
Exits with the shards' combined status (vm/results/routing.py), 4 if they cannot be
merged (a test in two shards, shards that booted different builds).
A run with workers merges their folders itself at its end (merge_workers);
pytest writes its junit.xml from every worker's reports.
"""

import argparse
import json
import shutil
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from vm.errors import UsageError
from vm.results import ktap, records, routing
from vm.results.kcidb import KCIDB_FILE
from vm.results.records import CheckResult
from vm.results.status import ExitStatus
from vm.results.summary import Summary, status_name

JUNIT = "junit.xml"
SUMMARY = "summary.json"


def merge_checks(runs: list[Path]) -> list[CheckResult]:
    merged: dict[str, CheckResult] = {}
    for run in runs:
        for result in records.load(run / records.CHECKS_FILE):
            if result.nodeid in merged:
                raise UsageError(f"{result.nodeid} is in two shards: not parts of one run")
            merged[result.nodeid] = result
    return records.ordered(list(merged.values()))


def merge_kcidb(docs: list[dict[str, Any]]) -> dict[str, Any]:
    # A part that failed before it had a kernel names none ("not-built-"):
    # only the kernels that were built must be one.
    builds = {b["id"]: b for d in docs for b in d["builds"] if ":not-built-" not in b["id"]}
    if len(builds) > 1:
        raise UsageError("the shards booted different builds: " + ", ".join(sorted(builds)))
    merged: dict[str, Any] = {"version": docs[0]["version"], "checkouts": [], "builds": [],
                              "tests": []}
    for kind in ("checkouts", "builds", "tests"):
        seen: dict[str, Any] = {}
        for doc in docs:
            for obj in doc[kind]:
                seen.setdefault(obj["id"], obj)
        merged[kind] = sorted(seen.values(), key=lambda o: str(o.get("path", o["id"])))
    return merged


def merge_junit(files: list[Path]) -> "ET.ElementTree[ET.Element]":
    """One <testsuite> with every shard's test cases and summed counts."""
    suite = ET.Element("testsuite", name="pytest")
    totals: Counter[str] = Counter()
    seconds = 0.0
    for path in files:
        for shard_suite in ET.parse(path).getroot().iter("testsuite"):
            for key in ("tests", "errors", "failures", "skipped"):
                totals[key] += int(shard_suite.get(key) or 0)
            seconds += float(shard_suite.get("time") or 0)
            suite.extend(shard_suite.findall("testcase"))
    for key in ("errors", "failures", "skipped", "tests"):
        suite.set(key, str(totals[key]))
    suite.set("time", f"{seconds:.3f}")
    root = ET.Element("testsuites")
    root.append(suite)
    return ET.ElementTree(root)


def merge_summary(summaries: list[dict[str, Any]],
                  parts: str = "shards") -> tuple[Summary, dict[str, Any]]:
    # A part that ran no guest test built and booted nothing: not the one to describe.
    first = next((s for s in summaries if s["build"] != "-"), summaries[0])
    summary = Summary(kernel=first["kernel"], build=first["build"], booted=first["booted"],
                      proc_version=first["proc_version"], series=first["series"],
                      accel=first["accel"])
    summary.merged_provenance = first["provenance"] or None
    summary.kernel_build = first.get("kernel_build", {})  # --kernel-build: the same build
    if parts == "workers":
        summary.workers = len(summaries)
    summary.counts = defaultdict(Counter)
    for s in summaries:
        summary.kselftest.update(s.get("kselftest", {}))
        for area, counts in s["areas"].items():
            summary.counts[area].update(counts)
        summary.failures += s["failures"]
        for phase, secs in s["timings_s"].items():
            summary.timings[phase] = summary.timings.get(phase, 0.0) + secs
    summary.exit_status = routing.combine(s["exit_status"] for s in summaries
                                          if s["exit_status"] is not None)
    summary.exit_reason = next((s["exit_reason"] for s in summaries
                                if s["exit_status"] == summary.exit_status and s["exit_reason"]),
                               "")
    data = summary.to_json()
    data["provenance"] = first["provenance"]
    data[parts] = len(summaries)
    return summary, data


def _require(runs: list[Path], names: tuple[str, ...]) -> None:
    for run in runs:
        for name in names:
            if not (run / name).is_file():
                raise UsageError(f"{run}: no {name}: not a results folder of a run")


def _merge_results(out: Path, runs: list[Path], parts: str,
                   exit_status: int | None = None) -> Summary:
    """checks.json, results.ktap, kcidb.json and summary.{md,json}; the
    parts' combined exit status unless @exit_status is given."""
    out.mkdir(parents=True, exist_ok=True)
    results = merge_checks(runs)
    records.save(results, out / records.CHECKS_FILE)
    (out / ktap.KTAP_FILE).write_text(ktap.render(results))
    doc = merge_kcidb([json.loads((r / KCIDB_FILE).read_text()) for r in runs])
    (out / KCIDB_FILE).write_text(json.dumps(doc, indent=1) + "\n")
    parts_data = [json.loads((r / SUMMARY).read_text()) for r in runs]
    summary, data = merge_summary(parts_data, parts)
    if exit_status is not None and exit_status != summary.exit_status:
        summary.exit_status = exit_status
        summary.exit_reason = next((s["exit_reason"] for s in parts_data
                                    if s["exit_status"] == exit_status and s["exit_reason"]), "")
        data.update(exit_status=exit_status, exit_meaning=status_name(exit_status),
                    exit_reason=summary.exit_reason)
    (out / "summary.md").write_text(summary.to_markdown())
    (out / SUMMARY).write_text(json.dumps(data, indent=2) + "\n")
    return summary


def merge(out: Path, runs: list[Path]) -> int:
    _require(runs, (records.CHECKS_FILE, KCIDB_FILE, JUNIT, SUMMARY))
    summary = _merge_results(out, runs, "shards")
    merge_junit([r / JUNIT for r in runs]).write(out / JUNIT, encoding="utf-8",
                                                 xml_declaration=True)
    assert summary.exit_status is not None
    return summary.exit_status


def merge_workers(out: Path, workers: list[Path], exit_status: int) -> Summary:
    """The workers' folders of one run into the run's own, as one guest would
    have left it; each worker's console and kernel logs stay in its folder."""
    _require(workers, (records.CHECKS_FILE, KCIDB_FILE, SUMMARY))
    summary = _merge_results(out, workers, "workers", exit_status)
    for worker in workers:
        # One log per check, each check run by one worker.
        if (worker / "checks").is_dir():
            shutil.copytree(worker / "checks", out / "checks", dirs_exist_ok=True)
        if (worker / "kernel.config").is_file() and not (out / "kernel.config").exists():
            shutil.copyfile(worker / "kernel.config", out / "kernel.config")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m vm.merge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("runs", type=Path, nargs="+")
    args = parser.parse_args(argv)
    try:
        status = merge(args.out, args.runs)
    except UsageError as e:
        print(f"vm.merge: {e}", file=sys.stderr)
        return ExitStatus.USAGE
    print((args.out / "summary.md").read_text(), end="")
    return status
