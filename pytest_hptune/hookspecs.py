"""The hooks pytest-hptune declares (added by ``pytest_addhooks`` in
``plugin.py``). Implement them in a ``conftest.py`` or a plugin, as any
pytest hook; pytest checks the argument names against these specs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .reports.outcome import ReportOutcome


@pytest.hookspec
def pytest_hptune_write_reports(
    config: pytest.Config, records: list[dict[str, Any]]
) -> list[ReportOutcome] | ReportOutcome | None:
    """Write a report of the session's searches.

    Called once per session, from ``pytest_sessionfinish``, in the process
    that reports: the pytest-xdist controller, never its workers. Also when no
    search ran (``records`` is empty) and after an interrupted run (with the
    searches that finished).

    :param config: the pytest config (options, ini values, ``rootpath``).
    :param records: one dict per search, every search of the session exactly
        once (also under pytest-xdist), in the order their tests reported: the
        ``tests`` of the JSON report (see the README's "JSON report"). Plain,
        JSON-serialisable data; treat it as read-only: the ``hptune`` terminal
        section is rendered from the same dicts afterwards.

    Return a ``pytest_hptune.reports.outcome.ReportOutcome`` or a list of
    them, a line each in the ``hptune`` terminal section:
    ``ReportOutcome.written("my report", path)`` shows "my report: PATH";
    ``ReportOutcome.failed("my report", path, exc)`` or
    ``ReportOutcome(text, problem=True)`` a problem (in red, after
    ``hptune: ``). ``None`` or ``[]`` shows nothing. A problem (or an
    exception) makes a run that passed exit with code 1, unless
    ``--hptune-report-errors=warn``.
    ``outcome.write_report(what, path, write, records)`` calls
    ``write(path, records)`` and returns its outcome, an exception included.

    Each implementation is called on its own: an exception that escapes one
    is shown as a problem naming its plugin, and the others still run. The
    built-in reports are plugins too (``hptune-json``, ``hptune-markdown``,
    ``hptune-baseline``, ``hptune-plot``, ``hptune-html`` and
    ``hptune-step-summary``), with ``tryfirst=True``: their lines come first.
    """
