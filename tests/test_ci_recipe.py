"""The CI recipe (example_project/.github/workflows/hptune.yml) is run, not
parsed: tests/workflow_runner.py executes its steps as written in fresh
copies of the example project, in a fresh virtual environment holding only
what the install step's requirement and extras bring, with the variables
GitHub sets. Only the install source is replaced (the wheel built from this
checkout: a runner here has no network). The one speed-up: PYTEST_ADDOPTS
selects the example's fastest search (scikit-learn, cross-validated), so the
recipe's own pytest command runs four times in well under a minute."""

import re
import shutil
from pathlib import Path

import pytest
import yaml
from workflow_runner import JobResult, Runner, WorkflowError, build_wheel, evaluate, load_job, triggers

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
WORKFLOW = EXAMPLE / ".github" / "workflows" / "hptune.yml"
FAST = {"PYTEST_ADDOPTS": "-k classic_estimators"}
PULL_REQUEST = ("pull_request", "refs/pull/1/merge")
MAIN = ("workflow_dispatch", "refs/heads/main")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_wheel(ROOT, tmp_path_factory.mktemp("wheel"))


def _copy(tmp_path: Path, name: str, baseline: Path | None = None) -> Path:
    """A fresh copy of the example project: the user's repository."""
    repo = tmp_path / name
    junk = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".venv", "hptune-report*.json", "hptune.html")
    shutil.copytree(EXAMPLE, repo, ignore=junk)
    if baseline is not None:
        shutil.copy(baseline, repo / "hptune-baseline.json")  # committed after review
    return repo


def _run(tmp_path: Path, wheel: Path, repo: Path, event_ref: tuple[str, str]) -> JobResult:
    event, ref = event_ref
    work = tmp_path / f"runner-{repo.name}"
    return Runner(WORKFLOW, repo, wheel, work, event, ref, FAST).run()


def _outcomes(job: JobResult) -> dict[str, str]:
    return {step.name: step.outcome for step in job.steps}


def test_the_recipe_runs_green_first_saves_on_main_and_goes_red_on_a_regression(tmp_path: Path, wheel: Path) -> None:
    # A first pull request, no baseline committed yet: the gates judge, green,
    # and the job summary says the search was not compared.
    job = _run(tmp_path, wheel, _copy(tmp_path, "first-pr"), PULL_REQUEST)
    assert job.ok, job.log()
    steps = _outcomes(job)
    assert steps["Compare with the committed baseline"] == "success"
    assert steps["Save a fresh baseline"] == steps["Upload the fresh baseline for review"] == "skipped"
    assert "pytest_hptune from " + str(tmp_path) in job.step("Install").output
    assert "not compared: no baseline entry" in job.summary
    assert "1 search(es): 1 passed, 0 failed, 1 not compared with a baseline" in job.summary
    assert job.artifacts is not None and (job.artifacts / "hptune-report" / "hptune.html").is_file()

    # On main (by hand or on schedule): a fresh baseline, uploaded for review.
    job = _run(tmp_path, wheel, _copy(tmp_path, "main"), MAIN)
    assert job.ok, job.log()
    assert _outcomes(job)["Compare with the committed baseline"] == "skipped"
    assert job.artifacts is not None
    saved = job.artifacts / "hptune-baseline" / "hptune-baseline.json"
    assert saved.is_file()
    assert not list((tmp_path / "main").glob(".*.lock")), "no lock file left to commit"

    # The reviewed baseline committed: an unchanged model passes the comparison...
    job = _run(tmp_path, wheel, _copy(tmp_path, "unchanged-pr", saved), PULL_REQUEST)
    assert job.ok, job.log()
    assert "no regression" in job.summary and "not compared" not in job.summary

    # ...and a model that regressed (a third of its training labels shuffled) fails the job.
    repo = _copy(tmp_path, "regressed-pr", saved)
    model = repo / "digits_model.py"
    broken = 'y = digits.target.astype("int32")\n    y[::3] = np.random.default_rng(0).permutation(y[::3])'
    model.write_text(model.read_text().replace('y = digits.target.astype("int32")', broken))
    job = _run(tmp_path, wheel, repo, PULL_REQUEST)
    assert _outcomes(job)["Compare with the committed baseline"] == "failure", job.log()
    assert "REGRESSED" in job.summary or "FAILED" in job.summary


def test_the_runner_fails_a_step_that_fails_as_written(tmp_path: Path, wheel: Path) -> None:
    """The original recipe's fault: --hptune-html without the plot extra is
    a usage error in the fresh environment (matplotlib is not there)."""
    text = WORKFLOW.read_text().replace("[tensorflow,sklearn,plot]", "[tensorflow,sklearn]")
    workflow = tmp_path / "no-plot.yml"
    workflow.write_text(text)
    repo = _copy(tmp_path, "no-plot")
    job = Runner(workflow, repo, wheel, tmp_path / "runner", *PULL_REQUEST, FAST).run()
    step = job.step("Compare with the committed baseline")
    assert step.outcome == "failure"
    assert "--hptune-html needs matplotlib" in step.output


def test_the_recipe_keeps_no_baseline_in_a_cache_and_installs_from_a_url() -> None:
    job = load_job(WORKFLOW)
    uses = [step.get("uses", "") for step in job["steps"]]
    assert not any(u.startswith("actions/cache") for u in uses), "a cache must never replace a reviewed baseline"
    assert set(triggers(WORKFLOW)) == {"pull_request", "workflow_dispatch", "schedule"}
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "master" not in WORKFLOW.read_text()
    assert re.search(r'pip install "pytest-hptune\[[a-z,]*plot[a-z,]*\] @ git\+https://', runs)


def test_the_docs_show_the_recipe_as_it_is() -> None:
    page = (ROOT / "docs" / "ci.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", page, re.S)
    assert WORKFLOW.read_text() in blocks


@pytest.mark.parametrize(
    "expression, event, ref, failed, expected",
    [
        ("github.event_name == 'pull_request'", "pull_request", "refs/pull/1/merge", False, True),
        ("github.event_name == 'pull_request'", "pull_request", "refs/pull/1/merge", True, False),
        (
            "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'",
            "schedule",
            "refs/heads/main",
            False,
            True,
        ),
        (
            "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'",
            "workflow_dispatch",
            "refs/heads/x",
            False,
            False,
        ),
        ("always()", "pull_request", "refs/pull/1/merge", True, True),
        ("${{ failure() }}", "pull_request", "refs/pull/1/merge", True, True),
        ("success()", "pull_request", "refs/pull/1/merge", True, False),
    ],
)
def test_step_conditions_are_evaluated_as_github_does(
    expression: str, event: str, ref: str, failed: bool, expected: bool
) -> None:
    context = {"github.event_name": event, "github.ref": ref}
    assert evaluate(expression, context, failed) is expected


def test_an_expression_the_runner_does_not_know_is_an_error() -> None:
    with pytest.raises(WorkflowError, match="unsupported expression"):
        evaluate("contains(github.ref, 'main')", {"github.event_name": "x", "github.ref": "y"}, False)
    assert yaml  # the workflow is YAML: PyYAML is in the test extra
