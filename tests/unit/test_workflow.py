"""The CI workflow runs the suite's commands as the README documents them,
and every module and option they use exists."""

import importlib.util
import re
from pathlib import Path

import yaml

from vm.paths import REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "ci.yml"
SUITE_COMMAND = re.compile(r"^(python3 -m (tox|vm\.\w+)|\.ci/|sudo \.ci/|pytest)\b")


def command_source(module: str) -> str:
    """The text of what `python3 -m MODULE` runs: the module, or its package's
    __main__, and the module its main() comes from when it only names it."""
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None, module
    if spec.submodule_search_locations is not None:
        return command_source(module + ".__main__")
    text = Path(spec.origin).read_text()
    delegate = re.search(r"^from (vm\.[\w.]+) import main$", text, re.M)
    return text + (command_source(delegate.group(1)) if delegate else "")


def workflow_commands() -> list[str]:
    """The suite's commands in every run step, each line on its own."""
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    lines = [line.strip() for job in jobs.values() for step in job["steps"]
             for line in str(step.get("run", "")).splitlines()]
    return [line.removeprefix("sudo ") for line in lines if SUITE_COMMAND.match(line)]


def readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## CI (GitHub Actions)", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    return [line.strip() for line in block.splitlines() if line.strip()]


def as_pattern(command: str) -> re.Pattern[str]:
    """A workflow line with its ${{ expressions }} as README's <placeholders>."""
    parts = re.split(r"\$\{\{[^}]*\}\}", command)
    return re.compile("^" + "<[^>]+>".join(re.escape(p) for p in parts) + "$")


def test_the_workflow_runs_the_readmes_commands() -> None:
    ours, documented = workflow_commands(), readme_commands()
    assert ours, "no suite command found in the workflow"
    for command in ours:
        assert any(as_pattern(command).match(d) for d in documented), (
            f"workflow command not in README's CI section: {command}")
    for line in documented:
        assert any(as_pattern(c).match(line) for c in ours), f"README's {line} is not run"


def test_the_modules_and_options_the_commands_use_exist() -> None:
    conftest = (REPO_ROOT / "conftest.py").read_text()
    tox = (REPO_ROOT / "tox.ini").read_text()
    for command in workflow_commands():
        words = command.split()
        if words[:2] == ["python3", "-m"] and words[2].startswith("vm."):
            module = words[2]
            source = command_source(module)
            for option in (w for w in words[3:] if w.startswith("--")):
                assert f'"{option}"' in source, f"{module} {option}"
        if words[:4] == ["python3", "-m", "tox", "-e"]:
            assert f"[testenv:{words[4]}]" in tox
            # The env runs pytest, or a module whose options its posargs are.
            env = tox.split(f"[testenv:{words[4]}]", 1)[1].split("\n[", 1)[0]
            runs = re.search(r"python -m (vm\.\w+)", env)
            where = command_source(runs.group(1)) if runs else conftest
            for option in (w for w in words[5:] if w.startswith("--") and w != "--"):
                assert f'"{option}"' in where, f"tox -e {words[4]}: option {option}"
        if words[0].startswith(".ci/"):
            assert (REPO_ROOT / words[0]).is_file()


def test_the_gate_is_the_last_job_and_tests_need_the_build() -> None:
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    assert list(jobs)[-1] == "gate"
    assert jobs["test"]["needs"] == "build" and jobs["merge"]["needs"] == "test"
