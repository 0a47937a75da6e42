"""The ``hptune`` section of pytest's terminal summary.

Renders from search records (plain dicts), so the same code serves a local
run and records shipped from pytest-xdist workers. Returns (text, markup)
pairs; the plugin writes them with the terminal reporter.
"""

from __future__ import annotations

import textwrap
from typing import Any, Iterable

from ..settings import executions_text
from ..verdict.gates import describe
from ..verdict.message import describe_neighbour
from ..verdict.message import num as _num

Line = tuple[str, dict]
MAX_ROWS = 10  # trials shown per search without -v




def format_hyperparameters(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_num(v)}" for k, v in values.items()) or "(no hyperparameters)"


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


def _hyperband_lines(record: dict, width: int) -> list[Line]:
    info = record["tuner_info"]
    full = info["max_epochs"]
    brackets = "; ".join(
        " -> ".join(f"{r['trials']}x{r['epochs']}ep" for r in b["rounds"]) for b in info["brackets"]
    )
    used = len(info["brackets"])
    lines = _wrapped(
        f"  hyperband: max_epochs {full}, factor {info['factor']}, "
        f"{used} of {info['all_brackets']} brackets:",
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


def trial_cells(trial: dict) -> tuple[str, str]:
    """(mean ± std, scores) of a completed trial, ("-", why) of another:
    the cells of the Markdown and HTML tables."""
    if trial["status"] == "COMPLETED" and trial["mean"] is not None:
        return (
            f"{trial['mean']:.4f} ± {trial['std']:.4f}",
            " ".join(f"{v:.4f}" for v in trial["scores"]),
        )
    return "-", trial.get("message") or ""


def format_order(record: dict) -> list[dict]:
    """Best first, then the other completed trials by rank (Hyperband: the
    largest budget first), then the rest."""
    trials = record["trials"]
    done = [t for t in trials if t["status"] == "COMPLETED" and t["mean"] is not None]
    sign = -1 if record["objective"]["direction"] == "max" else 1
    done.sort(key=lambda t: (-(t.get("budget") or 0), sign * t["mean"]))
    return done + [t for t in trials if t not in done]


def format_search(record: dict, width: int = 80, verbose: bool = False) -> list[Line]:
    width = max(width, 60)
    s = record["settings"]
    objective = record["objective"]
    info = record.get("tuner_info") or {}
    lines: list[Line] = [(record["nodeid"], {"bold": True})]
    if record["tuner"] == "sklearn":
        folds = info.get("folds") or s.get("executions_per_trial") or "?"
        runs = f"{s['max_trials']} trials x {folds} folds"
        epochs = f"oracle {info.get('oracle') or s.get('oracle') or 'random'}"
    else:
        runs = f"{s['max_trials']} trials x {executions_text(s)} executions"
        if "max_epochs" in info:
            epochs = f"max_epochs {info['max_epochs']}"
        else:
            epochs = "epochs " + ("fit default" if s.get("epochs") is None else str(s["epochs"]))
    parts = [
        f"{record['tuner']} search",
        f"objective {objective['name']} ({objective['direction']})",
        runs,
        epochs,
        f"seed {s['seed']}",
        f"{record['duration_s']:.1f} s",
    ]
    line = " "
    for part in parts:
        if len(line) + len(part) + 2 > width and line.strip():
            lines.append((line.rstrip(","), {}))
            line = "   "
        line += f" {part},"
    lines.append((line.rstrip(","), {}))
    if record.get("error"):
        lines.append((_fit(f"  ERROR: {record['error']}", width), {"red": True}))
        return lines

    resume = record.get("resume")
    if resume:
        if resume["resumed"]:
            text = f"  resumed: {resume['reused_trials']} completed trials reused"
        else:
            text = f"  started fresh: {resume['reason']}"
        lines.extend((line, {}) for line in textwrap.wrap(text, width, subsequent_indent="    "))
    if info.get("workers"):
        exits = ", ".join(
            f"{w['id']} " + ("ok" if w["exit_code"] == 0 else f"exit {w['exit_code']}")
            for w in info["workers"]
        )
        lines.append((_fit(f"  workers: {exits}; chief {info['chief']}", width), {}))
    if record.get("search_space"):
        lines.extend(
            _wrapped(
                "  search space:",
                [format_hyperparameter(e) for e in record["search_space"]],
                width,
            )
        )
    hyperband = "max_epochs" in info
    if hyperband:
        lines.extend(_hyperband_lines(record, width))
    id_width = max([5] + [len(t["trial_id"]) for t in record["trials"]])
    budget_col = "ep   " if hyperband else ""
    head = f"     {'trial':<{id_width}}  {'mean +- std':<18}  {'status':<9}  {budget_col}scores"
    lines.append((head, {}))
    indent = 5 + id_width + 2
    ordered = format_order(record)
    shown = ordered if verbose else ordered[:MAX_ROWS]
    for trial in shown:
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
        markup = {"green": True, "bold": True} if best else (
            {"red": True} if trial["status"] != "COMPLETED" else {}
        )
        lines.append((prefix + tail, markup))
        detail = format_hyperparameters(trial["hyperparameters"])
        if trial.get("interval"):
            low, high = trial["interval"]
            detail = f"CI {low:.4f}..{high:.4f}; {detail}"
        lines.append((_fit(" " * indent + detail, width), {}))
    if len(shown) < len(ordered):
        lines.append((f"     ... {len(ordered) - len(shown)} more trials (-v shows all)", {}))
    if not record["trials"]:
        lines.append(("     no trial ran", {"red": True}))
    if record.get("stopped_reason"):
        lines.append((_fit(f"  stopped early: {record['stopped_reason']}", width), {"red": True}))
    if record["best_trial_id"] is None and record["trials"]:
        lines.append(("  no trial completed: the test fails", {"red": True}))
    adaptive = record.get("adaptive")
    if adaptive:
        text = (
            f"executions auto ({s['min_executions']}-{s['max_executions']}): {record['fits']} fits; "
            f"best trial {record['best_trial_id']} ran {adaptive['executions']}, "
        )
        if adaptive["undecided"]:
            text += (
                f"and its verdict on {', '.join(adaptive['undecided'])} is still not decided at "
                f"{s['confidence']:.0%} confidence (raise max_executions)"
            )
        else:
            text += f"enough to decide every gate at {s['confidence']:.0%} confidence"
        lines.extend(
            (line, {}) for line in textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="      ")
        )
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
    if neighbours is not None:
        best = next(t for t in record["trials"] if t["trial_id"] == record["best_trial_id"])
        lines.append(
            (
                f"  one step from the best ({len(best['scores'])} executions each, the best's seeds):"
                if neighbours else "  one step from the best: no hyperparameter can move",
                {},
            )
        )
        for n in neighbours:
            lines.append((_fit(f"     {describe_neighbour(n)}", width), {"red": True} if n.get("error") else {}))
    expected = record.get("expected_best")
    if expected:
        text = "expected best at " + ", ".join(f"{k}: {v:.4f}" for k, v in expected.items())
        text += " trials (Dodge et al. 2019; more trials pay if it still climbs)"
        lines.extend(
            (line, {}) for line in textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="      ")
        )
    confirmation = record.get("confirmation")
    if confirmation:
        text = (
            f"confirmed with {len(confirmation['scores'])} fresh seeds: {confirmation['mean']:.4f} "
            f"+- {confirmation['std']:.4f} (tuned {confirmation['tuned_mean']:.4f}, gap "
            f"{confirmation['gap']:+.4f}); the gates judge these"
        )
        lines.extend(
            (line, {}) for line in textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="      ")
        )
    comparison = record.get("comparison")
    if comparison:
        from ..verdict.compare import describe as describe_comparison

        bad = comparison["status"] == "regressed"
        wrapped = textwrap.wrap(
            describe_comparison(comparison), width, initial_indent="  ", subsequent_indent="      "
        )
        lines.extend((line, {"red": True, "bold": True} if bad else {}) for line in wrapped)
        for note in comparison.get("notes", ()):
            lines.append((_fit(f"  note: {note}", width), {}))
    for item in record.get("advice") or ():
        lines.extend(
            (line, {"yellow": True})
            for line in textwrap.wrap(
                f"advice: {item['text']}", width, initial_indent="  ", subsequent_indent="      "
            )
        )
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


def format_summary(records: Iterable[dict], width: int, verbose: bool) -> list[Line]:
    out: list[Line] = []
    for i, record in enumerate(records):
        if i:
            out.append(("", {}))
        out.extend(format_search(record, width, verbose))
    return out




def robustness_lines(record: dict) -> list[str]:
    """The neighbours and the advice of a search as plain lines, for the
    Markdown and HTML reports."""
    lines = [f"one step from the best: {describe_neighbour(n)}" for n in record.get("neighbours") or ()]
    lines += [f"advice: {item['text']}" for item in record.get("advice") or ()]
    return lines
