"""The Markdown report (``--hptune-markdown``, and the GitHub Actions job
summary when ``$GITHUB_STEP_SUMMARY`` is set): a table per search."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterable

from ..atomic import write_text
from ..settings import executions_text
from ..verdict.gates import describe
from .terminal import format_hyperparameters, format_order, robustness_lines, trial_cells

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(records: Iterable[dict]) -> str:
    records = list(records)
    passed = sum(1 for r in records if r["passed"])
    lines = [
        "## pytest-hptune",
        "",
        f"{len(records)} search(es): {passed} passed, {len(records) - passed} failed.",
    ]
    for record in records:
        s = record["settings"]
        objective = record["objective"]
        verdict = "passed" if record["passed"] else "**FAILED**"
        lines += [
            "",
            f"### `{record['nodeid']}`: {verdict}",
            "",
            f"{record['tuner']} search, objective `{objective['name']}` ({objective['direction']}), "
            f"{s['max_trials']} trials x {executions_text(s)} executions, "
            f"{record['fits']} fits, {record['duration_s']:.1f} s",
        ]
        if record.get("error"):
            lines += ["", f"Could not run: {_cell(record['error'])}"]
            continue
        if record.get("stopped_reason"):
            lines += ["", f"Stopped early: {_cell(record['stopped_reason'])}"]
        lines += [
            "",
            "| | trial | mean ± std | status | scores | hyperparameters |",
            "|---|---|---|---|---|---|",
        ]
        for trial in format_order(record):
            best = "**best**" if trial["trial_id"] == record["best_trial_id"] else ""
            stat, detail = trial_cells(trial)
            lines.append(
                f"| {best} | {trial['trial_id']} | {stat} | {trial['status']} | {_cell(detail)} "
                f"| {_cell(format_hyperparameters(trial['hyperparameters']))} |"
            )
        extra = [f"- {_cell(line)}" for line in robustness_lines(record)]
        if record["gates"] or record.get("comparison") or extra:
            lines.append("")
            lines.extend(extra)
            for gate in record["gates"]:
                lines.append(f"- gate `{gate['name']}`: {describe(gate)}")
            if record.get("comparison"):
                from ..verdict.compare import describe as describe_comparison

                lines.append(f"- baseline: {_cell(describe_comparison(record['comparison']))}")
    return "\n".join(lines) + "\n"


def write(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, render(records))


def append_step_summary(records: list[dict]) -> Path | None:
    """Append to GitHub Actions' job summary when the variable is set."""
    target = os.environ.get(STEP_SUMMARY)
    if not target or not records:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(render(records))
    return Path(target)
