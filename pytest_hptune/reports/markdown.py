"""The Markdown report (``--hptune-markdown``, and the GitHub Actions job
summary when ``$GITHUB_STEP_SUMMARY`` is set): a table per search."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from ..atomic import write_text
from ..verdict.gates import describe
from ..verdict.record import direction_suffix
from .outcome import FileReport, ReportOutcome, exception_text
from .tables import confirmation_line, format_hyperparameters, format_order, robustness_lines, trial_cells
from .text import runs_text, trials_text

STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


# Markdown's inline punctuation (emphasis, links, code, strikethrough, table
# cells) and the backslash that escapes it.
MARKDOWN_SPECIAL = re.compile(r"[\\`*_\[\]~|]")


def _one_line(text: Any) -> str:
    return re.sub(r"\s*[\r\n]+\s*", " ", str(text))


def _cell(text: Any) -> str:
    """Text from users (test ids, hyperparameter values, messages) as plain
    Markdown: one line, no HTML (GitHub renders inline HTML: ``<``, ``>``
    and ``&`` become entities), Markdown punctuation escaped, so that it
    also fits a table cell."""
    return MARKDOWN_SPECIAL.sub(r"\\\g<0>", html.escape(_one_line(text), quote=False))


def _code(text: Any) -> str:
    """A code span showing ``text`` as it is: fenced with more backticks than
    any run inside it (HTML in a code span is shown, not rendered)."""
    text = _one_line(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    if text[:1] == "`" or text[-1:] == "`" or (text[:1] == text[-1:] == " " and text.strip()):
        text = f" {text} "  # the spaces Markdown strips
    return f"{fence}{text}{fence}"


def _table_lines(record: dict[str, Any]) -> list[str]:
    """The trials, best first, as a Markdown table."""
    lines = [
        "",
        "| | trial | mean ± std | status | scores | hyperparameters |",
        "|---|---|---|---|---|---|",
    ]
    for trial in format_order(record):
        best = "**best**" if trial["trial_id"] == record["best_trial_id"] else ""
        stat, detail = trial_cells(trial)
        lines.append(
            f"| {best} | {_cell(trial['trial_id'])} | {stat} | {_cell(trial['status'])} | {_cell(detail)} "
            f"| {_cell(format_hyperparameters(trial['hyperparameters']))} |"
        )
    return lines


def _verdict_lines(record: dict[str, Any]) -> list[str]:
    """Neighbours, advice, gates and the baseline comparison as a list."""
    extra = [f"- {_cell(line)}" for line in robustness_lines(record)]
    if not (record["gates"] or record.get("comparison") or extra or record.get("confirmation")):
        return []
    lines = ["", *extra]
    confirmed = confirmation_line(record)
    if confirmed:
        lines.append(f"- {_cell(confirmed)}")
    for gate in record["gates"]:
        lines.append(f"- gate {_code(gate['name'])}: {describe(gate)}")  # numbers: plain text
    if record.get("comparison"):
        from ..verdict.compare import describe as describe_comparison

        lines.append(f"- baseline: {_cell(describe_comparison(record['comparison']))}")
    return lines


def _search_lines(record: dict[str, Any]) -> list[str]:
    s = record["settings"]
    objective = record["objective"]
    verdict = "passed" if record["passed"] else "**FAILED**"
    lines = [
        "",
        f"### {_code(record['nodeid'])}: {verdict}",
        "",
        f"{_cell(record['tuner'])} search, objective {_code(objective['name'])}{direction_suffix(objective)}, "
        f"{trials_text(record)} x {runs_text(s)}, "
        f"{record['fits']} fits, {record['duration_s']:.1f} s",
    ]
    if record.get("error"):
        return [*lines, "", f"Could not run: {_cell(record['error'])}"]
    if record.get("stopped_reason"):
        lines += ["", f"Stopped early: {_cell(record['stopped_reason'])}"]
    return lines + _table_lines(record) + _verdict_lines(record)


def counts(records: list[dict[str, Any]]) -> str:
    """'3 search(es): 2 passed, 1 failed' and how many were not compared with
    a baseline: a search is passed or failed by its verdict, never skipped."""
    passed = sum(1 for r in records if r["passed"])
    text = f"{len(records)} search(es): {passed} passed, {len(records) - passed} failed"
    missing = sum(1 for r in records if (r.get("comparison") or {}).get("status") == "missing")
    return text + (f", {missing} not compared with a baseline" if missing else "")


def render(records: Iterable[dict[str, Any]]) -> str:
    records = list(records)
    lines = ["## pytest-hptune", "", counts(records) + "."]
    for record in records:
        lines += _search_lines(record)
    return "\n".join(lines) + "\n"


def write(path: Path, records: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, render(records))


def append_step_summary(records: list[dict[str, Any]]) -> Path | None:
    """Append to GitHub Actions' job summary when the variable is set."""
    target = os.environ.get(STEP_SUMMARY)
    if not target or not records:
        return None
    with open(target, "a", encoding="utf-8") as fh:
        fh.write(render(records))
    return Path(target)


class MarkdownReport(FileReport):
    """``--hptune-markdown=PATH`` as a report plugin."""

    what = "Markdown report"
    write = staticmethod(write)


class StepSummary:
    """The same tables appended to ``$GITHUB_STEP_SUMMARY`` when it is set
    (read at the end of the session) and a search ran."""

    @pytest.hookimpl(tryfirst=True)
    def pytest_hptune_write_reports(self, records: list[dict[str, Any]]) -> list[ReportOutcome]:
        try:
            summary = append_step_summary(records)
        except Exception as exc:  # a report never becomes an INTERNALERROR
            return [ReportOutcome(f"could not append to ${STEP_SUMMARY}: {exception_text(exc)}", problem=True)]
        return [] if summary is None else [ReportOutcome(f"GitHub job summary: {summary}")]
