"""Pictures of the searches: a PNG per search (``--hptune-plot=DIR``) and
one self-contained HTML report (``--hptune-html=PATH``) with those images
and the trial tables.

Matplotlib (the optional extra ``pytest-hptune[plot]``) is imported only
when a picture is asked for, with the non-interactive Agg backend.
"""

from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Iterable

from ..atomic import write_bytes, write_text
from ..verdict.gates import describe
from .terminal import format_hyperparameters, format_order, robustness_lines, trial_cells


class PlotUnavailable(Exception):
    """Matplotlib is not installed."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable(
            "pictures need matplotlib: pip install 'pytest-hptune[plot]'"
        ) from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def filename(record: dict) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", record["nodeid"]).strip("_")[-100:]
    return f"{name}-search{record.get('search', 0) + 1}.png"


def render_png(record: dict) -> bytes:
    """Every trial's per-execution scores as points, mean +- std, the best
    highlighted, thresholds as lines, the baseline's scores when compared."""
    plt = _pyplot()
    trials = [t for t in format_order(record) if t["scores"]]
    comparison = record.get("comparison") or {}
    base = comparison.get("baseline")
    labels = [t["trial_id"] for t in trials] + (["baseline"] if base else [])
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(labels) + 2), 3.6), dpi=100)
    for x, trial in enumerate(trials):
        best = trial["trial_id"] == record["best_trial_id"]
        color = "tab:green" if best else ("tab:blue" if trial.get("budget") in (None, _full(record)) else "tab:gray")
        ax.scatter([x] * len(trial["scores"]), trial["scores"], s=18, color=color, alpha=0.7, zorder=3)
        ax.errorbar(x + 0.18, trial["mean"], yerr=trial["std"], fmt="D", color=color,
                    markersize=6 if best else 4, capsize=3, zorder=4)
    if base:
        x = len(trials)
        ax.scatter([x] * len(base["scores"]), base["scores"], s=18, color="tab:orange", alpha=0.8, zorder=3)
        ax.errorbar(x + 0.18, base["mean"], yerr=base["std"], fmt="D", color="tab:orange", capsize=3)
    styles = {"min_score": "tab:red", "max_score": "tab:red"}
    for gate in record["gates"]:
        if gate["name"] in styles:
            ax.axhline(gate["threshold"], color=styles[gate["name"]], linestyle="--", linewidth=1,
                       label=f"{gate['name']} {gate['threshold']:g}")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=0 if len(labels) < 12 else 90)
    ax.set_xlabel("trial (best first)")
    objective = record["objective"]
    ax.set_ylabel(f"{objective['name']} ({objective['direction']})")
    verdict = "passed" if record["passed"] else "FAILED"
    ax.set_title(f"{record['nodeid']} [{verdict}]", fontsize=9)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8, loc="best")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    plt.close(fig)
    return out.getvalue()


def _full(record: dict):
    return (record.get("tuner_info") or {}).get("max_epochs")


def write_pngs(directory: Path, records: Iterable[dict]) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for record in records:
        if not record["trials"]:
            continue
        path = directory / filename(record)
        write_bytes(path, render_png(record))
        paths.append(path)
    return paths


def render_html(records: Iterable[dict]) -> str:
    """One page, no external resources: images are embedded as data URIs."""
    records = list(records)
    esc = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>pytest-hptune report</title>",
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 6px;"
        "font-size:90%}.best{background:#e6f4ea}.failed{color:#b00020}code{font-size:95%}</style>",
        "</head><body><h1>pytest-hptune report</h1>",
        f"<p>{len(records)} search(es): {sum(r['passed'] for r in records)} passed.</p>",
    ]
    for record in records:
        verdict = "passed" if record["passed"] else "<span class='failed'>FAILED</span>"
        objective = record["objective"]
        parts.append(f"<h2><code>{esc(record['nodeid'])}</code>: {verdict}</h2>")
        parts.append(
            f"<p>{esc(record['tuner'])} search, objective <code>{esc(objective['name'])}</code> "
            f"({esc(objective['direction'])}), {record['fits']} fits, {record['duration_s']:.1f} s</p>"
        )
        if record.get("error"):
            parts.append(f"<p class='failed'>Could not run: {esc(record['error'])}</p>")
            continue
        if record["trials"]:
            image = base64.b64encode(render_png(record)).decode()
            parts.append(f"<img alt='scores per trial' src='data:image/png;base64,{image}'>")
        parts.append("<table><tr><th>trial</th><th>mean ± std</th><th>status</th><th>scores</th>"
                     "<th>hyperparameters</th></tr>")
        for trial in format_order(record):
            cls = " class='best'" if trial["trial_id"] == record["best_trial_id"] else ""
            stat, detail = trial_cells(trial)
            parts.append(
                f"<tr{cls}><td>{esc(trial['trial_id'])}</td><td>{stat}</td><td>{esc(trial['status'])}</td>"
                f"<td>{esc(detail)}</td><td>{esc(format_hyperparameters(trial['hyperparameters']))}</td></tr>"
            )
        parts.append("</table><ul>")
        parts.extend(f"<li>{esc(line)}</li>" for line in robustness_lines(record))
        for gate in record["gates"]:
            parts.append(f"<li>gate <code>{esc(gate['name'])}</code>: {esc(describe(gate))}</li>")
        if record.get("comparison"):
            from ..verdict.compare import describe as describe_comparison

            parts.append(f"<li>baseline: {esc(describe_comparison(record['comparison']))}</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(path: Path, records: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, render_html(records))
