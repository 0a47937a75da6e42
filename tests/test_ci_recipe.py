"""The CI recipe in example_project/ is a valid GitHub Actions workflow that
does what the README says: compare on pull requests, save on main, upload
the HTML report."""

from pathlib import Path

import yaml

WORKFLOW = Path(__file__).resolve().parent.parent / "example_project" / ".github" / "workflows" / "hptune.yml"


def test_the_workflow_parses_and_has_the_keys_github_requires():
    doc = yaml.safe_load(WORKFLOW.read_text())
    # PyYAML reads the bare key `on` as the boolean True.
    triggers = doc.get("on", doc.get(True))
    assert set(triggers) == {"pull_request", "push"}
    assert doc["jobs"], "a workflow needs at least one job"
    for name, job in doc["jobs"].items():
        assert "runs-on" in job and job["steps"], name
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step  # exactly one of them


def test_the_gate_compares_on_pull_requests_saves_on_main_and_uploads_the_report():
    (job,) = yaml.safe_load(WORKFLOW.read_text())["jobs"].values()
    runs = " ".join(step.get("run", "") for step in job["steps"])
    assert "--hptune-compare" in runs and "--hptune-save-baseline" in runs and "--hptune-html=" in runs
    uses = [step.get("uses", "") for step in job["steps"]]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    assert any(u.startswith("actions/cache/save@") for u in uses)
    assert any(u.startswith("actions/upload-artifact@") for u in uses)
    save = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/cache/save@"))
    assert save["if"] == "github.ref == 'refs/heads/main'"
