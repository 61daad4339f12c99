"""The results folder says what was booted, from the build's own record:
never from the options of the run that boots it."""

import json
from pathlib import Path

from vm.cache import Cache
from vm.kernel import series
from vm.kernel.build import Configured, provenance
from vm.options import Options
from vm.progress import silent
from vm.results.summary import new_run_dir
from vm.suite import Suite

from .kernel.test_identity import GOOD
from .test_usage import V1, record_of, recorded


def test_no_build_reports_the_series_of_the_build_it_boots(
        mini_git_tree: Path, cache: Cache, tmp_path: Path) -> None:
    v1 = series.load(str(V1))
    recorded(mini_git_tree, cache, record_of(v1, ("debug",)))
    run_dir = new_run_dir(tmp_path / "results")
    suite = Suite(Options(kernel_tree=mini_git_tree, no_build=True), run_dir, silent,
                  cache=cache)
    built = suite.kernel()
    assert built.identity == GOOD
    suite.summary.accel = "tcg"
    suite.summary.booted = GOOD
    suite.finish()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["series"] == "spawn-template v1"
    p = summary["provenance"]
    assert p["series_key"] == v1.key and p["patchset_hash"] == v1.patchset_hash
    assert (p["series_name"], p["series_revision"]) == ("spawn-template", "v1")
    assert p["kernel_version"] == "6.12.117" and p["kernel_source"] == "a test"
    assert p["fragments"][-1] == "debug" and p["config_hash"] == "c0ffee"
    assert p["build_identity"] == p["booted_identity"] == GOOD
    assert p["accelerator"] == "tcg" and p["how"].startswith("--no-build")
    md = (run_dir / "summary.md").read_text()
    assert f"- series key: {v1.key}" in md and "c0ffee" in md


def test_a_build_records_where_it_comes_from(tmp_path: Path) -> None:
    from vm.kernel.apply import AppliedTree
    from vm.kernel.source import KernelSource
    v1 = series.load(str(V1))
    src = KernelSource(repo=tmp_path, base="ab" * 20, version="6.12.117", origin="/usr/src/x")
    configured = Configured(tmp_path, "key", ("base", "debug"), "wanted")
    (tmp_path / ".config").write_text("CONFIG_A=y\n")
    fields = provenance(AppliedTree(src, v1, "c" * 40), configured)
    assert fields["series"] == "spawn-template v1" and fields["series_key"] == v1.key
    assert fields["kernel_origin"] == "/usr/src/x" and fields["base"] == "ab" * 20
    assert fields["fragments"] == ("base", "debug") and fields["wanted_key"] == "wanted"
    assert len(str(fields["config_hash"])) == 16


def test_patchset_hash_is_kcidbs() -> None:
    import hashlib
    v1 = series.load(str(V1))
    each = "".join(hashlib.sha256(p.text.encode()).hexdigest() + "\n" for p in v1.patches)
    assert v1.patchset_hash == hashlib.sha256(each.encode()).hexdigest()
    assert series.NO_SERIES.patchset_hash == ""
