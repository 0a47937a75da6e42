"""Pictures of the searches: a PNG per search (``--hptune-plot=DIR``), also
embedded in the HTML report (``html.py``).

Matplotlib (the optional extra ``pytest-hptune[plot]``) is imported only
when a picture is asked for, with the non-interactive Agg backend.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..atomic import write_bytes
from ..verdict.record import direction_suffix
from .outcome import FileReport, Incomplete, exception_text
from .tables import format_order

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


class PlotUnavailable(Exception):
    """Matplotlib is not installed."""


def _pyplot() -> ModuleType:
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable("pictures need matplotlib: pip install 'pytest-hptune[plot]'") from None
    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


# Names from users are data: matplotlib must not read ``$...$`` in a test id
# as mathtext (nor hand it to LaTeX under a user's text.usetex=True).
PLAIN: dict[str, Any] = {"parse_math": False, "usetex": False}


def filename(record: dict[str, Any], unique: bool = False) -> str:
    """A safe file name for the search's picture: the test id with anything
    but letters, digits, ``_``, ``.`` and ``-`` replaced, never hidden.
    ``unique``: with a hash of the test id, for ids that read the same once
    replaced (``[a$b]`` and ``[a#b]``)."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", record["nodeid"]).lstrip("_.-").rstrip("_")[-100:] or "search"
    if unique:
        name += "-" + hashlib.sha1(record["nodeid"].encode("utf-8", "replace")).hexdigest()[:8]
    return f"{name}-search{record.get('search', 0) + 1}.png"


def filenames(records: list[dict[str, Any]]) -> list[str]:
    """Each record's file name; test ids that would share one (compared
    without case, for case-insensitive file systems) all get their hash, so
    a name does not depend on the order the searches finished in."""
    ids: dict[str, set[str]] = {}
    for record in records:
        ids.setdefault(filename(record).lower(), set()).add(record["nodeid"])
    return [filename(record, unique=len(ids[filename(record).lower()]) > 1) for record in records]


def _draw_scores(ax: Axes, record: dict[str, Any], trials: list[dict[str, Any]], base: dict[str, Any] | None) -> None:
    """Each trial's scores as points and its mean +- std, then the baseline's."""
    for x, trial in enumerate(trials):
        best = trial["trial_id"] == record["best_trial_id"]
        color = "tab:green" if best else ("tab:blue" if trial.get("budget") in (None, _full(record)) else "tab:gray")
        ax.scatter([x] * len(trial["scores"]), trial["scores"], s=18, color=color, alpha=0.7, zorder=3)
        ax.errorbar(
            x + 0.18,
            trial["mean"],
            yerr=trial["std"],
            fmt="D",
            color=color,
            markersize=6 if best else 4,
            capsize=3,
            zorder=4,
        )
    if base:
        x = len(trials)
        ax.scatter([x] * len(base["scores"]), base["scores"], s=18, color="tab:orange", alpha=0.8, zorder=3)
        ax.errorbar(x + 0.18, base["mean"], yerr=base["std"], fmt="D", color="tab:orange", capsize=3)


def _draw_frame(ax: Axes, record: dict[str, Any], labels: list[str]) -> None:
    """The score gates as dashed lines, the axes, the title and the legend."""
    styles = {"min_score": "tab:red", "max_score": "tab:red"}
    for gate in record["gates"]:
        if gate["name"] in styles:
            ax.axhline(
                gate["threshold"],
                color=styles[gate["name"]],
                linestyle="--",
                linewidth=1,
                label=f"{gate['name']} {gate['threshold']:g}",
            )
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=0 if len(labels) < 12 else 90, **PLAIN)
    ax.set_xlabel("trial (best first)", **PLAIN)
    objective = record["objective"]
    ax.set_ylabel(f"{objective['name']}{direction_suffix(objective)}", **PLAIN)
    if ax.get_legend_handles_labels()[0]:
        for text in ax.legend(fontsize=8, loc="best").get_texts():
            text.set(**PLAIN)
    ax.grid(axis="y", alpha=0.3)


TITLE_CHAR_PX = 6.5  # an average character of DejaVu Sans at 9 pt, at 100 dpi: a first guess


def _fit_title(fig: Figure, ax: Axes, record: dict[str, Any]) -> None:
    """The title in lines as wide as the figure allows, measured: fewer
    characters per line until it lies inside the picture."""
    chars = int(fig.get_figwidth() * fig.dpi / TITLE_CHAR_PX)
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # the Agg canvas (_pyplot) has one
    while True:
        ax.set_title(title(record, chars), fontsize=9, **PLAIN)
        fig.tight_layout()
        box, frame = ax.title.get_window_extent(renderer), fig.bbox
        if chars <= 20 or (box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y1 <= frame.y1):
            return
        chars -= 4


def title(record: dict[str, Any], chars: int) -> str:
    """The test id and verdict in at most two lines of ``chars``: a longer
    id keeps its end (the test's name and parameters) after an ellipsis;
    the HTML report's heading has the whole id."""
    chars = max(chars, 20)
    text = f"{record['nodeid']} [{'passed' if record['passed'] else 'FAILED'}]"
    if len(text) > 2 * chars:
        text = "..." + text[-(2 * chars - 3) :]
    return "\n".join(text[i : i + chars] for i in range(0, len(text), chars))


def render_png(record: dict[str, Any]) -> bytes:
    """Every trial's per-execution scores as points, mean +- std, the best
    highlighted, thresholds as lines, the baseline's scores when compared."""
    plt = _pyplot()
    fig = figure(record)
    out = io.BytesIO()
    try:
        fig.savefig(out, format="png")
    finally:
        plt.close(fig)  # also when saving raises: pyplot keeps every open figure
    return out.getvalue()


def figure(record: dict[str, Any]) -> Figure:
    """The picture as a matplotlib figure (render_png saves it)."""
    plt = _pyplot()
    trials = [t for t in format_order(record) if t["scores"]]
    base = (record.get("comparison") or {}).get("baseline")
    labels = [t["trial_id"] for t in trials] + (["baseline"] if base else [])
    fig: Figure
    ax: Axes
    fig, ax = plt.subplots(figsize=(max(4.0, 0.7 * len(labels) + 2), 3.6), dpi=100)
    try:
        _draw_scores(ax, record, trials, base)
        _draw_frame(ax, record, labels)
        _fit_title(fig, ax, record)
    except BaseException:
        plt.close(fig)  # pyplot keeps every open figure: none left behind when drawing raises
        raise
    return fig


def _full(record: dict[str, Any]) -> Any:
    return (record.get("tuner_info") or {}).get("max_epochs")


def write_pngs(directory: Path, records: Iterable[dict[str, Any]]) -> list[Path]:
    """A PNG per search with trials. One that cannot be drawn or written
    does not stop the others: they are written, then ``Incomplete`` names
    the missing ones."""
    directory.mkdir(parents=True, exist_ok=True)
    drawn = [record for record in records if record["trials"]]
    paths, missing = [], []
    for record, name in zip(drawn, filenames(drawn)):
        path = directory / name
        try:
            write_bytes(path, render_png(record))
        except PlotUnavailable:
            raise  # every picture would fail the same way: one line says why
        except Exception as exc:
            missing.append(f"could not write the picture {path} of {record['nodeid']}: {exception_text(exc)}")
            continue
        paths.append(path)
    if missing:
        raise Incomplete(missing)
    return paths


class PlotReport(FileReport):
    """``--hptune-plot=DIR`` as a report plugin."""

    what = "plots"
    write = staticmethod(write_pngs)
