"""The run as a KCIDB v5 document (kcidb.json): a checkout, its build, a test
per check. Written for whoever submits it; the suite submits nothing.

Ids are stable for the same inputs: the checkout's from the source base and
the patchset, the build's from its identity, a test's from its build and
path. Shards of one build merge into the document an unsharded run gives.
"""

from typing import Any

from vm.kernel.identity import BuildRecord
from vm.kernel.series import Series
from vm.paths import digest
from vm.results.records import CheckResult, Status, ordered
from vm.results.status import ExitStatus

ORIGIN = "spawn_template"
KCIDB_FILE = "kcidb.json"
VERSION = {"major": 5, "minor": 3}
LOG_EXCERPT_MAX = 16384  # the schema's maxLength


def excerpt(text: str) -> str:
    """The end of a log: where a failure says why. Characters, not bytes."""
    text = text.replace("\0", "")
    return text if len(text) <= LOG_EXCERPT_MAX else text[-LOG_EXCERPT_MAX:]


def _checkout(record: BuildRecord | None, requested: Series,
              causes: dict[ExitStatus, str], failed_to_apply: bool) -> dict[str, Any]:
    base = record.base if record else ""
    patchset = record.patchset_hash if record else requested.patchset_hash
    checkout: dict[str, Any] = {
        "id": f"{ORIGIN}:{digest(base, patchset)}", "origin": ORIGIN,
        "tree_name": "linux-6.12", "patchset_hash": patchset,
        "comment": (f"{record.series} on {record.kernel_version} from {record.kernel_origin}"
                    if record else f"{requested.title} ("
                    + ("does not apply" if failed_to_apply else "no build booted") + ")"),
        "valid": not failed_to_apply,
        "misc": {"series": record.series if record else requested.title,
                 "series_key": record.series_key if record else requested.key,
                 "kernel_base": base},
    }
    if failed_to_apply:
        checkout["log_excerpt"] = excerpt(causes.get(ExitStatus.REVISION_BROKEN, ""))
    return checkout


def document(record: BuildRecord | None, requested: Series, provenance: dict[str, object],
             results: list[CheckResult], causes: dict[ExitStatus, str]) -> dict[str, Any]:
    """@record: the build that booted, None when there was none (it did not
    apply or build: @causes says why); @requested: the series asked for."""
    broken = causes.get(ExitStatus.REVISION_BROKEN, "")
    failed_to_apply = broken.startswith("SeriesError")
    checkout = _checkout(record, requested, causes, failed_to_apply)
    doc: dict[str, Any] = {"version": VERSION, "checkouts": [checkout], "builds": [],
                           "tests": []}
    if failed_to_apply:
        return doc
    build_id = f"{ORIGIN}:{record.identity if record else 'not-built-' + checkout['id'][-16:]}"
    build: dict[str, Any] = {
        "id": build_id, "checkout_id": checkout["id"], "origin": ORIGIN,
        # No record: it failed to build, or was never tried (no check needed it).
        "architecture": "x86_64", "status": "PASS" if record else "FAIL" if broken else "MISS",
        "config_name": "+".join(record.fragments) if record and record.fragments else "-",
        "misc": {k: v for k, v in provenance.items() if v not in ("", None, [])},
    }
    if record is None and broken:
        build["log_excerpt"] = excerpt(broken)
    doc["builds"].append(build)
    for r in ordered(results):
        test: dict[str, Any] = {
            "id": f"{build_id}:{r.path}", "build_id": build_id, "origin": ORIGIN,
            "path": r.path, "status": r.status.value, "duration": round(r.seconds, 3),
            "misc": {"nodeid": r.nodeid},
        }
        if r.log.strip() and r.status is not Status.PASS:
            test["log_excerpt"] = excerpt(r.log)
        if provenance.get("accelerator"):
            test["environment"] = {"comment": f"QEMU ({provenance['accelerator']})"}
        doc["tests"].append(test)
    return doc
