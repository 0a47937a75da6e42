"""One self-contained HTML report (``--hptune-html=PATH``): each search's
picture (``plot.py``, embedded as a data URI), trial table, gates and
comparison."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..atomic import write_text
from ..verdict.gates import describe
from ..verdict.record import direction_suffix
from .markdown import counts
from .outcome import FileReport, Incomplete, exception_text
from .plot import PlotUnavailable, render_png
from .tables import confirmation_line, format_hyperparameters, format_order, robustness_lines, trial_cells

HEAD = [
    "<!doctype html><html><head><meta charset='utf-8'><title>pytest-hptune report</title>",
    "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
    "font-size:90%}.best{background:#e6f4ea}.failed{color:#b00020}code{font-size:95%}</style>",
    "</head><body><h1>pytest-hptune report</h1>",
]


def _table_parts(record: dict[str, Any]) -> list[str]:
    """The trials, best first, as a table."""
    esc = html.escape
    parts = ["<table><tr><th>trial</th><th>mean ± std</th><th>status</th><th>scores</th><th>hyperparameters</th></tr>"]
    for trial in format_order(record):
        cls = " class='best'" if trial["trial_id"] == record["best_trial_id"] else ""
        stat, detail = trial_cells(trial)
        parts.append(
            f"<tr{cls}><td>{esc(trial['trial_id'])}</td><td>{stat}</td><td>{esc(trial['status'])}</td>"
            f"<td>{esc(detail)}</td><td>{esc(format_hyperparameters(trial['hyperparameters']))}</td></tr>"
        )
    return parts


def _verdict_parts(record: dict[str, Any]) -> list[str]:
    """Neighbours, advice, gates and the baseline comparison as a list."""
    esc = html.escape
    parts = ["</table><ul>"]
    parts.extend(f"<li>{esc(line)}</li>" for line in robustness_lines(record))
    confirmed = confirmation_line(record)
    if confirmed:
        parts.append(f"<li>{esc(confirmed)}</li>")
    for gate in record["gates"]:
        parts.append(f"<li>gate <code>{esc(gate['name'])}</code>: {esc(describe(gate))}</li>")
    if record.get("comparison"):
        from ..verdict.compare import describe as describe_comparison

        parts.append(f"<li>baseline: {esc(describe_comparison(record['comparison']))}</li>")
    parts.append("</ul>")
    return parts


def _picture(record: dict[str, Any], problems: list[str]) -> str:
    """The search's picture as an embedded image; one that cannot be drawn
    is said so on the page and in ``problems``, and the page is written."""
    try:
        image = base64.b64encode(render_png(record)).decode()
    except PlotUnavailable:
        raise  # no page without matplotlib: one line says why
    except Exception as exc:
        why = exception_text(exc)
        problems.append(f"the HTML report lacks the picture of {record['nodeid']}: {why}")
        return f"<p class='failed'>The picture could not be drawn: {html.escape(why)}</p>"
    return f"<img alt='scores per trial' src='data:image/png;base64,{image}'>"


def _search_parts(record: dict[str, Any], problems: list[str]) -> list[str]:
    esc = html.escape
    verdict = "passed" if record["passed"] else "<span class='failed'>FAILED</span>"
    objective = record["objective"]
    parts = [
        f"<h2><code>{esc(record['nodeid'])}</code>: {verdict}</h2>",
        f"<p>{esc(record['tuner'])} search, objective <code>{esc(objective['name'])}</code>"
        f"{esc(direction_suffix(objective))}, {record['fits']} fits, {record['duration_s']:.1f} s</p>",
    ]
    if record.get("error"):
        return [*parts, f"<p class='failed'>Could not run: {esc(record['error'])}</p>"]
    if record["trials"]:
        parts.append(_picture(record, problems))
    return parts + _table_parts(record) + _verdict_parts(record)


def render_html(records: Iterable[dict[str, Any]], problems: list[str] | None = None) -> str:
    """One page, no external resources: images are embedded as data URIs.
    A picture that cannot be drawn is noted in ``problems``."""
    records = list(records)
    problems = [] if problems is None else problems
    parts = [*HEAD, f"<p>{html.escape(counts(records))}.</p>"]
    for record in records:
        parts += _search_parts(record, problems)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, records: list[dict[str, Any]]) -> None:
    """The page, also when a picture is missing (``Incomplete`` then says
    which); without matplotlib, nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    text = render_html(records, problems)
    write_text(path, text)
    if problems:
        raise Incomplete(problems)


class HtmlReport(FileReport):
    """``--hptune-html=PATH`` as a report plugin."""

    what = "HTML report"
    write = staticmethod(write_html)
