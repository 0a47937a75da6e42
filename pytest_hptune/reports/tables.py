"""What the trial tables of the reports share: the order of the trials, their
cells and hyperparameters, the neighbour and advice lines (Markdown, HTML,
and the order and hyperparameters also in the terminal and the pictures)."""

from __future__ import annotations

from typing import Any

from ..verdict.message import describe_neighbour
from ..verdict.message import num as _num
from ..verdict.record import signed


def format_hyperparameters(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_num(v)}" for k, v in values.items()) or "(no hyperparameters)"


def trial_cells(trial: dict[str, Any]) -> tuple[str, str]:
    """(mean ± std, scores) of a completed trial, ("-", why) of another:
    the cells of the Markdown and HTML tables."""
    if trial["status"] == "COMPLETED" and trial["mean"] is not None:
        return (
            f"{trial['mean']:.4f} ± {trial['std']:.4f}",
            " ".join(f"{v:.4f}" for v in trial["scores"]),
        )
    return "-", trial.get("message") or ""


def format_order(record: dict[str, Any]) -> list[dict[str, Any]]:
    """Best first, then the other completed trials by rank (Hyperband: the
    largest budget first), then the rest."""
    trials = record["trials"]
    done = [t for t in trials if t["status"] == "COMPLETED" and t["mean"] is not None]
    sign = -1 if record["objective"]["direction"] == "max" else 1
    done.sort(key=lambda t: (-(t.get("budget") or 0), sign * t["mean"]))
    return done + [t for t in trials if t not in done]


def confirmation_line(record: dict[str, Any]) -> str | None:
    """The confirmation runs (``confirm=N``) the gates judged, with their
    scores: the numbers the gate lines show are found here."""
    c = record.get("confirmation")
    if not c:
        return None
    scores = " ".join(f"{v:.4f}" for v in c["scores"])
    return (
        f"confirmed with {len(c['scores'])} fresh seeds: {scores}; mean {c['mean']:.4f} ± {c['std']:.4f} "
        f"(tuned {c['tuned_mean']:.4f}, gap {signed(c['gap'])}); the gates judge these"
    )


def robustness_lines(record: dict[str, Any]) -> list[str]:
    """The neighbours and the advice of a search as plain lines, for the
    Markdown and HTML reports."""
    lines = [f"one step from the best: {describe_neighbour(n)}" for n in record.get("neighbours") or ()]
    lines += [f"advice: {item['text']}" for item in record.get("advice") or ()]
    return lines
