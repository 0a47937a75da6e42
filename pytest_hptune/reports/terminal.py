"""The ``hptune`` section of pytest's terminal summary.

Renders from search records (plain dicts), so the same code serves a local
run and records shipped from pytest-xdist workers. Returns (text, markup)
pairs; the plugin writes them with the terminal reporter.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from typing import Any

from ..verdict.advice import WARNINGS
from ..verdict.gates import describe
from ..verdict.message import describe_neighbour
from ..verdict.message import num as _num
from ..verdict.record import best_trial, direction_suffix, signed
from .tables import format_hyperparameters, format_order
from .text import runs_text, trials_text

Line = tuple[str, dict[str, Any]]
MAX_ROWS = 10  # trials shown per search without -v


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(width - 3, 0)] + "..."


def _scores(scores: list[float], width: int) -> str:
    parts = [f"{s:.4f}" for s in scores]
    text = " ".join(parts)
    while len(text) > width and len(parts) > 1:
        parts.pop()
        text = " ".join(parts) + f" ... ({len(scores)})"
    if len(text) > width:
        text = _fit(f"({len(scores)} scores)", width)
    return text


def format_hyperparameter(entry: dict[str, Any]) -> str:
    """'units Choice 4|8|16', 'lr Float 0.0001..0.01 log', ... from a
    search-space entry of the record."""
    kind = entry["type"]
    if "values" in entry:
        domain = "|".join(_num(v) for v in entry["values"])
    elif "min" in entry:
        domain = f"{_num(entry['min'])}..{_num(entry['max'])}"
        if entry.get("step") is not None and not (kind == "Int" and entry["step"] == 1):
            domain += f" step {_num(entry['step'])}"
        if entry.get("sampling") not in (None, "linear"):
            domain += f" {entry['sampling']}"
    elif "value" in entry:
        domain = _num(entry["value"])
    else:
        domain = ""
    text = f"{entry['name']} {kind} {domain}".rstrip()
    for condition in entry.get("conditions", ()):
        values = condition["values"]
        relation = "=" if len(values) == 1 else " in "
        text += f" (if {condition['parent']}{relation}{'|'.join(_num(v) for v in values)})"
    return text


def _wrapped(label: str, items: list[str], width: int) -> list[Line]:
    """'label a; b; c' wrapped to width, continuation lines indented."""
    lines: list[Line] = []
    line = label
    indent = " " * len(label)
    for i, item in enumerate(items):
        piece = item + (";" if i < len(items) - 1 else "")
        if len(line) + len(piece) + 1 > width and line.strip() != label.strip():
            lines.append((_fit(line.rstrip(), width), {}))
            line = indent
        line += (" " if not line.endswith(" ") else "") + piece
    lines.append((_fit(line.rstrip(), width), {}))
    return lines


def _hyperband_lines(record: dict[str, Any], width: int) -> list[Line]:
    info = record["tuner_info"]
    full = info["max_epochs"]
    brackets = "; ".join(" -> ".join(f"{r['trials']}x{r['epochs']}ep" for r in b["rounds"]) for b in info["brackets"])
    used = len(info["brackets"])
    lines = _wrapped(
        f"  hyperband: max_epochs {full}, factor {info['factor']}, {used} of {info['all_brackets']} brackets:",
        [brackets],
        width,
    )
    full_trials = sum(1 for t in record["trials"] if t.get("budget") == full)
    lines.append(
        (
            _fit(
                f"  gates judge the {full_trials} of {len(record['trials'])} trials "
                f"that trained the full {full} epochs",
                width,
            ),
            {},
        )
    )
    return lines


def _runs_and_epochs(record: dict[str, Any]) -> tuple[str, str]:
    """'3 trials x 2 executions' and 'epochs 5' (or their sklearn and
    Hyperband counterparts) for the header."""
    s = record["settings"]
    info = record.get("tuner_info") or {}
    if record["tuner"] == "sklearn":
        folds = info.get("folds") or s.get("executions_per_trial") or "?"
        return (
            f"{trials_text(record)} x {folds} folds",
            f"oracle {info.get('oracle') or s.get('oracle') or 'random'}",
        )
    runs = f"{trials_text(record)} x {runs_text(s)}"
    if "max_epochs" in info:
        return runs, f"max_epochs {info['max_epochs']}"
    return runs, "epochs " + ("fit default" if s.get("epochs") is None else str(s["epochs"]))


def _header_lines(record: dict[str, Any], width: int) -> list[Line]:
    """The search's tuner, objective, budget, seed and duration, wrapped."""
    objective = record["objective"]
    runs, epochs = _runs_and_epochs(record)
    parts = [
        f"{record['tuner']} search",
        f"objective {objective['name']}{direction_suffix(objective)}",
        runs,
        epochs,
        f"seed {record['settings']['seed']}",
        f"{record['duration_s']:.1f} s",
    ]
    lines: list[Line] = []
    line = " "
    for part in parts:
        if len(line) + len(part) + 2 > width and line.strip():
            lines.append((line.rstrip(","), {}))
            line = "   "
        line += f" {part},"
    lines.append((line.rstrip(","), {}))
    return lines


def _context_lines(record: dict[str, Any], width: int) -> list[Line]:
    """Resume, distributed workers, the search space and Hyperband's plan."""
    info = record.get("tuner_info") or {}
    lines: list[Line] = []
    resume = record.get("resume")
    if resume:
        if resume["resumed"]:
            text = f"  resumed: {resume['reused_trials']} completed trials reused"
        else:
            text = f"  started fresh: {resume['reason']}"
        lines.extend((line, {}) for line in textwrap.wrap(text, width, subsequent_indent="    "))
    if info.get("workers"):
        exits = ", ".join(
            f"{w['id']} " + ("ok" if w["exit_code"] == 0 else f"exit {w['exit_code']}") for w in info["workers"]
        )
        lines.append((_fit(f"  workers: {exits}; chief {info['chief']}", width), {}))
    budget = record.get("time_budget") or {}
    if budget.get("ended_search"):
        text = (
            f"  the time budget (max_time {budget['max_time']:g} s) ended the search after "
            f"{trials_text(record)}; the gates judge what completed"
        )
        lines.extend((line, {"yellow": True}) for line in textwrap.wrap(text, width, subsequent_indent="    "))
    if record.get("varied"):
        lines.append((_fit("  executions vary: " + ", ".join(record["varied"]), width), {}))
    if record.get("search_space"):
        lines.extend(_wrapped("  search space:", [format_hyperparameter(e) for e in record["search_space"]], width))
    if "max_epochs" in info:
        lines.extend(_hyperband_lines(record, width))
    return lines


def _trial_lines(
    record: dict[str, Any], trial: dict[str, Any], id_width: int, hyperband: bool, width: int
) -> list[Line]:
    """A trial's row of the table and its hyperparameters below it."""
    best = trial["trial_id"] == record["best_trial_id"]
    if trial["mean"] is not None and trial["status"] == "COMPLETED":
        stat = f"{trial['mean']:.4f} +- {trial['std']:.4f}"
    else:
        stat = "-"
    prefix = f"  {'*' if best else ' '}  {trial['trial_id']:<{id_width}}  {stat:<18}  {trial['status']:<9}  "
    if hyperband:
        prefix += f"{trial.get('budget') or '-'!s:<3}  "
    room = width - len(prefix)
    if trial["status"] == "COMPLETED":
        tail = _scores(trial["scores"], room)
    else:
        tail = _fit(trial.get("message") or "", room)
    if best:
        markup = {"green": True, "bold": True}
    else:
        markup = {"red": True} if trial["status"] != "COMPLETED" else {}
    detail = format_hyperparameters(trial["hyperparameters"])
    if trial.get("interval"):
        low, high = trial["interval"]
        detail = f"CI {low:.4f}..{high:.4f}; {detail}"
    indent = 5 + id_width + 2
    return [(prefix + tail, markup), (_fit(" " * indent + detail, width), {})]


def _table_lines(record: dict[str, Any], width: int, verbose: bool) -> list[Line]:
    """The trials, best first (at most MAX_ROWS without -v)."""
    hyperband = "max_epochs" in (record.get("tuner_info") or {})
    id_width = max([5] + [len(t["trial_id"]) for t in record["trials"]])
    budget_col = "ep   " if hyperband else ""
    lines: list[Line] = [(f"     {'trial':<{id_width}}  {'mean +- std':<18}  {'status':<9}  {budget_col}scores", {})]
    ordered = format_order(record)
    shown = ordered if verbose else ordered[:MAX_ROWS]
    for trial in shown:
        lines.extend(_trial_lines(record, trial, id_width, hyperband, width))
    if len(shown) < len(ordered):
        lines.append((f"     ... {len(ordered) - len(shown)} more trials (-v shows all)", {}))
    if not record["trials"]:
        lines.append(("     no trial ran", {"red": True}))
    if record.get("stopped_reason"):
        lines.append((_fit(f"  stopped early: {record['stopped_reason']}", width), {"red": True}))
    if record["best_trial_id"] is None and record["trials"]:
        lines.append(("  no trial completed: the test fails", {"red": True}))
    return lines


def _paragraph(text: str, width: int, markup: dict[str, Any] | None = None) -> list[Line]:
    """text wrapped under a two-space indent, continuation lines at six."""
    wrapped = textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="      ")
    return [(line, dict(markup or {})) for line in wrapped]


def _adaptive_lines(record: dict[str, Any], width: int) -> list[Line]:
    """What executions_per_trial="auto" spent, and whether it decided."""
    adaptive = record.get("adaptive")
    if not adaptive:
        return []
    s = record["settings"]
    text = (
        f"executions auto ({s['min_executions']}-{s['max_executions']}): {record['fits']} fits; "
        f"best trial {record['best_trial_id']} ran {adaptive['executions']}, "
    )
    if adaptive["undecided"]:
        text += (
            f"and its verdict on {', '.join(adaptive['undecided'])} is still not decided at "
            f"{s['confidence']:.0%} confidence "
            + (
                "(the time budget stopped further executions: raise max_time)"
                if (record.get("time_budget") or {}).get("ended_search")
                else "(raise max_executions)"
            )
        )
        if adaptive.get("coin_flip"):
            text += f"; {adaptive['coin_flip']}"
    else:
        text += f"enough to decide every gate at {s['confidence']:.0%} confidence"
    return _paragraph(text, width)


def _neighbourhood_lines(record: dict[str, Any], width: int) -> list[Line]:
    """The share of trials near the best, and the best's one-step neighbours."""
    lines: list[Line] = []
    near = record.get("near_best")
    if near and near["of"] > 1:
        lines.append(
            (
                f"  near the best: {near['near']} of {near['of']} trials within "
                f"{near['epsilon']:g} ({near['share']:.0%})",
                {},
            )
        )
    neighbours = record.get("neighbours")
    if neighbours is None:
        return lines
    best = best_trial(record)
    if neighbours:
        assert best is not None  # neighbours are trained only around a best trial
        lines.append((f"  one step from the best ({len(best['scores'])} executions each, the best's seeds):", {}))
    else:
        lines.append(("  one step from the best: no hyperparameter can move", {}))
    for n in neighbours:
        lines.append((_fit(f"     {describe_neighbour(n)}", width), {"red": True} if n.get("error") else {}))
    return lines


def _estimate_lines(record: dict[str, Any], width: int) -> list[Line]:
    """The expected best at more trials, and the confirmation with fresh seeds."""
    lines: list[Line] = []
    expected = record.get("expected_best")
    if expected:
        text = "expected best at " + ", ".join(f"{k}: {v:.4f}" for k, v in expected.items())
        text += " trials (Dodge et al. 2019; more trials pay if it still climbs)"
        lines.extend(_paragraph(text, width))
    confirmation = record.get("confirmation")
    if confirmation:
        text = (
            f"confirmed with {len(confirmation['scores'])} fresh seeds: {confirmation['mean']:.4f} "
            f"+- {confirmation['std']:.4f} (tuned {confirmation['tuned_mean']:.4f}, gap "
            f"{signed(confirmation['gap'])}); the gates judge these"
        )
        lines.extend(_paragraph(text, width))
    selection = record.get("selection")
    if selection and record["gates"]:
        text = (
            f"the gates judge the best of {selection['trials']} trials: its mean is optimistic "
            "(winner's curse); confirm=N re-runs it with fresh seeds for an unbiased estimate"
        )
        if "interval_level" in selection:
            text += (
                f"; the interval gates use a {selection['interval_level']:.2%} interval (Bonferroni over "
                f"the {selection['trials']} trials) so that selection cannot pass them by luck"
            )
        lines.extend(_paragraph(text, width))
    return lines


def _comparison_lines(record: dict[str, Any], width: int) -> list[Line]:
    """The comparison with the baseline file (--hptune-compare) and its notes."""
    comparison = record.get("comparison")
    if not comparison:
        return []
    from ..verdict.compare import describe as describe_comparison

    bad = comparison["status"] in ("regressed", "inconclusive")
    lines = _paragraph(describe_comparison(comparison), width, {"red": True, "bold": True} if bad else None)
    for note in comparison.get("notes", ()):
        lines.append((_fit(f"  note: {note}", width), {}))
    return lines


def _warning_lines(record: dict[str, Any], width: int) -> list[Line]:
    """What makes the gates' reading doubtful (identical scores, a validation
    set too small for max_std), said before the table and the gates."""
    lines: list[Line] = []
    for item in record.get("advice") or ():
        if item["kind"] in WARNINGS:
            lines.extend(_paragraph(f"warning: {item['text']}", width, {"yellow": True, "bold": True}))
    return lines


def _verdict_lines(record: dict[str, Any], width: int) -> list[Line]:
    """The advice, then each gate's verdict."""
    lines: list[Line] = []
    for item in record.get("advice") or ():
        if item["kind"] not in WARNINGS:
            lines.extend(_paragraph(f"advice: {item['text']}", width, {"yellow": True}))
    for gate in record["gates"]:
        lines.append(
            (
                f"  gate {gate['name']:<9} {describe(gate)}",
                {"green": True} if gate["passed"] else {"red": True, "bold": True},
            )
        )
    if not record["gates"] and record["best_trial_id"] is not None:
        lines.append(("  no gates asked for", {}))
    return lines


def format_search(record: dict[str, Any], width: int = 80, verbose: bool = False) -> list[Line]:
    """A search's block of the summary: (text, markup) lines at most width
    wide (60 at least), the test id whole on the first."""
    width = max(width, 60)
    lines: list[Line] = [(record["nodeid"], {"bold": True})]
    lines += _header_lines(record, width)
    if record.get("error"):
        lines.append((_fit(f"  ERROR: {record['error']}", width), {"red": True}))
        return lines
    lines += _warning_lines(record, width)
    lines += _context_lines(record, width)
    lines += _table_lines(record, width, verbose)
    lines += _adaptive_lines(record, width)
    lines += _neighbourhood_lines(record, width)
    lines += _estimate_lines(record, width)
    lines += _comparison_lines(record, width)
    lines += _verdict_lines(record, width)
    return lines


def is_compact(record: dict[str, Any]) -> bool:
    """A search the default summary shows in one line: it passed, its
    comparison (if any) did not regress, nothing went wrong."""
    comparison = record.get("comparison") or {}
    return bool(record["passed"]) and not record.get("error") and comparison.get("status") in (None, "ok", "missing")


def _verdict_word(record: dict[str, Any]) -> str:
    comparison = record.get("comparison")
    if not comparison:
        return "passed"
    from ..verdict.compare import NOT_COMPARED

    if comparison["status"] == "ok":
        return f"passed, no regression ({signed(comparison['difference'])})"
    if comparison.get("cannot_compare"):
        return "passed, cannot compare (-v says why)"
    return f"passed, {NOT_COMPARED}"


def compact_line(record: dict[str, Any], width: int) -> list[Line]:
    """A passing search in one line (two when the test id is long): test,
    judged mean +- std, trials x executions, time, verdict."""
    best = best_trial(record)
    assert best is not None  # a passing search has a best trial
    confirmation = record.get("confirmation")
    judged = confirmation or best
    what = "confirmed" if confirmation else "best"
    figures = (
        f"{what} {judged['mean']:.4f} +- {judged['std']:.4f}, {len(record['trials'])}x{len(best['scores'])}, "
        f"{record['duration_s']:.1f} s, {_verdict_word(record)}"
    )
    if len(record["nodeid"]) + 2 + len(figures) <= width:
        return [(f"{record['nodeid']}: {figures}", {"green": True})]
    return [(record["nodeid"] + ":", {"green": True}), (_fit("    " + figures, width), {"green": True})]


# Advice a passing search's one line must not hide: trials lost with their
# worker may have held the best configuration.
KEPT_IN_COMPACT = ("lost_trials",)


def _kept_in_compact(record: dict[str, Any], width: int) -> list[Line]:
    lines: list[Line] = []
    for item in record.get("advice") or ():
        if item["kind"] in KEPT_IN_COMPACT:
            lines.extend(_paragraph(f"advice: {item['text']}", width, {"yellow": True}))
    return lines


def format_summary(records: Iterable[dict[str, Any]], width: int, verbose: bool) -> list[Line]:
    """Every search's block with -v; otherwise one line per passing search
    (compact_line) and the whole block for the others."""
    width = max(width, 60)
    records = list(records)
    out: list[Line] = []
    compact = [] if verbose else [r for r in records if is_compact(r)]
    if compact:
        out.append(("passed (best mean +- std, trials x executions, time; -v shows every table):", {}))
        for record in compact:
            out.extend(compact_line(record, width))
            out.extend(_kept_in_compact(record, width))
    for record in records:
        if any(record is c for c in compact):
            continue
        if out:
            out.append(("", {}))
        out.extend(format_search(record, width, verbose))
    return out
