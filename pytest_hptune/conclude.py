"""A search's verdict as the test's outcome: a failed test with the failure
message, the advice that is also a warning, and a comparison that could
not be made (an unusable baseline, a missing entry under
--hptune-compare-strict)."""

from __future__ import annotations

import warnings
from typing import Any

import pytest

from .verdict import advice
from .verdict.message import failure_message


def conclude(item: pytest.Item, record: dict[str, Any], compare_strict: bool) -> None:
    """Fail the test on a failed verdict. A missing baseline entry is no
    skip: the gates judged the search, and the reports say it was not
    compared (--hptune-compare-strict fails it)."""
    __tracebackhide__ = True
    problems = [failure_message(record), warn(item, record)]
    if any(problems):
        problems.append(f"(every trial of this search: the hptune section of the summary below, {record['nodeid']})")
        pytest.fail("\n".join(p for p in problems if p), pytrace=False)
    comparison = record.get("comparison")
    if comparison and comparison["status"] == "broken":
        pytest.fail(f"hptune: {comparison['reason']} (an unusable baseline fails the comparison)", pytrace=False)
    if comparison and comparison["status"] == "missing" and compare_strict:
        pytest.fail(f"hptune: {comparison['reason']} (--hptune-compare-strict)", pytrace=False)


def warn(item: pytest.Item, record: dict[str, Any]) -> str | None:
    """The advice that is also a warning (HptuneAdvice: identical scores,
    a validation set too small for max_std), once the search is
    recorded, attributed to the test's own file and line (pytest's
    warnings summary names the test, not the plugin); under
    ``-W error::pytest_hptune.HptuneAdvice`` it fails the test with its
    text (returned) instead of a traceback."""
    filename = str(item.path)
    lineno = (item.location[1] or 0) + 1
    for entry in record.get("advice") or ():
        if entry["kind"] not in advice.WARNINGS:
            continue
        message = advice.HptuneAdvice(f"{item.nodeid}: {entry['text']}")
        try:
            warnings.warn_explicit(message, advice.HptuneAdvice, filename, lineno, module=item.nodeid)
        except advice.HptuneAdvice as exc:
            return f"hptune: {exc} (a warning turned into an error)"
    return None
