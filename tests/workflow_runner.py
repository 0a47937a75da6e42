"""Runs a GitHub Actions workflow's steps on this machine, as a runner would.

``run_job(workflow, repository, event, environment)`` reads the workflow's
single job and executes its steps in order in ``repository`` (a fresh copy of
a model repository: ``GITHUB_WORKSPACE``), with the variables GitHub sets
(``CI``, ``GITHUB_ACTIONS``, ``GITHUB_EVENT_NAME``, ``GITHUB_REF``,
``GITHUB_WORKSPACE``, ``GITHUB_STEP_SUMMARY`` (a file per step, as GitHub
does), ``GITHUB_OUTPUT``, ``GITHUB_ENV``, ``RUNNER_TEMP``, ...), each ``run:``
step with GitHub's default shell (``bash --noprofile --norc -eo pipefail``),
and each step's ``if:`` evaluated (``github.event_name``, ``github.ref``,
``==``, ``!=``, ``&&``, ``||``, ``!``, ``always()``, ``success()``,
``failure()``); anything else in an expression is an error, never guessed.

The ``uses:`` steps it knows:

* ``actions/checkout``: the repository copy is the checkout;
* ``actions/setup-python``: a **fresh virtual environment** (``python -m venv
  --without-pip``) that holds exactly the distributions the install step's
  requirement names, with its extras, and their dependencies, as pip would
  install them (resolved from the wheel's own metadata with markers
  evaluated, linked from this interpreter's environment, since the runner
  has no network), plus pip. A package outside that closure (say,
  matplotlib when the ``plot`` extra is missing) is not importable there;
* ``actions/upload-artifact``: the files of ``path`` are copied to the
  artifacts folder; with ``if-no-files-found: error`` a missing one fails
  the step, as on GitHub.

The install step (the ``run:`` that installs ``pytest-hptune``) runs as
written except for the requirement's source: ``pytest-hptune[EXTRAS] @
git+https://...`` (or a wheel path) becomes the wheel built from this
checkout, with ``--no-deps --no-index`` (the dependencies are already linked,
and there is no network). Any other ``uses:`` fails the job: the recipe must
only use what this runner checks.
"""

from __future__ import annotations

import email
import importlib.metadata as md
import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PROJECT = "pytest-hptune"
# The requirement of the install step: quoted, naming the plugin with extras.
INSTALL = re.compile(r"""(["'])(?P<req>(?:pytest-hptune|\S*pytest_hptune-\S+\.whl)\[[^\]]*\][^"']*)\1""")


@dataclass
class StepResult:
    name: str
    outcome: str  # "success", "failure" or "skipped"
    output: str = ""
    summary: str = ""


@dataclass
class JobResult:
    steps: list[StepResult] = field(default_factory=list)
    artifacts: Path | None = None

    @property
    def ok(self) -> bool:
        return all(s.outcome != "failure" for s in self.steps)

    def step(self, name: str) -> StepResult:
        return next(s for s in self.steps if s.name == name)

    @property
    def summary(self) -> str:
        """The job summary: every step's $GITHUB_STEP_SUMMARY, in order."""
        return "".join(s.summary for s in self.steps)

    def log(self) -> str:
        return "\n".join(f"--- {s.name}: {s.outcome}\n{s.output}" for s in self.steps)


class WorkflowError(Exception):
    """The workflow uses something this runner does not check."""


def load_job(workflow: Path) -> dict[str, Any]:
    doc = yaml.safe_load(workflow.read_text())
    jobs = doc["jobs"]
    if len(jobs) != 1:
        raise WorkflowError(f"{workflow}: one job expected, got {sorted(jobs)}")
    return next(iter(jobs.values()))


def triggers(workflow: Path) -> dict[str, Any]:
    doc = yaml.safe_load(workflow.read_text())
    on: dict[str, Any] = doc.get("on", doc.get(True))  # PyYAML reads the bare key `on` as True
    return on


# -- expressions --------------------------------------------------------------

TOKEN = re.compile(
    r"\s*(?:(github\.event_name|github\.ref)|'([^']*)'|(==|!=|&&|\|\||!|\(|\))|(always|success|failure)\(\))"
)


def evaluate(expression: str, context: dict[str, str], failed: bool) -> bool:
    """An ``if:`` of the small grammar above; other syntax raises."""
    text = expression.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python, position = [], 0
    statuses = {"always": "True", "success": str(not failed), "failure": str(failed)}
    operators = {"==": "==", "!=": "!=", "&&": "and", "||": "or", "!": "not", "(": "(", ")": ")"}
    while position < len(text.rstrip()):
        match = TOKEN.match(text, position)
        if not match:
            raise WorkflowError(f"unsupported expression {expression!r} at {text[position:]!r}")
        name, string, operator, status = match.groups()
        if name:
            python.append(repr(context[name]))
        elif string is not None:
            python.append(repr(string))
        elif operator:
            python.append(operators[operator])
        else:
            python.append(statuses[status])
        position = match.end()
    uses_status = any(s in text for s in ("always()", "success()", "failure()"))
    value = bool(eval(" ".join(python), {"__builtins__": {}}, {}))  # only the tokens above
    return value if uses_status else value and not failed


# -- the environment setup-python provides ------------------------------------


def build_wheel(checkout: Path, into: Path) -> Path:
    """The wheel of this checkout (no network: this environment's setuptools),
    built from a copy of its sources, so that builds in parallel test
    processes never share setuptools' build folder."""
    into.mkdir(parents=True, exist_ok=True)
    source = into / "source"
    shutil.copytree(checkout / "pytest_hptune", source / "pytest_hptune", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(checkout / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            str(into),
            str(source),
        ],
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    (wheel,) = into.glob("pytest_hptune-*.whl")
    return wheel


def wheel_requirements(wheel: Path) -> list[Requirement]:
    """Requires-Dist of the wheel's METADATA."""
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(name))
    return [Requirement(r) for r in metadata.get_all("Requires-Dist") or ()]


def wheel_extras(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = email.message_from_bytes(archive.read(name))
    return set(metadata.get_all("Provides-Extra") or ())


def _wanted(requirement: Requirement, extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    environment = {k: str(v) for k, v in default_environment().items()}
    return any(requirement.marker.evaluate({**environment, "extra": e}) for e in (extras or {""}))


def closure(wheel: Path, extras: set[str]) -> set[str]:
    """The distributions pip would install for the wheel with these extras,
    by their canonical names (from this environment's metadata). A
    requirement this environment cannot satisfy raises."""
    unknown = extras - wheel_extras(wheel)
    if unknown:
        raise WorkflowError(f"the wheel has no extras {sorted(unknown)} (it has {sorted(wheel_extras(wheel))})")
    todo = [(r, extras) for r in wheel_requirements(wheel) if _wanted(r, extras)]
    seen: dict[str, set[str]] = {}
    while todo:
        requirement, _ = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == PROJECT:  # an extra of the plugin naming others: pytest-hptune[tensorflow,sklearn]
            todo += [(r, requirement.extras) for r in wheel_requirements(wheel) if _wanted(r, requirement.extras)]
            continue
        if name in seen and requirement.extras <= seen[name]:
            continue
        dist = md.distribution(name)
        if not requirement.specifier.contains(dist.version, prereleases=True):
            raise WorkflowError(f"{requirement} is not satisfied here ({name} {dist.version})")
        seen[name] = seen.get(name, set()) | set(requirement.extras)
        todo += [(r, set()) for r in map(Requirement, dist.requires or ()) if _wanted(r, set(requirement.extras))]
    return set(seen)


def fresh_environment(root: Path, distributions: set[str]) -> Path:
    """A venv without this environment's packages, then each distribution's
    top-level files (and pip's) linked into its site-packages."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(root)], check=True)
    (site,) = root.glob("lib/python*/site-packages")
    for name in sorted(distributions | {"pip"}):
        dist = md.distribution(name)
        where = Path(str(dist.locate_file("")))
        tops = {Path(f).parts[0] for f in dist.files or () if not str(f).startswith("..")}
        tops.add(Path(dist._path).name)  # type: ignore[attr-defined]  # its .dist-info
        for top in tops - {"__pycache__"}:
            target = site / top
            if not target.exists() and (where / top).exists():
                target.symlink_to(where / top)
    pip = root / "bin" / "pip"
    pip.write_text(
        f"#!{root / 'bin' / 'python'}\nimport sys\nfrom pip._internal.cli.main import main\nsys.exit(main())\n"
    )
    pip.chmod(0o755)
    return root


# -- the job ------------------------------------------------------------------


@dataclass
class Runner:
    workflow: Path
    repository: Path
    wheel: Path
    work: Path  # the runner's own folder: RUNNER_TEMP, the environment, artifacts
    event: str = "pull_request"
    ref: str = "refs/pull/1/merge"
    extra_env: dict[str, str] = field(default_factory=dict)

    def run(self) -> JobResult:
        job = load_job(self.workflow)
        self.work.mkdir(parents=True, exist_ok=True)
        result = JobResult(artifacts=self.work / "artifacts")
        self.env = self._environment()
        self.requirement = self._install_requirement(job)
        context = {"github.event_name": self.event, "github.ref": self.ref}
        for number, step in enumerate(job["steps"]):
            name = step.get("name") or step.get("uses") or step["run"].split("\n")[0]
            failed = not result.ok
            if not evaluate(str(step.get("if", "success()")), context, failed):
                result.steps.append(StepResult(name, "skipped"))
                continue
            summary = self.work / f"step_summary_{number}"
            summary.write_text("")
            outcome, output = self._step(step, summary, result)
            result.steps.append(StepResult(name, outcome, output, summary.read_text()))
        return result

    def _environment(self) -> dict[str, str]:
        temp = self.work / "temp"
        temp.mkdir(exist_ok=True)
        for name in ("output", "env", "path"):
            (self.work / name).write_text("")
        keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "TERM")}
        return {
            **keep,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_EVENT_NAME": self.event,
            "GITHUB_REF": self.ref,
            "GITHUB_REF_NAME": self.ref.rsplit("/", 1)[-1] if self.ref.startswith("refs/heads/") else "1/merge",
            "GITHUB_BASE_REF": "main" if self.event == "pull_request" else "",
            "GITHUB_HEAD_REF": "a-change" if self.event == "pull_request" else "",
            "GITHUB_REPOSITORY": "someone/model",
            "GITHUB_SHA": "0" * 40,
            "GITHUB_RUN_ID": "1",
            "GITHUB_WORKSPACE": str(self.repository),
            "GITHUB_OUTPUT": str(self.work / "output"),
            "GITHUB_ENV": str(self.work / "env"),
            "GITHUB_PATH": str(self.work / "path"),
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(temp),
            **self.extra_env,
        }

    def _install_requirement(self, job: dict[str, Any]) -> Requirement:
        """The plugin's requirement in the install step (the only one)."""
        found = [m for s in job["steps"] for m in INSTALL.finditer(s.get("run", ""))]
        if len(found) != 1:
            raise WorkflowError(f"one quoted 'pytest-hptune[extras] @ URL' requirement expected, found {len(found)}")
        text = found[0]["req"]
        if text.startswith(PROJECT):
            requirement = Requirement(text)
            if not (requirement.url or "").startswith(("git+https://", "https://")):
                raise WorkflowError(f"{text!r}: install from a VCS URL or a wheel (a runner has no checkout of it)")
            return requirement
        return Requirement(PROJECT + text[text.index("[") :])  # a wheel path with extras

    def _step(self, step: dict[str, Any], summary: Path, result: JobResult) -> tuple[str, str]:
        if "uses" in step:
            return self._action(step, result)
        script = step["run"]
        if "${{" in script:
            raise WorkflowError(f"expressions in run: are not checked by this runner: {script!r}")
        match = INSTALL.search(script)
        if match:
            wheel = f"{PROJECT}[{','.join(sorted(self.requirement.extras))}] @ {self.wheel.as_uri()}"
            script = script.replace(match[0], shlex.quote(wheel))
            script = re.sub(r"\bpip install\b", "pip install --no-deps --no-index", script)
        cwd = self.repository / step.get("working-directory", ".")
        env = {**self.env, **step.get("env", {}), "GITHUB_STEP_SUMMARY": str(summary)}
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            check=False,
        )
        output = f"$ {script}\n{done.stdout}"
        if match and done.returncode == 0:
            output += self._check_install()
            if "NOT FROM THE WHEEL" in output:
                return "failure", output
        return ("success" if done.returncode == 0 else "failure"), output

    def _check_install(self) -> str:
        """The plugin the steps import is the wheel's, in the fresh venv."""
        probe = "import pytest_hptune, sys; print(pytest_hptune.__file__, sys.prefix)"
        done = subprocess.run(
            ["python", "-c", probe], cwd=self.repository, env=self.env, capture_output=True, text=True, check=False
        )
        where = done.stdout.strip()
        if not where.startswith(str(self.work / "venv")):
            return f"\npytest_hptune NOT FROM THE WHEEL: {where} {done.stderr}"
        return f"\npytest_hptune from {where}"

    def _action(self, step: dict[str, Any], result: JobResult) -> tuple[str, str]:
        action, _, _ = step["uses"].partition("@")
        settings = step.get("with") or {}
        if action == "actions/checkout":
            return "success", "the repository copy is the checkout"
        if action == "actions/setup-python":
            venv = fresh_environment(self.work / "venv", closure(self.wheel, set(self.requirement.extras)))
            self.env["PATH"] = f"{venv / 'bin'}:{self.env['PATH']}"
            self.env["VIRTUAL_ENV"] = str(venv)
            return "success", f"fresh environment {venv} for {self.requirement}"
        if action == "actions/upload-artifact":
            assert result.artifacts is not None
            into = result.artifacts / settings["name"]
            into.mkdir(parents=True, exist_ok=True)
            missing = []
            for line in str(settings["path"]).split():
                source = self.repository / line
                if source.is_file():
                    shutil.copy(source, into / source.name)
                else:
                    missing.append(line)
            if missing and settings.get("if-no-files-found", "warn") == "error":
                return "failure", f"no files found: {missing}"
            return "success", f"uploaded to {into}; missing: {missing}"
        raise WorkflowError(f"this runner does not know {step['uses']!r}")
